/**
 * The keyed hash stored for each key secret: HMAC-SHA-256 of the whole key under a server-side pepper,
 * base64url. The pepper lives only in the server's configuration, so a leaked database alone does not let
 * anyone test guesses offline. Keys carry ≥ 190 random bits, so a fast hash is enough (no slow KDF).
 */
import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";

/** MIN_PEPPER_BYTES is the shortest pepper accepted: 256 bits, the HMAC-SHA-256 security level. */
export const MIN_PEPPER_BYTES = 32;

/** DIGEST_BYTES is the length of an HMAC-SHA-256 digest. */
export const DIGEST_BYTES = 32;

/** Pepper is one server-side HMAC key with the version stored next to every hash made with it. Secret. */
export interface Pepper {
  /** version is a positive integer naming this pepper; stored as KeySecretRecord.pepperVersion. */
  readonly version: number;
  /** secret is the key material, at least MIN_PEPPER_BYTES bytes. Secret. */
  readonly secret: Uint8Array;
}

/** StoredKeyHash is what is stored for a secret: the base64url hash and the pepper version that made it. */
export interface StoredKeyHash {
  readonly hash: string;
  readonly pepperVersion: number;
}

/** HmacSha256 computes HMAC-SHA-256 of a string's UTF-8 bytes under a fixed key. */
export type HmacSha256 = (message: string) => Buffer;

/** KeyHasher hashes keys with the current pepper and checks them against hashes made with any known pepper. */
export interface KeyHasher {
  /** currentPepperVersion is the version new hashes are made with. */
  readonly currentPepperVersion: number;
  /** hash makes the stored hash of a whole key with the current pepper. */
  hash(key: string): StoredKeyHash;
  /** digest is the raw HMAC of `key` under pepper `pepperVersion`, or null if that pepper is unknown. */
  digest(key: string, pepperVersion: number): Buffer | null;
  /**
   * matches tells, in constant time for equal-length inputs, whether `key` hashes to `storedHash` under
   * pepper `pepperVersion`; false for an unknown pepper or a malformed stored hash.
   */
  matches(key: string, storedHash: string, pepperVersion: number): boolean;
  /**
   * matchesDigest is `matches` with the stored hash already decoded (decodeStoredHash), for callers that keep
   * decoded hashes in a cache and verify many times.
   */
  matchesDigest(key: string, storedDigest: Uint8Array, pepperVersion: number): boolean;
}

/**
 * createKeyHasher returns a hasher that makes new hashes with `current` and still verifies hashes made with
 * `previous` peppers, so the pepper can be rotated without invalidating keys. Throws RangeError on a pepper
 * shorter than MIN_PEPPER_BYTES, a version that is not a positive integer, or a repeated version.
 */
export function createKeyHasher(current: Pepper, previous: readonly Pepper[] = []): KeyHasher {
  const byVersion = new Map<number, HmacSha256>();
  for (const pepper of [current, ...previous]) {
    if (!Number.isSafeInteger(pepper.version) || pepper.version < 1) {
      throw new RangeError(`pepper version ${pepper.version} must be a positive integer`);
    }
    if (pepper.secret.length < MIN_PEPPER_BYTES) {
      throw new RangeError(`pepper version ${pepper.version} must be at least ${MIN_PEPPER_BYTES} bytes`);
    }
    if (byVersion.has(pepper.version)) {
      throw new RangeError(`pepper version ${pepper.version} is configured twice`);
    }
    byVersion.set(pepper.version, createHmacSha256(pepper.secret));
  }
  const currentHmac = byVersion.get(current.version) as HmacSha256;
  const digest = (key: string, pepperVersion: number): Buffer | null => {
    const hmac = byVersion.get(pepperVersion);
    return hmac === undefined ? null : hmac(key);
  };
  const matchesDigest = (key: string, storedDigest: Uint8Array, pepperVersion: number): boolean => {
    const computed = digest(key, pepperVersion);
    return computed !== null && digestsEqual(computed, storedDigest);
  };
  return {
    currentPepperVersion: current.version,
    hash(key) {
      return { hash: currentHmac(key).toString("base64url"), pepperVersion: current.version };
    },
    digest,
    matches(key, storedHash, pepperVersion) {
      const stored = decodeStoredHash(storedHash);
      return stored !== null && matchesDigest(key, stored, pepperVersion);
    },
    matchesDigest,
  };
}

const BASE64URL_DIGEST = /^[A-Za-z0-9_-]{43}$/;

/**
 * decodeStoredHash decodes a stored base64url hash into its 32 bytes, or returns null when it is not exactly
 * the canonical encoding of 32 bytes (Node's decoder would otherwise skip stray characters silently).
 */
export function decodeStoredHash(hash: string): Buffer | null {
  if (typeof hash !== "string" || !BASE64URL_DIGEST.test(hash)) {
    return null;
  }
  const bytes = Buffer.from(hash, "base64url");
  // 43 characters carry 258 bits; the last 2 must be zero for the text to be the canonical form.
  return bytes.length === DIGEST_BYTES && bytes.toString("base64url") === hash ? bytes : null;
}

/** digestsEqual compares two digests in constant time (the length, which is public, is checked first). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * createHmacSha256 returns a function computing HMAC-SHA-256 under `secret` with node:crypto (one hashing
 * path for writing and verifying). The key is copied: a caller reusing its buffer cannot change it.
 */
export function createHmacSha256(secret: Uint8Array): HmacSha256 {
  // A KeyObject is imported once; a Buffer key would be imported again by every createHmac call.
  const key = createSecretKey(Buffer.from(secret));
  return (message) => createHmac("sha256", key).update(message, "utf8").digest();
}
