/**
 * The API key format (docs/architecture.md): <prefix><id16>_<secret32><checksum6>, the key id being
 * prefix + id16 and the CRC32 checksum letting VerifyKey reject typos without a database lookup.
 */
import { crc32 } from "node:zlib";
import { decodeBase62, encodeBase62Fixed, isBase62, isBase62Code, randomBase62 } from "./base62.js";
import { invalidArgument } from "./errors.js";
import type { RandomSource } from "./ports.js";

export const KEY_ID_RANDOM_LENGTH = 16;
/** SECRET_RANDOM_LENGTH is the number of random base62 characters of the secret (≥ 190 bits). */
export const SECRET_RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
export const HINT_SECRET_LENGTH = 4;
/** SECRET_KEY_LENGTH is the length of the secret key (secret + checksum) of the two-part credential. */
export const SECRET_KEY_LENGTH = SECRET_RANDOM_LENGTH + CHECKSUM_LENGTH;
export const KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}_(?:[a-z0-9]{1,15}_)?$/;

/** GeneratedKey is a freshly issued key in all its forms. `key` and `secretKey` are secret. */
export interface GeneratedKey {
  /** keyId is the public key id, "<prefix><id16>". */
  readonly keyId: string;
  /** secretKey is the secret part of the two-part credential, "<secret32><checksum6>". Secret. */
  readonly secretKey: string;
  /** key is the whole key, keyId + "_" + secretKey. Secret. */
  readonly key: string;
  /** hint is the non-secret display hint, "<keyId>_<first 4 secret chars>…". */
  readonly hint: string;
}

/** ParsedKey is what a well-formed key reveals without a database: its public id. */
export interface ParsedKey {
  readonly keyId: string;
}

/** KeyFormat generates and parses keys of one prefix. */
export interface KeyFormat {
  readonly prefix: string;
  readonly keyLength: number;
  readonly keyIdLength: number;
  generate(random: RandomSource): GeneratedKey;
  /** generateSecretFor issues a new secret for an existing key id (rotation keeps the id). */
  generateSecretFor(keyId: string, random: RandomSource): GeneratedKey;
  /** parse is total (null for anything but a well-formed key) and O(1) for a wrong length. */
  parse(candidate: string): ParsedKey | null;
  isKeyId(s: string): boolean;
}

export function isValidKeyPrefix(prefix: string): boolean {
  return KEY_PREFIX_PATTERN.test(prefix);
}

export function createKeyFormat(prefix: string): KeyFormat {
  if (!isValidKeyPrefix(prefix)) {
    throw invalidArgument(
      "key_prefix",
      `${JSON.stringify(prefix.slice(0, 40))} must match ${KEY_PREFIX_PATTERN.source} (for example "ak_live_")`,
    );
  }
  const keyIdLength = prefix.length + KEY_ID_RANDOM_LENGTH;
  const secretStart = keyIdLength + 1;
  const checksumStart = secretStart + SECRET_RANDOM_LENGTH;
  const keyLength = checksumStart + CHECKSUM_LENGTH;

  const isKeyId = (s: string): boolean =>
    typeof s === "string" &&
    s.length === keyIdLength &&
    s.startsWith(prefix) &&
    isBase62(s, prefix.length, keyIdLength);

  const assemble = (keyId: string, random: RandomSource): GeneratedKey => {
    const secret = randomBase62(random, SECRET_RANDOM_LENGTH);
    const body = `${keyId}_${secret}`;
    const secretKey = secret + encodeBase62Fixed(crc32(body), CHECKSUM_LENGTH);
    return {
      keyId,
      secretKey,
      key: `${keyId}_${secretKey}`,
      hint: `${keyId}_${secret.slice(0, HINT_SECRET_LENGTH)}…`,
    };
  };

  return {
    prefix,
    keyLength,
    keyIdLength,
    generate(random) {
      return assemble(prefix + randomBase62(random, KEY_ID_RANDOM_LENGTH), random);
    },
    generateSecretFor(keyId, random) {
      if (!isKeyId(keyId)) {
        throw invalidArgument("key_id", `is not a key id of the form ${prefix}<16 base62 characters>`);
      }
      return assemble(keyId, random);
    },
    parse(candidate) {
      // Length first: a 1 MiB string is rejected before any character is looked at.
      if (typeof candidate !== "string" || candidate.length !== keyLength) {
        return null;
      }
      if (!candidate.startsWith(prefix) || candidate.charCodeAt(keyIdLength) !== UNDERSCORE) {
        return null;
      }
      for (let i = prefix.length; i < checksumStart; i++) {
        if (i !== keyIdLength && !isBase62Code(candidate.charCodeAt(i))) {
          return null;
        }
      }
      // The checked part is ASCII now, so its UTF-8 bytes (what zlib hashes) are the issued key's. Comparing
      // numbers (not re-encoded text) also rejects digits that decode above 2^32 − 1, like "zzzzzz"; a
      // non-base62 checksum character decodes to -1.
      if (decodeBase62(candidate, checksumStart, keyLength) !== crc32(candidate.slice(0, checksumStart))) {
        return null;
      }
      return { keyId: candidate.slice(0, keyIdLength) };
    },
    isKeyId,
  };
}

const UNDERSCORE = 0x5f;
