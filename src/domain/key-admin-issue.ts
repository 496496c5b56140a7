/**
 * Issuing a new key, shared by CreateKey and Bootstrap: reserve a slot of the tenant's key limit first (an
 * atomic conditional increment, so 50 concurrent creates at a limit of 10 make exactly 10 keys), then insert
 * the key under a fresh random id, retrying on the (astronomically unlikely) id collision, and give the slot
 * back if the insert fails. Only the keyed hash and a display hint are stored, never the secret.
 */
import type { ApiKeyRecord, Labels } from "./api-key.js";
import { DomainError } from "./errors.js";
import type { GeneratedKey, KeyFormat } from "./key-format.js";
import type { KeyHasher } from "./key-hash.js";
import { NO_LABELS } from "./labels.js";
import type { KeyRepository, RandomSource, TenantRepository } from "./ports.js";

/** TENANT_KEY_LIMIT_EXCEEDED is the reason of the RESOURCE_EXHAUSTED for a tenant at its key limit. */
export const TENANT_KEY_LIMIT_EXCEEDED = "TENANT_KEY_LIMIT_EXCEEDED";

/** MAX_ID_ATTEMPTS bounds the retries on a key id collision (≈ 95 random bits: never expected to repeat). */
const MAX_ID_ATTEMPTS = 5;

/** KeyIssuerDependencies are the ports issueKey needs. */
export interface KeyIssuerDependencies {
  readonly keys: KeyRepository;
  readonly tenants: TenantRepository;
  readonly random: RandomSource;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly defaultKeyLimit: number;
}

/** KeySpec is the validated configuration of a key to issue. */
export interface KeySpec {
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly userId: string;
  readonly groupId: string;
  readonly permissions: readonly string[];
  readonly ipAllowlist: readonly string[];
  readonly expiresAt: Date | null;
  /** labels are validated labels; absent = none. */
  readonly labels?: Labels;
  readonly createdBy: string;
}

/** IssuedKeyRecord is the stored record and, once, the generated key with its secret. */
export interface IssuedKeyRecord {
  readonly record: ApiKeyRecord;
  /** generated holds the secret (key, secretKey): hand it to the caller once and drop it. */
  readonly generated: GeneratedKey;
}

/**
 * issueKey reserves a tenant slot and stores a new key. Rejects with a resource-exhausted error
 * (TENANT_KEY_LIMIT_EXCEEDED) when the tenant is at its limit, storing nothing.
 */
export async function issueKey(
  deps: KeyIssuerDependencies,
  spec: KeySpec,
  now: Date,
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
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt += 1) {
      const generated = deps.keyFormat.generate(deps.random);
      const { hash, pepperVersion } = deps.hasher.hash(generated.key);
      const record: ApiKeyRecord = {
        id: generated.keyId,
        tenantId: spec.tenantId,
        name: spec.name,
        description: spec.description,
        userId: spec.userId,
        groupId: spec.groupId,
        permissions: [...spec.permissions],
        ipAllowlist: [...spec.ipAllowlist],
        secrets: [
          { generation: 1, hash, pepperVersion, hint: generated.hint, createdAt: now, expiresAt: null },
        ],
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
      try {
        await deps.keys.insert(record);
        return { record, generated };
      } catch (error) {
        if (!(error instanceof DomainError && error.kind === "already_exists")) {
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
