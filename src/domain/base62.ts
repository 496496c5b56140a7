/** Base62 text ([0-9A-Za-z]): the alphabet of key ids, secrets, checksums and group ids. */
import type { RandomSource } from "./ports.js";

/** BASE62_ALPHABET lists the 62 characters in ASCII order, so digit values sort like their characters. */
export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Maps a char code (< 128) to its digit value, or -1. A table beats a regex on the verify hot path.
const DIGIT_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE62_ALPHABET.length; i++) {
  DIGIT_VALUE[BASE62_ALPHABET.charCodeAt(i)] = i;
}

// The largest multiple of 62 that fits in a byte: bytes at or above it are discarded, so every character is
// equally likely (plain `byte % 62` would favour the first 8 characters).
const REJECT_FROM = 62 * 4;

// A broken random source (for example one returning only 0xff) would otherwise loop forever.
const MAX_DRAWS = 64;

export function isBase62Code(c: number): boolean {
  return c < 128 && (DIGIT_VALUE[c] as number) >= 0;
}

/** isBase62 tells whether `s[start, end)` consists only of base62 characters; false when out of range. */
export function isBase62(s: string, start = 0, end = s.length): boolean {
  if (start < 0 || end > s.length || start > end) {
    return false;
  }
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (DIGIT_VALUE[c] as number) < 0) {
      return false;
    }
  }
  return true;
}

/** decodeBase62 reads `s[start, end)` (at most 8 digits: 62^8 < 2^53, exact) as a number, or -1. */
export function decodeBase62(s: string, start: number, end: number): number {
  if (end - start > 8 || start < 0 || end > s.length || start >= end) {
    return -1;
  }
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const digit = c < 128 ? (DIGIT_VALUE[c] as number) : -1;
    if (digit < 0) {
      return -1;
    }
    value = value * 62 + digit;
  }
  return value;
}

/** randomBase62 draws uniform base62 characters (rejection sampling: ≈ 5.954 bits each). */
export function randomBase62(random: RandomSource, length: number): string {
  let out = "";
  for (let draw = 0; out.length < length; draw++) {
    if (draw >= MAX_DRAWS) {
      throw new Error("random source keeps returning out-of-range bytes; it is not random");
    }
    // About 3% of bytes are rejected; a few spare bytes usually finish the string in one draw.
    const bytes = random.bytes(length - out.length + 8);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i] as number;
      if (b < REJECT_FROM) {
        out += BASE62_ALPHABET[b % 62];
      }
    }
  }
  return out;
}

/** encodeBase62Fixed writes exactly `width` digits, "0"-padded; more needed is a programming error. */
export function encodeBase62Fixed(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError("encodeBase62Fixed needs a non-negative safe integer");
  }
  let out = "";
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  if (rest !== 0) {
    throw new RangeError(`value does not fit in ${width} base62 digits`);
  }
  return out;
}
