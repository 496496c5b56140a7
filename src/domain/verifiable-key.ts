/** VerifiableKey: a stored key prepared once for many verifications; nothing secret, no decision. */
import type { ApiKeyRecord, Labels } from "./api-key.js";
import { type CompiledAllowlist, compileAllowlist } from "./ip-allowlist.js";
import { NO_LABELS } from "./labels.js";
import type { MatchedSecret } from "./verification-policy.js";

/** VerifiedKeyDetails are the non-secret key details a verdict carries for an identified key. Frozen. */
export interface VerifiedKeyDetails {
  readonly keyId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly userId: string;
  readonly groupId: string;
  readonly expiresAt: Date | null;
  /** labels are the key's labels (frozen); a verdict returns them for a valid key only. */
  readonly labels: Labels;
}

/** VerifiableSecret is one live secret of a key: its keyed hash and what a match means. */
export interface VerifiableSecret {
  /** hash is the stored base64url HMAC (text that is not a digest's never matches). */
  readonly hash: string;
  readonly pepperVersion: number;
  /** matched is what the policy is told when this secret matches (shared, frozen). */
  readonly matched: MatchedSecret;
}

export interface VerifiableKey {
  readonly details: VerifiedKeyDetails;
  readonly ownPermissions: readonly string[];
  /** secrets are the secrets that may match, in stored order (current one last). */
  readonly secrets: readonly VerifiableSecret[];
  /** allowlist is compiled once; a corrupted stored allowlist compiles to one that admits nobody. */
  readonly allowlist: CompiledAllowlist;
  /** allowlistCorrupted is true when the stored allowlist could not be compiled (the key then fails closed). */
  readonly allowlistCorrupted: boolean;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly disabledAt: Date | null;
  readonly deletedAt: Date | null;
  /** approxBytes estimates the memory the compiled key holds, for a byte-bounded cache. */
  readonly approxBytes: number;
}

// An allowlist that admits no address: what a key whose stored allowlist is unreadable gets. Dropping the
// entries instead would turn a restricted key into an unrestricted one.
const DENY_ALL: CompiledAllowlist = Object.freeze({ size: 1, contains: () => false });

const FROZEN_EMPTY: readonly string[] = Object.freeze([]);

// Rough per-object costs in V8 (headers, hidden classes, strings), for the cache's byte bound.
const BASE_BYTES = 600;
// A secret: its record and hash text, plus the fingerprint the verifier may remember for it.
const SECRET_BYTES = 340;
const ALLOWLIST_ENTRY_BYTES = 80;

/** compileVerifiableKey prepares `record` for verification. Total: never throws for a well-typed record. */
export function compileVerifiableKey(record: ApiKeyRecord): VerifiableKey {
  const last = record.secrets.length - 1;
  const secrets = record.secrets.map((secret, i): VerifiableSecret => {
    // A secret that is not the newest, or that has an overlap end, was superseded by a rotation.
    const superseded = i !== last || secret.expiresAt !== null;
    return Object.freeze({
      hash: secret.hash,
      pepperVersion: secret.pepperVersion,
      matched: Object.freeze({ generation: secret.generation, superseded, expiresAt: secret.expiresAt }),
    });
  });
  let allowlist: CompiledAllowlist;
  let allowlistCorrupted = false;
  try {
    allowlist = compileAllowlist(record.ipAllowlist);
  } catch {
    allowlist = DENY_ALL;
    allowlistCorrupted = true;
  }
  const details: VerifiedKeyDetails = Object.freeze({
    keyId: record.id,
    tenantId: record.tenantId,
    name: record.name,
    userId: record.userId,
    groupId: record.groupId,
    expiresAt: record.expiresAt,
    labels: Object.keys(record.labels).length === 0 ? NO_LABELS : Object.freeze({ ...record.labels }),
  });
  const ownPermissions =
    record.permissions.length === 0 ? FROZEN_EMPTY : Object.freeze([...new Set(record.permissions)].sort());
  let textLength = record.id.length + record.tenantId.length + record.name.length;
  textLength += record.userId.length + record.groupId.length;
  for (const permission of ownPermissions) {
    textLength += permission.length + 16;
  }
  for (const [key, value] of Object.entries(details.labels)) {
    textLength += key.length + value.length + 32;
  }
  const approxBytes =
    BASE_BYTES +
    2 * textLength +
    secrets.length * SECRET_BYTES +
    record.ipAllowlist.length * ALLOWLIST_ENTRY_BYTES;
  return Object.freeze({
    details,
    ownPermissions,
    secrets: Object.freeze(secrets),
    allowlist,
    allowlistCorrupted,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    disabledAt: record.disabledAt,
    deletedAt: record.deletedAt,
    approxBytes,
  });
}
