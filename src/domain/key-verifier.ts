/**
 * KeyVerifier: the VerifyKey use case, and the same check for admin callers (CallerAuthenticator). The steps
 * of one call are in docs/architecture.md ("VerifyKey: the hot path"). A source that holds the key answers
 * synchronously, so a warm call allocates no promise; every call decides with the clock. Two things are
 * reused between calls, both tied to the cached key object: which secret a key already matched (by its
 * fingerprint, so the HMAC runs once per cached key and presented key), and the verdict object of a decision
 * reached before for the same key and group.
 */
import { VERIFICATION_CODES, type VerificationCode } from "./audit-event.js";
import { candidateKeyFromCredential, type VerifyCredential } from "./credential.js";
import { DomainError, invalidArgument } from "./errors.js";
import { type ParsedIp, parseClientIp } from "./ip-allowlist.js";
import type { KeyFormat } from "./key-format.js";
import { digestsEqual, type KeyHasher, keyFingerprint } from "./key-hash.js";
import { effectivePermissions } from "./permissions.js";
import type { Clock } from "./ports.js";
import { validateEndpoint, validateRequiredPermissions } from "./validation.js";
import type { VerifiableKey, VerifiableSecret, VerifiedKeyDetails } from "./verifiable-key.js";
import { decideVerification, type VerificationHttpStatus } from "./verification-policy.js";

/** VerifyKeyInput is one VerifyKey request in domain terms. */
export interface VerifyKeyInput {
  readonly credential: VerifyCredential;
  /** clientIp is the end user's address as text; "" means unknown. */
  readonly clientIp: string;
  /** endpoint is "METHOD /path" for the usage log; "" when not given. */
  readonly endpoint: string;
  readonly requiredPermissions: readonly string[];
}

/** KeyVerification is a verdict. Shared and frozen: never mutate one. */
export interface KeyVerification {
  readonly valid: boolean;
  readonly code: VerificationCode;
  readonly httpStatus: VerificationHttpStatus;
  /** key holds the key's details whenever it was identified (every code but not_found); else null. */
  readonly key: VerifiedKeyDetails | null;
  /** permissions are the key's effective permissions (own + group's current), sorted; empty for not_found. */
  readonly permissions: readonly string[];
  /** secretGeneration is the generation of the matched secret; 0 for not_found. */
  readonly secretGeneration: number;
  /** secretSuperseded is true when the matched secret was replaced by a rotation (it works during overlap). */
  readonly secretSuperseded: boolean;
  /** missingPermissions lists the required permissions the key lacks (insufficient_permissions only). */
  readonly missingPermissions: readonly string[];
}

/**
 * GroupPermissions is a group's permission set as the source holds it: `permissions` is null when the group
 * does not exist (any more). The object's identity changes whenever the group is reloaded, which is what
 * lets the verifier reuse the effective permissions it computed for it.
 */
export interface GroupPermissions {
  readonly permissions: readonly string[] | null;
}

/**
 * VerificationSource gives keys and group permissions, synchronously when it holds a trusted copy. It
 * rejects with an unavailable error when it cannot tell (database unreachable, lookup budget exhausted), and
 * never answers "unknown" for a key it could not look up.
 */
export interface VerificationSource {
  /** key resolves a key id to its compiled key, or null when no such key exists. */
  key(keyId: string): VerifiableKey | null | Promise<VerifiableKey | null>;
  /** group resolves a group id to its current permissions. */
  group(groupId: string): GroupPermissions | Promise<GroupPermissions>;
}

/** UsageRecorder hears about every use of a key; implementations must never block or throw. */
export interface UsageRecorder {
  /** verified is called once per VerifyKey call that produced a verdict. */
  verified(result: KeyVerification, input: VerifyKeyInput, at: Date): void;
  /** used is called when a key authenticated an admin caller (no usage event, only "last used"). */
  used(keyId: string, at: Date): void;
}

/** VerifyFailureKind names why a VerifyKey call ended in an RPC error instead of a verdict. */
export type VerifyFailureKind = "invalid_argument" | "unavailable" | "internal";

/** VerifyObserver counts verdicts and failures with their latency; it must be cheap and never throw. */
export interface VerifyObserver {
  verdict(result: KeyVerification, elapsedMs: number): void;
  failure(kind: VerifyFailureKind, elapsedMs: number): void;
}

/** KeyVerifierOptions are the verifier's collaborators. */
export interface KeyVerifierOptions {
  readonly format: KeyFormat;
  readonly hasher: KeyHasher;
  readonly source: VerificationSource;
  readonly clock: Clock;
  readonly usage?: UsageRecorder;
  readonly observer?: VerifyObserver;
  /** monotonicNow measures latency (milliseconds); defaults to performance.now. */
  readonly monotonicNow?: () => number;
}

