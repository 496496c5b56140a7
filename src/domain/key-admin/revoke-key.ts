import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import type { RevokeKeyInput } from "../key-admin.js";
import { changeKey } from "./change-key.js";
import type { KeyContext } from "./key-context.js";

/** revokeKey revokes for good; only the write that revoked frees the slot, so concurrent revokes free one. */
export function revokeKey(ctx: KeyContext, actor: Actor, input: RevokeKeyInput): Promise<KeyView> {
  return changeKey(ctx, actor, input, {
    operation: "RevokeKey",
    action: "key_revoked",
    reason: input.reason,
    change: (current, now, reason) =>
      current.revokedAt !== null
        ? null
        : {
            ...current,
            revokedAt: now,
            revokedBy: actor.keyId,
            revokeReason: reason,
            updatedAt: now,
            version: current.version + 1,
          },
    changedFields: (reason) => (reason === "" ? ["revoke_time"] : ["revoke_time", "revoke_reason"]),
    releaseSlotFailure: "releasing the key slot of a revoked key failed",
  });
}
