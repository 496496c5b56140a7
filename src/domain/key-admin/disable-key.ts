import { requireAdmin } from "../admin-access.js";
import { runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor, ApiKeyRecord } from "../api-key.js";
import type { AdminAction } from "../audit-event.js";
import { validateEtag } from "../etag.js";
import type { DeleteKeyInput, RevokeKeyInput } from "../key-admin.js";
import { validateReason } from "../validation.js";
import { type KeyContext, requireChangeable } from "./key-context.js";

/**
 * disableKey turns a key off until enableKey turns it on again (admins): VerifyKey answers DISABLED on every
 * replica before the answer. The key keeps its tenant slot (it can come back). Disabling a disabled key
 * succeeds and changes nothing; a revoked key cannot be disabled (revocation is final).
 */
export function disableKey(ctx: KeyContext, actor: Actor, input: RevokeKeyInput): Promise<KeyView> {
  const reason = validateReason(input.reason, "reason");
  return switchKey(ctx, actor, input, {
    operation: "DisableKey",
    action: "key_disabled",
    reason,
    change: (current, now) =>
      current.disabledAt !== null
        ? null
        : { ...current, disabledAt: now, disabledBy: actor.keyId, disableReason: reason },
    changedFields: reason === "" ? ["disable_time"] : ["disable_time", "disable_reason"],
  });
}

/** enableKey turns a disabled key on again (admins); enabling a key that is not disabled changes nothing. */
export function enableKey(ctx: KeyContext, actor: Actor, input: DeleteKeyInput): Promise<KeyView> {
  return switchKey(ctx, actor, input, {
    operation: "EnableKey",
    action: "key_enabled",
    reason: "",
    change: (current) =>
      current.disabledAt === null
        ? null
        : { ...current, disabledAt: null, disabledBy: "", disableReason: "" },
    changedFields: ["disable_time"],
  });
}

/** KeySwitch is what disabling and enabling differ in. */
interface KeySwitch {
  readonly operation: string;
  readonly action: AdminAction;
  readonly reason: string;
  /** change gives the key switched (without version and update time), or null when it already is. */
  readonly change: (current: ApiKeyRecord, now: Date) => ApiKeyRecord | null;
  readonly changedFields: readonly string[];
}

async function switchKey(
  ctx: KeyContext,
  actor: Actor,
  input: DeleteKeyInput,
  how: KeySwitch,
): Promise<KeyView> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key_id");
  const etag = validateEtag(input.etag ?? "", "etag");
  const now = ctx.clock.now();
  return runMutation(ctx, {
    actor,
    operation: how.operation,
    requestId: input.requestId,
    parameters: { keyId, reason: how.reason, etag },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      const { before, after, written } = await ctx.writeKey(
        actor,
        first,
        (current) => {
          requireChangeable(current);
          const next = how.change(current, now);
          return next === null ? null : { ...next, updatedAt: now, version: current.version + 1 };
        },
        { etag },
      );
      return ctx.changed(
        after,
        now,
        written ? { action: how.action, changedFields: how.changedFields, before } : null,
      );
    },
    replay: (stored) => ctx.replayKey(actor, stored),
  });
}