/** KeyVerifier verifies credentials; results are plain values or promises of them (see module comment). */
export interface KeyVerifier {
  /**
   * verify runs a whole VerifyKey call: validation, verdict, usage recording. Throws (or rejects with)
   * an invalid-argument error for malformed request fields and an unavailable error when the key store cannot answer.
   */
  verify(input: VerifyKeyInput): KeyVerification | Promise<KeyVerification>;
  /**
   * evaluate decides a candidate whole key (null = no usable credential) for a parsed client address, with
   * no request validation and no recording. Rejects with an unavailable error when the key store cannot answer.
   */
  evaluate(
    candidate: string | null,
    clientIp: ParsedIp | null,
    requiredPermissions: readonly string[],
  ): KeyVerification | Promise<KeyVerification>;
}

const EMPTY: readonly string[] = Object.freeze([]);

/** NOT_FOUND_VERIFICATION is the one not_found verdict: it carries nothing about the key. */
export const NOT_FOUND_VERIFICATION: KeyVerification = Object.freeze({
  valid: false,
  code: "not_found",
  httpStatus: 401,
  key: null,
  permissions: EMPTY,
  secretGeneration: 0,
  secretSuperseded: false,
  missingPermissions: EMPTY,
});

const NO_GROUP: GroupPermissions = Object.freeze({ permissions: null });

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** checkClientIp parses the request's client_ip strictly: "" is null, anything unparsable is refused. */
export function checkClientIp(text: string, field = "client_ip"): ParsedIp | null {
  if (typeof text !== "string") {
    throw invalidArgument(field, "must be a string");
  }
  if (text.length === 0) {
    return null;
  }
  const parsed = parseClientIp(text);
  if (parsed === null) {
    const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
    throw invalidArgument(
      field,
      `${shown} is not an IP address: expected an IPv4 dotted quad (like 203.0.113.9) or IPv6 text, without port, brackets or zone id`,
    );
  }
  return parsed;
}

/**
 * VerdictMemo holds what a cached key's verdicts share while its group stays the same object: the effective
 * permissions and the verdicts made so far, by secret and code. A reloaded key or group is a new object, so
 * nothing outlives the data it was made from.
 */
interface VerdictMemo {
  readonly group: GroupPermissions;
  readonly permissions: readonly string[];
  readonly verdicts: (KeyVerification | undefined)[];
}

