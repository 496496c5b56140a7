/**
 * Key fixtures: real keys written straight through the repositories (key format + keyed hash + KeyRepository),
 * for tests and the benchmark's seeding step, independent of the admin API. Each helper performs the same
 * guarded writes an admin use case would, but does not notify any cache: tests do that explicitly when they
 * test invalidation.
 */
import { randomBytes } from "node:crypto";
import type { ApiKeyRecord, GroupRecord, KeySecretRecord } from "../../src/domain/api-key.js";
import { newGroupId } from "../../src/domain/ids.js";
import { normalizeAllowlist } from "../../src/domain/ip-allowlist.js";
import { createKeyFormat, type KeyFormat } from "../../src/domain/key-format.js";
import { createKeyHasher, type KeyHasher, type Pepper } from "../../src/domain/key-hash.js";
import type { GroupRepository, KeyRepository } from "../../src/domain/ports.js";
import { cryptoRandom } from "./random.js";

/** TEST_KEY_PREFIX is the prefix of fixture keys. */
export const TEST_KEY_PREFIX = "ak_test_";

/** testFormat is the key format of fixture keys. */
export const testFormat: KeyFormat = createKeyFormat(TEST_KEY_PREFIX);

/** TEST_PEPPER_TEXT is the fixture pepper as a server would read it from KEY_HASH_PEPPER (never a production value). */
export const TEST_PEPPER_TEXT = "apikeys-fixture-pepper-0123456789abcdef";

/** testPepper is TEST_PEPPER_TEXT as the hasher takes it. */
export const testPepper: Pepper = {
  version: 1,
  secret: new Uint8Array(Buffer.from(TEST_PEPPER_TEXT, "utf8")),
};

/** fixtureServerEnv configures a server to accept fixture keys (their prefix and pepper). */
export const fixtureServerEnv: Readonly<Record<string, string>> = Object.freeze({
  KEY_PREFIX: TEST_KEY_PREFIX,
  KEY_HASH_PEPPER: TEST_PEPPER_TEXT,
  KEY_HASH_PEPPER_VERSION: "1",
});

/** testHasher hashes fixture keys with testPepper. */
export const testHasher: KeyHasher = createKeyHasher(testPepper);

export { ManualClock } from "./fake-clock.js";
export { cryptoRandom } from "./random.js";

/** IssuedKey is a fixture key: its secret forms (for the test to present) and its stored record. */
export interface IssuedKey {
  /** key is the whole key. Secret (test only). */
  readonly key: string;
  readonly keyId: string;
  /** secretKey is the secret part of the two-part credential. */
  readonly secretKey: string;
  readonly record: ApiKeyRecord;
}

/** IssueKeyOptions override fixture key fields; ipAllowlist entries are normalised like the admin API does. */
export interface IssueKeyOptions {
  readonly tenantId?: string;
  readonly name?: string;
  readonly userId?: string;
  readonly groupId?: string;
  readonly permissions?: readonly string[];
  readonly ipAllowlist?: readonly string[];
  readonly expiresAt?: Date | null;
  readonly createdAt?: Date;
  readonly format?: KeyFormat;
  readonly hasher?: KeyHasher;
}

/** issueKey creates a key and stores it; returns the secret forms and the record. */
export async function issueKey(keys: KeyRepository, options: IssueKeyOptions = {}): Promise<IssuedKey> {
  const issued = buildKey(options);
  await keys.insert(issued.record);
  return issued;
}

/** buildKey creates a key record without storing it (bulk seeding inserts many at once). */
export function buildKey(options: IssueKeyOptions = {}): IssuedKey {
  const format = options.format ?? testFormat;
  const hasher = options.hasher ?? testHasher;
  const createdAt = options.createdAt ?? new Date();
  const generated = format.generate(cryptoRandom);
  const stored = hasher.hash(generated.key);
  const secret: KeySecretRecord = {
    generation: 1,
    hash: stored.hash,
    pepperVersion: stored.pepperVersion,
    hint: generated.hint,
    createdAt,
    expiresAt: null,
  };
  const record: ApiKeyRecord = {
    id: generated.keyId,
    tenantId: options.tenantId ?? "acme",
    name: options.name ?? `fixture ${generated.keyId.slice(-6)}`,
    description: "",
    userId: options.userId ?? "",
    groupId: options.groupId ?? "",
    permissions: [...new Set(options.permissions ?? [])].sort(),
    ipAllowlist: normalizeAllowlist(options.ipAllowlist ?? []),
    secrets: [secret],
    createdAt,
    createdBy: "fixture",
    updatedAt: createdAt,
    expiresAt: options.expiresAt ?? null,
    revokedAt: null,
    revokedBy: "",
    revokeReason: "",
    deletedAt: null,
    lastUsedAt: null,
    labels: {},
    disabledAt: null,
    disabledBy: "",
    disableReason: "",
    version: 1,
  };
  return { key: generated.key, keyId: generated.keyId, secretKey: generated.secretKey, record };
}

