/**
 * The keyed hash stored for each key secret: HMAC-SHA-256 of the whole key under a server-side pepper,
 * base64url. The pepper lives only in the server's configuration, so a leaked database alone does not let
 * anyone test guesses offline. Keys carry ≥ 190 random bits, so a fast hash is enough (no slow KDF).
 */
import { createHmac, createSecretKey, hash } from "node:crypto";

/** MIN_PEPPER_BYTES is the shortest pepper accepted: 256 bits, the HMAC-SHA-256 security level. */
export const MIN_PEPPER_BYTES = 32;

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

/** HmacSha256 computes HMAC-SHA-256 of a string's UTF-8 bytes under a fixed key, as base64url text. */
export type HmacSha256 = (message: string) => string;

/** KeyHasher hashes keys with the current pepper and checks them against hashes made with any known pepper. */
export interface KeyHasher {
  /** currentPepperVersion is the version new hashes are made with. */
  readonly currentPepperVersion: number;
  /** hash makes the stored hash of a whole key with the current pepper. */
  hash(key: string): StoredKeyHash;
  /** digest is the base64url HMAC of `key` under pepper `pepperVersion`, or null if that pepper is unknown. */
  digest(key: string, pepperVersion: number): string | null;
  /**
   * matches tells whether `key` hashes to `storedHash` under pepper `pepperVersion`; false for an unknown
   * pepper or a stored hash that is not the canonical text of a digest.
   */
  matches(key: string, storedHash: string, pepperVersion: number): boolean;
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
  const digest = (key: string, pepperVersion: number): string | null => {
    const hmac = byVersion.get(pepperVersion);
    return hmac === undefined ? null : hmac(key);
  };
  return {
    currentPepperVersion: current.version,
    hash(key) {
      return { hash: currentHmac(key), pepperVersion: current.version };
    },
    digest,
    matches(key, storedHash, pepperVersion) {
      return digestsEqual(digest(key, pepperVersion), storedHash);
    },
  };
}

/**
 * digestsEqual tells whether a computed digest (null: unknown pepper) equals a stored hash. A plain
 * comparison: both sides are HMAC outputs under the secret pepper, which a caller choosing candidate keys
 * cannot steer, so where the texts first differ tells nothing about any key. A stored text that is not the
 * canonical base64url of 32 bytes never equals a computed one.
 */
export function digestsEqual(computed: string | null, stored: string): boolean {
  return computed !== null && computed === stored;
}

/**
 * createHmacSha256 returns a function computing HMAC-SHA-256 under `secret` with node:crypto (one hashing
 * path for writing and verifying). The key is copied: a caller reusing its buffer cannot change it.
 */
export function createHmacSha256(secret: Uint8Array): HmacSha256 {
  // A KeyObject is imported once; a Buffer key would be imported again by every createHmac call. Text output
  // spares every call a Buffer (an external allocation the garbage collector has to track and free).
  const key = createSecretKey(Buffer.from(secret));
  return (message) => createHmac("sha256", key).update(message, "utf8").digest("base64url");
}

/**
 * keyFingerprint is the unkeyed SHA-256 of a presented key, base64url: how the verifier recognises a key it
 * has already matched against its keyed hash (see key-verifier.ts). Equal fingerprints mean equal keys
 * (collision resistance); the key cannot be recovered from one (it carries ≥ 190 random bits). Held in
 * memory only, never stored, logged or sent.
 */
export function keyFingerprint(key: string): string {
  return hash("sha256", key, "base64url");
}
