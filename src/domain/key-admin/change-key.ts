import { requireAdmin } from "../admin-access.js";
import { runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor, ApiKeyRecord } from "../api-key.js";
import type { AdminAction } from "../audit-event.js";
import { validateEtag } from "../etag.js";
import type { DeleteKeyInput } from "../key-admin.js";
import { validateReason } from "../validation.js";
import type { KeyContext } from "./key-context.js";

/** KeyChange is what the one-key lifecycle mutations (revoke, disable, enable, delete) differ in. */
export interface KeyChange {
  readonly operation: string;
  readonly action: AdminAction;
  /** reason is the client's reason for a mutation that takes one (validated after the key id). */
  readonly reason?: string;
  /** change gives the key to write (new version included), or null when it already is as asked. */
  readonly change: (current: ApiKeyRecord, now: Date, reason: string) => ApiKeyRecord | null;
  readonly changedFields: (reason: string) => readonly string[];
  /** releaseSlotFailure is set for a change that moves a key out of the tenant's count (its write frees it). */
  readonly releaseSlotFailure?: string;
}

/** changeKey runs one lifecycle change of a live key (admins), at most once per request id. */
export async function changeKey(
  ctx: KeyContext,
  actor: Actor,
  input: DeleteKeyInput,
  how: KeyChange,
): Promise<KeyView> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key_id");
  const reason = how.reason === undefined ? undefined : validateReason(how.reason, "reason");
  const etag = validateEtag(input.etag ?? "", "etag");
  const now = ctx.clock.now();
  return runMutation(ctx, {
    actor,
    operation: how.operation,
    requestId: input.requestId,
    parameters: reason === undefined ? { keyId, etag } : { keyId, reason, etag },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      const { before, after, written } = await ctx.writeKey(
        actor,
        first,
        (current) => how.change(current, now, reason ?? ""),
        { etag },
      );
      if (written && how.releaseSlotFailure !== undefined && before.revokedAt === null) {
        await ctx.releaseSlot(after.tenantId, how.releaseSlotFailure);
      }
      return ctx.changed(
        after,
        now,
        written ? { action: how.action, changedFields: how.changedFields(reason ?? ""), before } : null,
      );
    },
    replay: (stored) => ctx.replayKey(actor, stored),
  });
}
