/**
 * Issuing a new key, shared by CreateKey and Bootstrap: reserve a tenant slot first, insert under a fresh id
 * (derived from the request id when there is one: request-fence.ts); give the slot back if nothing was stored.
 */
import { IDEMPOTENCY_MISMATCH } from "./admin-mutation.js";
import { type ApiKeyRecord, type KeySettings, keySettingsOf, type Labels } from "./api-key.js";
import { DomainError } from "./errors.js";
import type { GeneratedKey, KeyFormat } from "./key-format.js";
import type { KeyHasher } from "./key-hash.js";
import { NO_LABELS } from "./labels.js";
import type { KeyRepository, RandomSource, TenantRepository } from "./ports.js";
import { requestKeyId, withinRequestRetention } from "./request-fence.js";

/** TENANT_KEY_LIMIT_EXCEEDED is the reason of the RESOURCE_EXHAUSTED for a tenant at its key limit. */
export const TENANT_KEY_LIMIT_EXCEEDED = "TENANT_KEY_LIMIT_EXCEEDED";

/** MAX_ID_ATTEMPTS bounds the retries on a key id collision (≈ 95 random bits: never expected to repeat). */
const MAX_ID_ATTEMPTS = 5;

export interface KeyIssuerDependencies {
  readonly keys: KeyRepository;
  readonly tenants: TenantRepository;
  readonly random: RandomSource;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly defaultKeyLimit: number;
}

export interface KeySpec extends KeySettings, Pick<ApiKeyRecord, "expiresAt" | "createdBy"> {
  /** labels are validated labels; absent = none. */
  readonly labels?: Labels;
}

/** IssuedKeyRecord is the stored record and, once, the generated key with its secret. */
export interface IssuedKeyRecord {
  readonly record: ApiKeyRecord;
  /** generated holds the secret (key, secretKey): hand it to the caller once and drop it. */
  readonly generated: GeneratedKey;
}

export async function issueKey(
  deps: KeyIssuerDependencies,
  spec: KeySpec,
  now: Date,
): Promise<IssuedKeyRecord> {
  return reserveAndInsert(deps, spec, () => {
    const generated = deps.keyFormat.generate(deps.random);
    return { generated, record: newKeyRecord(deps, spec, generated, now) };
  });
}

/** RequestIssuedKeyRecord is an issued key and whether an earlier attempt of its request had stored it. */
export interface RequestIssuedKeyRecord extends IssuedKeyRecord {
  /** earlier: the key is the one an earlier attempt stored; its secret was replaced (announce the change). */
  readonly earlier: boolean;
}

/**
 * issueKeyForRequest issues the one key of a CreateKey request id under its derived id, or the key an earlier
 * attempt stored with a fresh secret in place of the one nobody received (still generation 1).
 */
export async function issueKeyForRequest(
  deps: KeyIssuerDependencies,
  spec: KeySpec,
  now: Date,
  requestId: string,
): Promise<RequestIssuedKeyRecord> {
  const keyId = requestKeyId(deps.keyFormat.prefix, spec.tenantId, requestId);
  // Looked up before reserving: a tenant at its limit because of the earlier attempt's key still gets it.
  const stored = await deps.keys.findById(keyId);
  if (stored !== null) {
    return reissueEarlier(deps, stored, spec, now, requestId);
  }
  try {
    const issued = await reserveAndInsert(
      deps,
      spec,
      () => {
        const generated = deps.keyFormat.generateSecretFor(keyId, deps.random);
        const record = { ...newKeyRecord(deps, spec, generated, now), createRequestId: requestId };
        return { generated, record };
      },
      1,
    );
    return { ...issued, earlier: false };
  } catch (error) {
    if (!(error instanceof DomainError && error.kind === "already_exists")) {
      throw error;
    }
  }
  // The earlier attempt's insert landed between the lookup and ours (ours gave its slot back).
  const landed = await deps.keys.findById(keyId);
  if (landed === null) {
    throw new DomainError("aborted", "the key of this request_id changed concurrently; try again");
  }
  return reissueEarlier(deps, landed, spec, now, requestId);
}

