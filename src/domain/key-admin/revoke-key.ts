import { requireAdmin } from "../admin-access.js";
import { runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import { DomainError } from "../errors.js";
import { validateEtag } from "../etag.js";
import type { RevokeKeyInput } from "../key-admin.js";
import { validateReason } from "../validation.js";
import type { KeyContext } from "./key-context.js";

/**
 * revokeKey revokes a key for good (admins); revoking a revoked key succeeds and changes nothing. Only the
 * write that moved the key out of the tenant's count gives its slot back, so concurrent revokes free one.
 */
export async function revokeKey(ctx: KeyContext, actor: Actor, input: RevokeKeyInput): Promise<KeyView> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key_id");
  const reason = validateReason(input.reason, "reason");
  const etag = validateEtag(input.etag ?? "", "etag");
  const now = ctx.clock.now();
  return runMutation(ctx, {
    actor,
    operation: "RevokeKey",
    requestId: input.requestId,
    parameters: { keyId, reason, etag },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      const { before, after, written } = await ctx.writeKey(
        actor,
        first,
        (current) => {
          if (current.deletedAt !== null) {
            throw new DomainError("not_found", `key ${keyId} not found`);
          }
          if (current.revokedAt !== null) {
            return null;
          }
          return {
            ...current,
            revokedAt: now,
            revokedBy: actor.keyId,
            revokeReason: reason,
            updatedAt: now,
            version: current.version + 1,
          };
        },
        { etag },
      );
      if (written) {
        await ctx.releaseSlot(after.tenantId, "releasing the key slot of a revoked key failed");
      }
      const changedFields = reason === "" ? ["revoke_time"] : ["revoke_time", "revoke_reason"];
      return ctx.changed(after, now, written ? { action: "key_revoked", changedFields, before } : null);
    },
    replay: (stored) => ctx.replayKey(actor, stored),
  });
}
