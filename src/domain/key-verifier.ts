/**
 * KeyVerifier: the VerifyKey use case, and the same check for admin callers (CallerAuthenticator).
 *
 * One call: validate the request fields (malformed → InvalidArgumentError) → unwrap the credential →
 * KeyFormat.parse (length, prefix, alphabet, CRC32; garbage ends here as not_found, with no lookup) → look the
 * key id up through a VerificationSource (a cache; see src/verify/key-cache.ts) → keyed hash of the presented
 * key compared in constant time with every live secret → the group's current permissions → the policy
 * (verification-policy.ts) with the clock read at decision time.
 *
 * Speed without caching decisions. The source answers synchronously when it holds the key, so a warm call
 * allocates no promise. Per call the verifier computes one HMAC per pepper version in use (normally one),
 * and decides with the clock; nothing it reuses depends on the clock or on the secret. What it does reuse is
 * result objects: for a given compiled key, group permission set, matched secret and verdict code the answer
 * is always the same frozen object, so the transport can map it to its response message once (see
 * src/rpc/key-verify-handler.ts) — the verdict is still decided on every call.
 */
import type { VerificationCode } from "./audit-event.js";
import { candidateKeyFromCredential, type VerifyCredential } from "./credential.js";
import { InvalidArgumentError, UnavailableError } from "./errors.js";
import { type ParsedIp, parseClientIp } from "./ip-allowlist.js";
import type { KeyFormat } from "./key-format.js";
import { digestsEqual, type KeyHasher } from "./key-hash.js";
import { effectivePermissions } from "./permissions.js";
import type { Clock } from "./ports.js";
import { MAX_REQUIRED_PERMISSIONS, validateEndpoint, validateRequiredPermissions } from "./validation.js";
import type { VerifiableKey, VerifiedKeyDetails } from "./verifiable-key.js";
import { type DigestWords, type KeyDigestMatcher, wordsEqual } from "./verification-hmac.js";
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
 * rejects with UnavailableError when it cannot tell (database unreachable, lookup budget exhausted), and
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
  /**
   * matcher computes the keyed hash from precomputed pepper state (verification-hmac.ts); it must hold the
   * same peppers as `hasher`. Without it the verifier uses hasher.digest.
   */
  readonly matcher?: KeyDigestMatcher;
  /** monotonicNow measures latency (milliseconds); defaults to performance.now. */
  readonly monotonicNow?: () => number;
}

