import { requireAdmin } from "../admin-access.js";
import { runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import { DomainError } from "../errors.js";
import { validateEtag } from "../etag.js";
import type { DeleteKeyInput } from "../key-admin.js";
import type { KeyContext } from "./key-context.js";

/** deleteKey marks a key deleted (admins); a key not yet revoked gives its tenant slot back. */
export async function deleteKey(ctx: KeyContext, actor: Actor, input: DeleteKeyInput): Promise<KeyView> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key_id");
  const etag = validateEtag(input.etag ?? "", "etag");
  const now = ctx.clock.now();
  return runMutation(ctx, {
    actor,
    operation: "DeleteKey",
    requestId: input.requestId,
    parameters: { keyId, etag },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      const { before, after } = await ctx.writeKey(
        actor,
        first,
        (current) => {
          if (current.deletedAt !== null) {
            throw new DomainError("not_found", `key ${keyId} not found`);
          }
          return { ...current, deletedAt: now, version: current.version + 1 };
        },
        { etag },
      );
      if (before.revokedAt === null) {
        await ctx.releaseSlot(after.tenantId, "releasing the key slot of a deleted key failed");
      }
      return ctx.changed(after, now, { action: "key_deleted", changedFields: ["delete_time"], before });
    },
    replay: (stored) => ctx.replayKey(actor, stored),
  });
}
