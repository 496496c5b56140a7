import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import type { DeleteKeyInput, RevokeKeyInput } from "../key-admin.js";
import { changeKey } from "./change-key.js";
import { type KeyContext, requireChangeable } from "./key-context.js";

/** disableKey turns a key off until enabled again; it keeps its tenant slot (it can come back). */
export function disableKey(ctx: KeyContext, actor: Actor, input: RevokeKeyInput): Promise<KeyView> {
  return changeKey(ctx, actor, input, {
    operation: "DisableKey",
    action: "key_disabled",
    reason: input.reason,
    change: (current, now, reason) => {
      requireChangeable(current);
      return current.disabledAt !== null
        ? null
        : {
            ...current,
            disabledAt: now,
            disabledBy: actor.keyId,
            disableReason: reason,
            updatedAt: now,
            version: current.version + 1,
          };
    },
    changedFields: (reason) => (reason === "" ? ["disable_time"] : ["disable_time", "disable_reason"]),
  });
}

/** enableKey turns a disabled key on again (admins); enabling a key that is not disabled changes nothing. */
export function enableKey(ctx: KeyContext, actor: Actor, input: DeleteKeyInput): Promise<KeyView> {
  return changeKey(ctx, actor, input, {
    operation: "EnableKey",
    action: "key_enabled",
    // EnableKey takes no reason; its request fingerprint has always carried an empty one.
    reason: "",
    change: (current, now) => {
      requireChangeable(current);
      return current.disabledAt === null
        ? null
        : {
            ...current,
            disabledAt: null,
            disabledBy: "",
            disableReason: "",
            updatedAt: now,
            version: current.version + 1,
          };
    },
    changedFields: () => ["disable_time"],
  });
}