/** reissueEarlier: only the same creation, untouched and within retention, gets a fresh first secret. */
async function reissueEarlier(
  deps: KeyIssuerDependencies,
  stored: ApiKeyRecord,
  spec: KeySpec,
  now: Date,
  requestId: string,
): Promise<RequestIssuedKeyRecord> {
  const sameCreation =
    stored.tenantId === spec.tenantId &&
    stored.createRequestId === requestId &&
    withinRequestRetention(stored.createdAt, now) &&
    creationParameters(stored) === creationParameters(spec);
  if (!sameCreation) {
    throw new DomainError(
      "failed_precondition",
      "request_id was already used to create another key; use a new request_id for a new request",
      { reason: IDEMPOTENCY_MISMATCH },
    );
  }
  const [first, ...others] = stored.secrets;
  if (
    first === undefined ||
    first.generation !== 1 ||
    others.length > 0 ||
    stored.revokedAt !== null ||
    stored.deletedAt !== null
  ) {
    throw new DomainError(
      "failed_precondition",
      `key ${stored.id} of this request_id was rotated, revoked or deleted since; its first secret cannot be issued again`,
      { reason: IDEMPOTENCY_MISMATCH },
    );
  }
  const generated = deps.keyFormat.generateSecretFor(stored.id, deps.random);
  const { hash, pepperVersion } = deps.hasher.hash(generated.key);
  const record: ApiKeyRecord = {
    ...stored,
    secrets: [{ ...first, hash, pepperVersion, hint: generated.hint }],
    version: stored.version + 1,
  };
  if (!(await deps.keys.replace(record, stored.version))) {
    throw new DomainError("aborted", `the key ${stored.id} was changed concurrently; try again`);
  }
  return { record, generated, earlier: true };
}

function creationParameters(key: Omit<KeySpec, "createdBy">): string {
  const labels = Object.entries(key.labels ?? NO_LABELS).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    key.name,
    key.description,
    key.userId,
    key.groupId,
    key.permissions,
    key.ipAllowlist,
    key.expiresAt?.getTime() ?? null,
    labels,
  ]);
}

function newKeyRecord(
  deps: KeyIssuerDependencies,
  spec: KeySpec,
  generated: GeneratedKey,
  now: Date,
): ApiKeyRecord {
  const { hash, pepperVersion } = deps.hasher.hash(generated.key);
  return {
    id: generated.keyId,
    ...keySettingsOf(spec),
    secrets: [{ generation: 1, hash, pepperVersion, hint: generated.hint, createdAt: now, expiresAt: null }],
    createdAt: now,
    createdBy: spec.createdBy,
    updatedAt: now,
    expiresAt: spec.expiresAt,
    revokedAt: null,
    revokedBy: "",
    revokeReason: "",
    deletedAt: null,
    lastUsedAt: null,
    labels: spec.labels ?? NO_LABELS,
    disabledAt: null,
    disabledBy: "",
    disableReason: "",
    version: 1,
  };
}

/** reserveAndInsert retries `make` after an id collision (at most `attempts` times). */
async function reserveAndInsert(
  deps: KeyIssuerDependencies,
  spec: KeySpec,
  make: () => IssuedKeyRecord,
  attempts = MAX_ID_ATTEMPTS,
): Promise<IssuedKeyRecord> {
  if (!(await deps.tenants.reserveKeySlot(spec.tenantId, deps.defaultKeyLimit))) {
    const tenant = await deps.tenants.get(spec.tenantId);
    const limit = tenant.keyLimit ?? deps.defaultKeyLimit;
    throw new DomainError(
      "resource_exhausted",
      `tenant ${JSON.stringify(spec.tenantId)} has reached its key limit (${tenant.usedKeys}/${limit} keys); revoke or delete a key, or ask for a higher limit`,
      { reason: TENANT_KEY_LIMIT_EXCEEDED },
    );
  }
  try {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const issued = make();
      try {
        await deps.keys.insert(issued.record);
        return issued;
      } catch (error) {
        // A derived id (one attempt) is taken for a reason its caller handles; a random one by chance.
        if (!(error instanceof DomainError && error.kind === "already_exists") || attempts === 1) {
          throw error;
        }
      }
    }
    throw new DomainError("aborted", "could not allocate a key id, try again");
  } catch (error) {
    // The key was not stored: give the slot back so the limit stays exact. (If the insert's reply was lost
    // after the server stored it, the count ends one low; there is no transaction to avoid that.)
    await deps.tenants.releaseKeySlot(spec.tenantId).catch(() => undefined);
    throw error;
  }
}