/** createKeyVerifier builds the verifier over its collaborators. */
export function createKeyVerifier(options: KeyVerifierOptions): KeyVerifier {
  const { format, hasher, source, clock } = options;
  const memos = new WeakMap<VerifiableKey, VerdictMemo>();

  function verdictMemoOf(key: VerifiableKey, group: GroupPermissions): VerdictMemo {
    let memo = memos.get(key);
    if (memo === undefined || memo.group !== group) {
      memo = {
        group,
        permissions: Object.freeze(effectivePermissions(key.ownPermissions, group.permissions)),
        verdicts: [],
      };
      memos.set(key, memo);
    }
    return memo;
  }
  const usage = options.usage ?? null;
  const observer = options.observer ?? null;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());

  // The fingerprint of the key each secret of a cached key was matched by (see matchSecret).
  const matchedBy = new WeakMap<VerifiableSecret, string>();

  /**
   * matchSecret returns the index of the secret the candidate matches, or -1. A secret that matched once
   * remembers the fingerprint (SHA-256) of the key that matched it, and the same key presented again matches
   * by that one-shot hash instead of the HMAC, the dearest step of a warm call. Equal fingerprints mean
   * equal keys, so the answer is the HMAC's; only a caller holding the key takes the short path. The memory
   * lasts as long as the cached key object: a reload, rotation or eviction starts afresh.
   */
  function matchSecret(key: VerifiableKey, candidate: string): number {
    const secrets = key.secrets;
    const fingerprint = keyFingerprint(candidate);
    for (let i = 0; i < secrets.length; i++) {
      if (matchedBy.get(secrets[i] as VerifiableSecret) === fingerprint) {
        return i;
      }
    }
    const found = matchKeyedHash(key, candidate);
    if (found >= 0) {
      matchedBy.set(secrets[found] as VerifiableSecret, fingerprint);
    }
    return found;
  }

  /**
   * matchKeyedHash returns the index of the secret whose keyed hash the candidate matches, or -1; the work
   * does not depend on which.
   */
  function matchKeyedHash(key: VerifiableKey, candidate: string): number {
    let found = -1;
    let version = -1;
    let digest: string | null = null;
    const secrets = key.secrets;
    for (let i = 0; i < secrets.length; i++) {
      const secret = secrets[i] as VerifiableKey["secrets"][number];
      // One HMAC per pepper version (normally one for all secrets), compared with each stored hash.
      if (secret.pepperVersion !== version) {
        version = secret.pepperVersion;
        digest = hasher.digest(candidate, version);
      }
      const matches = digestsEqual(digest, secret.hash);
      if (matches && found < 0) {
        found = i;
      }
    }
    return found;
  }

  function decide(
    key: VerifiableKey,
    secretIndex: number,
    group: GroupPermissions,
    clientIp: ParsedIp | null,
    required: readonly string[],
    now: Date | null,
  ): KeyVerification {
    const matched = (key.secrets[secretIndex] as VerifiableKey["secrets"][number]).matched;
    const memo = verdictMemoOf(key, group);
    const decision = decideVerification({
      key,
      matchedSecret: matched,
      allowlist: key.allowlist,
      clientIp,
      requiredPermissions: required,
      effectivePermissions: memo.permissions,
      now: now ?? clock.now(),
    });
    if (decision.code === "not_found") {
      return NOT_FOUND_VERIFICATION;
    }
    // A verdict without missing permissions depends only on (key, group, secret, code): made once, shared.
    const shared = decision.missingPermissions.length === 0;
    const slot = secretIndex * VERIFICATION_CODES.length + VERIFICATION_CODES.indexOf(decision.code);
    const remembered = shared ? memo.verdicts[slot] : undefined;
    if (remembered !== undefined) {
      return remembered;
    }
    const verdict: KeyVerification = Object.freeze({
      valid: decision.code === "valid",
      code: decision.code,
      httpStatus: decision.httpStatus,
      key: key.details,
      permissions: memo.permissions,
      secretGeneration: matched.generation,
      secretSuperseded: matched.superseded,
      missingPermissions: shared ? EMPTY : Object.freeze([...decision.missingPermissions]),
    });
    if (shared) {
      memo.verdicts[slot] = verdict;
    }
    return verdict;
  }

  function afterKey(
    key: VerifiableKey | null,
    candidate: string,
    clientIp: ParsedIp | null,
    required: readonly string[],
    now: Date | null,
  ): KeyVerification | Promise<KeyVerification> {
    if (key === null) {
      return NOT_FOUND_VERIFICATION;
    }
    // The secret is matched even for a deleted key, so its state does not show in the timing.
    const secretIndex = matchSecret(key, candidate);
    if (secretIndex < 0 || key.deletedAt !== null) {
      return NOT_FOUND_VERIFICATION;
    }
    const groupId = key.details.groupId;
    if (groupId === "") {
      return decide(key, secretIndex, NO_GROUP, clientIp, required, now);
    }
    const group = source.group(groupId);
    if (isPromise(group)) {
      // After a lookup the clock is read again: expiry is decided at the moment of the answer.
      return group.then((loaded) => decide(key, secretIndex, loaded, clientIp, required, null));
    }
    return decide(key, secretIndex, group, clientIp, required, now);
  }

  function evaluateAt(
    candidate: string | null,
    clientIp: ParsedIp | null,
    required: readonly string[],
    now: Date | null,
  ): KeyVerification | Promise<KeyVerification> {
    const parsed = candidate === null ? null : format.parse(candidate);
    if (parsed === null || candidate === null) {
      return NOT_FOUND_VERIFICATION;
    }
    const key = source.key(parsed.keyId);
    if (isPromise(key)) {
      return key.then((loaded) => afterKey(loaded, candidate, clientIp, required, null));
    }
    return afterKey(key, candidate, clientIp, required, now);
  }

  function evaluate(
    candidate: string | null,
    clientIp: ParsedIp | null,
    required: readonly string[],
  ): KeyVerification | Promise<KeyVerification> {
    return evaluateAt(candidate, clientIp, validateRequiredPermissions(required), null);
  }

  function finish(
    result: KeyVerification,
    input: VerifyKeyInput,
    started: number,
    at: Date,
  ): KeyVerification {
    if (usage !== null) {
      usage.verified(result, input, at);
    }
    if (observer !== null) {
      observer.verdict(result, monotonicNow() - started);
    }
    return result;
  }

  function fail(error: unknown, started: number): never {
    if (observer !== null) {
      const kind: VerifyFailureKind =
        error instanceof DomainError && (error.kind === "invalid_argument" || error.kind === "unavailable")
          ? error.kind
          : "internal";
      observer.failure(kind, monotonicNow() - started);
    }
    throw error;
  }

  return {
    evaluate,
    verify(input) {
      const started = observer === null ? 0 : monotonicNow();
      // One clock read per call: the decision of a warm call and its usage event share the instant.
      const now = clock.now();
      let outcome: KeyVerification | Promise<KeyVerification>;
      try {
        const clientIp = checkClientIp(input.clientIp);
        validateEndpoint(input.endpoint);
        const required = validateRequiredPermissions(input.requiredPermissions);
        outcome = evaluateAt(candidateKeyFromCredential(input.credential), clientIp, required, now);
      } catch (error) {
        return fail(error, started);
      }
      if (isPromise(outcome)) {
        return outcome.then(
          (result) => finish(result, input, started, clock.now()),
          (error: unknown) => fail(error, started),
        );
      }
      return finish(outcome, input, started, now);
    },
  };
}
