/**
 * The verification policy: given what the caller looked up, the single verdict of a VerifyKey call. Pure and
 * clock-free (`now` is passed in), so every boundary is testable exactly and nothing here can be cached
 * across calls by accident.
 *
 * Check order, first failure wins (the caller has already refused malformed keys and bad checksums without a
 * lookup; it passes key = null for those and for unknown ids):
 *   1. no key, a deleted key, or no secret of the key matched → not_found (indistinguishable on purpose: a
 *      key id alone, which is public, reveals nothing about the key's state)
 *   2. revoked → revoked
 *   2b. disabled (until an admin enables it again) → disabled
 *   3. now ≥ key expiry → expired (half-open: valid until the instant before expiresAt)
 *   4. the matched secret was superseded by a rotation and now ≥ the end of its overlap → expired
 *   5. the key has an allowlist and the client IP is missing (fail closed) or outside it → ip_not_allowed
 *   6. a required permission is not granted by the key or its group → insufficient_permissions
 *   7. otherwise valid
 */
import type { ApiKeyRecord } from "./api-key.js";
import type { VerificationCode } from "./audit-event.js";
import type { CompiledAllowlist, ParsedIp } from "./ip-allowlist.js";
import { missingPermissions } from "./permissions.js";

/** VerificationHttpStatus is the status the calling service should answer its end user with. */
export type VerificationHttpStatus = 200 | 401 | 403;

/** HTTP_STATUS_BY_CODE maps each verification code to its HTTP status (a bad key 401, a refused good key 403). */
export const HTTP_STATUS_BY_CODE: Readonly<Record<VerificationCode, VerificationHttpStatus>> = Object.freeze({
  valid: 200,
  not_found: 401,
  expired: 401,
  revoked: 401,
  ip_not_allowed: 403,
  insufficient_permissions: 403,
  disabled: 401,
});

/** MatchedSecret describes the key secret whose hash matched the presented key. */
export interface MatchedSecret {
  /** generation is the secret's generation (1 at creation, +1 per rotation). */
  readonly generation: number;
  /** superseded is true when a rotation replaced this secret and it only works during its overlap. */
  readonly superseded: boolean;
  /** expiresAt ends a superseded secret's overlap; null for the current secret. */
  readonly expiresAt: Date | null;
}

/** VerificationFacts is everything the policy needs; the caller gathers it. */
export interface VerificationFacts {
  /** key is the looked-up key, or null when the credential was malformed or the id is unknown. */
  readonly key: Pick<ApiKeyRecord, "deletedAt" | "revokedAt" | "disabledAt" | "expiresAt"> | null;
  /** matchedSecret is the key secret the presented key matched, or null when none did. */
  readonly matchedSecret: MatchedSecret | null;
  /** allowlist is the key's compiled allowlist (size 0 = any address). */
  readonly allowlist: CompiledAllowlist;
  /** clientIp is the parsed end-user address, or null when the request gave none. */
  readonly clientIp: ParsedIp | null;
  /** requiredPermissions are the permissions the request needs. */
  readonly requiredPermissions: readonly string[];
  /** effectivePermissions are the key's own plus its group's current permissions. */
  readonly effectivePermissions: readonly string[];
  /** now is the instant of the verification. */
  readonly now: Date;
}

/** VerificationDecision is the verdict: one code, its HTTP status, and what is missing when permissions fail. */
export interface VerificationDecision {
  readonly code: VerificationCode;
  readonly httpStatus: VerificationHttpStatus;
  /** missingPermissions lists the required permissions not granted; empty unless code is insufficient_permissions. */
  readonly missingPermissions: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);

function decision(code: Exclude<VerificationCode, "insufficient_permissions">): VerificationDecision {
  return Object.freeze({ code, httpStatus: HTTP_STATUS_BY_CODE[code], missingPermissions: NONE });
}

// Shared frozen verdicts: the hot path allocates nothing for the common answers.
const VALID = decision("valid");
const NOT_FOUND = decision("not_found");
const REVOKED = decision("revoked");
const DISABLED = decision("disabled");
const EXPIRED = decision("expired");
const IP_NOT_ALLOWED = decision("ip_not_allowed");

/** decideVerification applies the check order above and returns the first failure, or valid. */
export function decideVerification(facts: VerificationFacts): VerificationDecision {
  const { key, matchedSecret, now } = facts;
  if (key === null || key.deletedAt !== null || matchedSecret === null) {
    return NOT_FOUND;
  }
  if (key.revokedAt !== null) {
    return REVOKED;
  }
  if (key.disabledAt !== null) {
    return DISABLED;
  }
  const nowMs = now.getTime();
  if (key.expiresAt !== null && nowMs >= key.expiresAt.getTime()) {
    return EXPIRED;
  }
  // A superseded secret without an end of overlap should not exist; treat it as ended (fail closed).
  if (
    matchedSecret.superseded &&
    (matchedSecret.expiresAt === null || nowMs >= matchedSecret.expiresAt.getTime())
  ) {
    return EXPIRED;
  }
  if (facts.allowlist.size > 0 && (facts.clientIp === null || !facts.allowlist.contains(facts.clientIp))) {
    return IP_NOT_ALLOWED;
  }
  if (facts.requiredPermissions.length > 0) {
    const missing = missingPermissions(facts.effectivePermissions, facts.requiredPermissions);
    if (missing.length > 0) {
      return { code: "insufficient_permissions", httpStatus: 403, missingPermissions: missing };
    }
  }
  return VALID;
}
