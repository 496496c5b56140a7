import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import type { DeleteKeyInput } from "../key-admin.js";
import { changeKey } from "./change-key.js";
import type { KeyContext } from "./key-context.js";

/** deleteKey marks a key deleted (admins); a key not yet revoked gives its tenant slot back. */
export function deleteKey(ctx: KeyContext, actor: Actor, input: DeleteKeyInput): Promise<KeyView> {
  return changeKey(ctx, actor, input, {
    operation: "DeleteKey",
    action: "key_deleted",
    change: (current, now) => ({ ...current, deletedAt: now, version: current.version + 1 }),
    changedFields: () => ["delete_time"],
    releaseSlotFailure: "releasing the key slot of a deleted key failed",
  });
}
