import { requireAdmin } from "../admin-access.js";
import { runMutation } from "../admin-mutation.js";
import type { Actor, KeySecretRecord } from "../api-key.js";
import { DomainError } from "../errors.js";
import { requireEtag, validateEtag } from "../etag.js";
import type { IssuedKey, RotateKeyInput } from "../key-admin.js";
import { validateExpiry, validateRotationOverlap } from "../validation.js";
import { KEY_EXPIRED, type KeyContext, requireChangeable, sameInstant } from "./key-context.js";

/**
 * rotateKey issues a new secret (admins). Overlap: 0 to 7 days, never beyond the key's expiry before or after
 * the rotation; only the secret just superseded overlaps (older ones stop at once). An expired key can be
 * rotated only with a new expire_time. Of concurrent rotations one wins, the others answer ABORTED (never
 * two live new secrets).
 */
export async function rotateKey(ctx: KeyContext, actor: Actor, input: RotateKeyInput): Promise<IssuedKey> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key_id");
  const now = ctx.clock.now();
  // Bounds that need no key come first; the bound by the key's expiry is checked once it is read.
  validateRotationOverlap(input.overlapMs, now, null, "overlap");
  const newExpiry = input.expiresAt === null ? null : validateExpiry(input.expiresAt, now, "expire_time");
  const etag = validateEtag(input.etag ?? "", "etag");
  return runMutation<IssuedKey>(ctx, {
    actor,
    operation: "RotateKey",
    requestId: input.requestId,
    parameters: { keyId, overlapMs: input.overlapMs, expiresAt: newExpiry?.getTime() ?? null, etag },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      requireEtag("key", first, etag);
      requireChangeable(first);
      const expiresAt = newExpiry ?? first.expiresAt;
      if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
        throw new DomainError(
          "failed_precondition",
          `key ${keyId} has expired; rotate it with a new expire_time to use it again`,
          { reason: KEY_EXPIRED },
        );
      }
      // The superseded secret may overlap neither beyond the expiry it was issued with nor the new one.
      validateRotationOverlap(input.overlapMs, now, earliest(first.expiresAt, expiresAt), "overlap");
      const generated = ctx.keyFormat.generateSecretFor(keyId, ctx.random);
      const { hash, pepperVersion } = ctx.hasher.hash(generated.key);
      const { before, after } = await ctx.writeKey(
        actor,
        first,
        (current) => {
          const previous = current.secrets.at(-1);
          const secret: KeySecretRecord = {
            generation: (previous?.generation ?? 0) + 1,
            hash,
            pepperVersion,
            hint: generated.hint,
            createdAt: now,
            expiresAt: null,
          };
          const secrets =
            input.overlapMs > 0 && previous !== undefined
              ? [{ ...previous, expiresAt: new Date(now.getTime() + input.overlapMs) }, secret]
              : [secret];
          return { ...current, secrets, expiresAt, updatedAt: now, version: current.version + 1 };
        },
        { etag, retry: false },
      );
      const outcome = await ctx.changed(after, now, {
        action: "key_rotated",
        before,
        changedFields: sameInstant(first.expiresAt, expiresAt) ? ["secrets"] : ["secrets", "expire_time"],
      });
      const secret = { key: generated.key, secretKey: generated.secretKey };
      return { ...outcome, value: { key: outcome.value, secret, secretAlreadyIssued: false } };
    },
    replay: async (stored) => ({
      key: await ctx.replayKey(actor, stored),
      secret: null,
      secretAlreadyIssued: true,
    }),
  });
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null || b === null) {
    return a ?? b;
  }
  return a.getTime() <= b.getTime() ? a : b;
}