/** changeKey applies `change` to the stored key with a version-guarded replace; returns the new record. */
export async function changeKey(
  keys: KeyRepository,
  keyId: string,
  change: (current: ApiKeyRecord) => Partial<ApiKeyRecord>,
): Promise<ApiKeyRecord> {
  const current = await keys.findById(keyId);
  if (current === null) {
    throw new Error(`fixture key ${keyId} does not exist`);
  }
  const next: ApiKeyRecord = {
    ...current,
    ...change(current),
    updatedAt: new Date(),
    version: current.version + 1,
  };
  if (!(await keys.replace(next, current.version))) {
    throw new Error(`fixture key ${keyId} changed concurrently`);
  }
  return next;
}

/** revokeKey marks the key revoked at `at`. */
export function revokeKey(keys: KeyRepository, keyId: string, at = new Date()): Promise<ApiKeyRecord> {
  return changeKey(keys, keyId, () => ({ revokedAt: at, revokedBy: "fixture", revokeReason: "test" }));
}

/** deleteKey marks the key deleted at `at`. */
export function deleteKey(keys: KeyRepository, keyId: string, at = new Date()): Promise<ApiKeyRecord> {
  return changeKey(keys, keyId, () => ({ deletedAt: at }));
}

/**
 * rotateKey issues a new secret for the key. With `overlapEndsAt` the previous current secret keeps working
 * until then (superseded); with null it is dropped at once. Returns the new key's secret forms.
 */
export async function rotateKey(
  keys: KeyRepository,
  keyId: string,
  overlapEndsAt: Date | null,
  options: { format?: KeyFormat; hasher?: KeyHasher } = {},
): Promise<IssuedKey> {
  const format = options.format ?? testFormat;
  const hasher = options.hasher ?? testHasher;
  const generated = format.generateSecretFor(keyId, cryptoRandom);
  const stored = hasher.hash(generated.key);
  const record = await changeKey(keys, keyId, (current) => {
    const previous = current.secrets.at(-1);
    if (previous === undefined) {
      throw new Error("fixture key has no secret");
    }
    const kept = overlapEndsAt === null ? [] : [{ ...previous, expiresAt: overlapEndsAt }];
    return {
      secrets: [
        ...kept,
        {
          generation: previous.generation + 1,
          hash: stored.hash,
          pepperVersion: stored.pepperVersion,
          hint: generated.hint,
          createdAt: new Date(),
          expiresAt: null,
        },
      ],
    };
  });
  return { key: generated.key, keyId, secretKey: generated.secretKey, record };
}

/** createGroup stores a group with `permissions`. */
export async function createGroup(
  groups: GroupRepository,
  options: { tenantId?: string; name?: string; permissions: readonly string[] },
): Promise<GroupRecord> {
  const now = new Date();
  const group: GroupRecord = {
    id: newGroupId(cryptoRandom),
    tenantId: options.tenantId ?? "acme",
    name: options.name ?? `group ${randomBytes(4).toString("hex")}`,
    description: "",
    permissions: [...new Set(options.permissions)].sort(),
    labels: {},
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await groups.insert(group);
  return group;
}

/** setGroupPermissions replaces a group's permissions (version-guarded); returns the new record. */
export async function setGroupPermissions(
  groups: GroupRepository,
  groupId: string,
  permissions: readonly string[],
): Promise<GroupRecord> {
  const current = await groups.findById(groupId);
  if (current === null) {
    throw new Error(`fixture group ${groupId} does not exist`);
  }
  const next: GroupRecord = {
    ...current,
    permissions: [...new Set(permissions)].sort(),
    updatedAt: new Date(),
    version: current.version + 1,
  };
  if (!(await groups.replace(next, current.version))) {
    throw new Error(`fixture group ${groupId} changed concurrently`);
  }
  return next;
}