/** KeyVerifier verifies credentials; results are plain values or promises of them (see module comment). */
export interface KeyVerifier {
  /**
   * verify runs a whole VerifyKey call: validation, verdict, usage recording. Throws (or rejects with)
   * InvalidArgumentError for malformed request fields and UnavailableError when the key store cannot answer.
   */
  verify(input: VerifyKeyInput): KeyVerification | Promise<KeyVerification>;
  /**
   * evaluate decides a candidate whole key (null = no usable credential) for a parsed client address, with
   * no request validation and no recording. Rejects with UnavailableError when the key store cannot answer.
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

// Slots of the per-secret verdict memo: every code whose verdict is fully determined by key, group and secret.
const MEMO_SLOTS = 4;
const SLOT: Readonly<Partial<Record<VerificationCode, number>>> = {
  valid: 0,
  revoked: 1,
  expired: 2,
  ip_not_allowed: 3,
};

/** VerdictMemo is what the verifier remembers about one compiled key for one group permission set. */
interface VerdictMemo {
  group: GroupPermissions | null;
  permissions: readonly string[];
  /** granted is `permissions` as a set, built on the first call that requires permissions. */
  granted: ReadonlySet<string> | null;
  verdicts: Array<KeyVerification | undefined>;
}

// Permission strings already found valid, so a request's required permissions are checked with one set
// lookup each instead of a pattern match; bounded, since requests choose them.
const KNOWN_PERMISSIONS_MAX = 10_000;

// Client addresses and endpoints repeat from call to call (a user's address, a service's routes): the last
// ones parsed or validated are remembered, so a repeat costs one map lookup instead of an IPv6 parse or a
// regular expression. Bounded (cleared when full), since requests choose them; a parsed address is frozen,
// so sharing it between calls is safe. Neither depends on the clock or on a secret.
const RECENT_MAX = 4_096;

const NO_GROUP: GroupPermissions = Object.freeze({ permissions: null });

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** checkClientIp parses the request's client_ip strictly: "" is null, anything unparsable is refused. */
export function checkClientIp(text: string, field = "client_ip"): ParsedIp | null {
  if (typeof text !== "string") {
    throw new InvalidArgumentError(field, "must be a string");
  }
  if (text.length === 0) {
    return null;
  }
  const parsed = parseClientIp(text);
  if (parsed === null) {
    const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
    throw new InvalidArgumentError(
      field,
      `${shown} is not an IP address: expected an IPv4 dotted quad (like 203.0.113.9) or IPv6 text, without port, brackets or zone id`,
    );
  }
  return parsed;
}

/** makeRoom empties a memo of recent values that is full (simpler than LRU order, and as bounded). */
function makeRoom(memo: { readonly size: number; clear(): void }): void {
  if (memo.size >= RECENT_MAX) {
    memo.clear();
  }
}

function freezeIp(ip: ParsedIp): ParsedIp {
  if (ip.kind === "ipv6") {
    Object.freeze(ip.parts);
  }
  return Object.freeze(ip);
}

/** createKeyVerifier builds the verifier over its collaborators. */
export function createKeyVerifier(options: KeyVerifierOptions): KeyVerifier {
  const { format, hasher, source, clock } = options;
  const usage = options.usage ?? null;
  const observer = options.observer ?? null;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const matcher = options.matcher ?? null;
  const memos = new WeakMap<VerifiableKey, VerdictMemo>();
  const knownPermissions = new Set<string>();
  const computed: DigestWords = new Int32Array(8);
  const recentIps = new Map<string, ParsedIp>();
  const recentEndpoints = new Set<string>();

  /** clientIpOf is checkClientIp with the recently parsed addresses remembered. */
  function clientIpOf(text: string): ParsedIp | null {
    const known = recentIps.get(text);
    if (known !== undefined) {
      return known;
    }
    const parsed = checkClientIp(text);
    if (parsed !== null) {
      makeRoom(recentIps);
      recentIps.set(text, freezeIp(parsed));
    }
    return parsed;
  }

  /** checkEndpoint is validateEndpoint with the recently validated endpoints remembered. */
  function checkEndpoint(endpoint: string): void {
    if (!recentEndpoints.has(endpoint)) {
      validateEndpoint(endpoint);
      makeRoom(recentEndpoints);
      recentEndpoints.add(endpoint);
    }
  }

  /** requiredOf validates a request's required permissions, skipping the pattern for ones seen before. */
  function requiredOf(values: readonly string[]): readonly string[] {
    if (values.length === 0) {
      return EMPTY;
    }
    if (values.length <= MAX_REQUIRED_PERMISSIONS) {
      let known = true;
      for (let i = 0; i < values.length && known; i++) {
        known = knownPermissions.has(values[i] as string);
      }
      if (known) {
        // Valid, but possibly unsorted or repeated: decide() normalises it when it needs the missing list.
        return values;
      }
    }
    const validated = validateRequiredPermissions(values);
    for (const permission of validated) {
      if (knownPermissions.size < KNOWN_PERMISSIONS_MAX) {
        knownPermissions.add(permission);
      }
    }
    return validated;
  }

  /** matchSecret returns the index of the secret the candidate matches, or -1; the work does not depend on which. */
  function matchSecret(key: VerifiableKey, candidate: string): number {
    const secrets = key.secrets;
    let found = -1;
    let version = -1;
    let usable = false;
    let digest: Uint8Array | null = null;
    for (let i = 0; i < secrets.length; i++) {
      const secret = secrets[i] as VerifiableKey["secrets"][number];
      // One HMAC per pepper version (normally one for all secrets), compared with each stored digest.
      if (secret.pepperVersion !== version) {
        version = secret.pepperVersion;
        if (matcher !== null) {
          usable = matcher.digestInto(candidate, version, computed);
        } else {
          digest = hasher.digest(candidate, version);
          usable = digest !== null;
        }
      }
      const matches =
        matcher !== null
          ? usable && secret.words !== null && wordsEqual(computed, secret.words)
          : usable && digest !== null && secret.digest !== null && digestsEqual(digest, secret.digest);
      if (matches && found < 0) {
        found = i;
      }
    }
    if (matcher !== null) {
      computed.fill(0);
    }
    return found;
  }

  function memoFor(key: VerifiableKey, group: GroupPermissions): VerdictMemo {
    let memo = memos.get(key);
    if (memo === undefined || memo.group !== group) {
      memo = {
        group,
        permissions: Object.freeze(effectivePermissions(key.ownPermissions, group.permissions)),
        granted: null,
        verdicts: new Array(key.secrets.length * MEMO_SLOTS),
      };
      memos.set(key, memo);
    }
    return memo;
  }

  function decide(
    key: VerifiableKey,
    secretIndex: number,
    group: GroupPermissions,
    clientIp: ParsedIp | null,
    required: readonly string[],
    now: Date | null,
  ): KeyVerification {
    const memo = memoFor(key, group);
    const matched = (key.secrets[secretIndex] as VerifiableKey["secrets"][number]).matched;
    let stillRequired = EMPTY;
    if (required.length > 0) {
      memo.granted ??= new Set(memo.permissions);
      const granted = memo.granted;
      let all = true;
      for (let i = 0; i < required.length && all; i++) {
        all = granted.has(required[i] as string);
      }
      // Only a request the key cannot serve needs the policy's missing list, sorted and deduplicated.
      stillRequired = all ? EMPTY : [...new Set(required)].sort();
    }
    const decision = decideVerification({
      key,
      matchedSecret: matched,
      allowlist: key.allowlist,
      clientIp,
      requiredPermissions: stillRequired,
      effectivePermissions: memo.permissions,
      now: now ?? clock.now(),
    });
    const slot = SLOT[decision.code];
    if (slot !== undefined) {
      const index = secretIndex * MEMO_SLOTS + slot;
      const remembered = memo.verdicts[index];
      if (remembered !== undefined) {
        return remembered;
      }
      const verdict = makeVerdict(key, memo, matched, decision.code, decision.httpStatus, EMPTY);
      memo.verdicts[index] = verdict;
      return verdict;
    }
    if (decision.code === "not_found") {
      return NOT_FOUND_VERIFICATION;
    }
    return makeVerdict(
      key,
      memo,
      matched,
      decision.code,
      decision.httpStatus,
      Object.freeze([...decision.missingPermissions]),
    );
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
    // The hash is computed even for a deleted key, so its state does not show in the timing.
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
    return evaluateAt(candidate, clientIp, requiredOf(required), null);
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
        error instanceof InvalidArgumentError
          ? "invalid_argument"
          : error instanceof UnavailableError
            ? "unavailable"
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
        const clientIp = clientIpOf(input.clientIp);
        checkEndpoint(input.endpoint);
        const required = requiredOf(input.requiredPermissions);
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

function makeVerdict(
  key: VerifiableKey,
  memo: VerdictMemo,
  matched: VerifiableKey["secrets"][number]["matched"],
  code: VerificationCode,
  httpStatus: VerificationHttpStatus,
  missing: readonly string[],
): KeyVerification {
  return Object.freeze({
    valid: code === "valid",
    code,
    httpStatus,
    key: key.details,
    permissions: memo.permissions,
    secretGeneration: matched.generation,
    secretSuperseded: matched.superseded,
    missingPermissions: missing,
  });
}
