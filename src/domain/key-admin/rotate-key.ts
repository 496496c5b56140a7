import { requireAdmin } from "../admin-access.js";
import { type MutationOutcome, runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor, ApiKeyRecord, KeySecretRecord } from "../api-key.js";
import { DomainError } from "../errors.js";
import { requireEtag, validateEtag } from "../etag.js";
import type { IssuedKey, RotateKeyInput } from "../key-admin.js";
import type { GeneratedKey } from "../key-format.js";
import { requestEventId, withinRequestRetention } from "../request-fence.js";
import { validateExpiry, validateRotationOverlap } from "../validation.js";
import { KEY_EXPIRED, type KeyContext, requireChangeable, sameInstant } from "./key-context.js";

/**
 * rotateKey issues a new secret; only the one just superseded may overlap (older ones stop at once). Of
 * concurrent rotations one wins and the others answer ABORTED: never two live new secrets.
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
    async run(requestId) {
      const first = await ctx.liveKey(actor, keyId);
      if (requestId !== null && isEarlierRotation(first, requestId, now)) {
        return reissueRotation(ctx, actor, first, now, requestId);
      }
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
          // The key remembers the request id of its last rotation (none: "" once it ever had one).
          const fence =
            requestId !== null || current.rotateRequestId !== undefined
              ? { rotateRequestId: requestId ?? "" }
              : {};
          return { ...current, ...fence, secrets, expiresAt, updatedAt: now, version: current.version + 1 };
        },
        { etag, retry: false },
      );
      const outcome = await ctx.changed(after, now, {
        action: "key_rotated",
        before,
        changedFields: sameInstant(first.expiresAt, expiresAt) ? ["secrets"] : ["secrets", "expire_time"],
      });
      return issuedRotation(outcome, after, requestId, generated);
    },
    replay: async (stored) => ({
      key: await ctx.replayKey(actor, stored),
      secret: null,
      secretAlreadyIssued: true,
    }),
  });
}

/** isEarlierRotation: the newest secret is an earlier attempt's rotation (its answer never arrived). */
function isEarlierRotation(key: ApiKeyRecord, requestId: string, now: Date): boolean {
  const newest = key.secrets.at(-1);
  return (
    key.rotateRequestId === requestId && newest !== undefined && withinRequestRetention(newest.createdAt, now)
  );
}

/**
 * reissueRotation gives the secret of an earlier attempt's rotation, which reached nobody, a fresh value
 * instead of rotating twice; that attempt checked the etag and expiry against the key it rotated.
 */
async function reissueRotation(
  ctx: KeyContext,
  actor: Actor,
  first: ApiKeyRecord,
  now: Date,
  requestId: string,
): Promise<MutationOutcome<IssuedKey>> {
  requireChangeable(first);
  const generated = ctx.keyFormat.generateSecretFor(first.id, ctx.random);
  const { hash, pepperVersion } = ctx.hasher.hash(generated.key);
  const { after, written } = await ctx.writeKey(
    actor,
    first,
    (current) => {
      const newest = current.secrets.at(-1);
      if (newest === undefined || !isEarlierRotation(current, requestId, now)) {
        return null;
      }
      const secrets = [
        ...current.secrets.slice(0, -1),
        { ...newest, hash, pepperVersion, hint: generated.hint },
      ];
      return { ...current, secrets, updatedAt: now, version: current.version + 1 };
    },
    { etag: null, retry: false },
  );
  if (!written) {
    throw new DomainError("aborted", `the key ${first.id} was changed concurrently; try again`);
  }
  // The event is the rotation's (one id for every attempt): what it changed is the newest secret's arrival.
  const outcome = await ctx.changed(after, now, {
    action: "key_rotated",
    before: { ...after, secrets: after.secrets.slice(0, -1) },
    changedFields: ["secrets"],
  });
  return issuedRotation(outcome, after, requestId, generated);
}

/** issuedRotation: under a request id, every attempt records the same event id, stored once. */
function issuedRotation(
  outcome: MutationOutcome<KeyView>,
  after: ApiKeyRecord,
  requestId: string | null,
  generated: GeneratedKey,
): MutationOutcome<IssuedKey> {
  const secret = { key: generated.key, secretKey: generated.secretKey };
  const value = { key: outcome.value, secret, secretAlreadyIssued: false };
  if (requestId === null || outcome.audit === null) {
    return { ...outcome, value };
  }
  const generation = after.secrets.at(-1)?.generation ?? 0;
  const eventId = requestEventId([after.tenantId, requestId, after.id, "key_rotated", generation]);
  return { ...outcome, value, audit: { ...outcome.audit, target: { ...outcome.audit.target, eventId } } };
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null || b === null) {
    return a ?? b;
  }
  return a.getTime() <= b.getTime() ? a : b;
}
