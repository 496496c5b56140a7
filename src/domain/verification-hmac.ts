/**
 * KeyDigestMatcher: the keyed-hash check of VerifyKey's hot path. It computes exactly the stored hash of
 * key-hash.ts — HMAC-SHA-256 of the whole key under the pepper (RFC 2104) — but from precomputed state:
 *
 * - HMAC hashes (K ⊕ ipad) and (K ⊕ opad), one 64-byte block each, before the message. Those two blocks
 *   depend only on the pepper, so their SHA-256 "midstates" are computed once per pepper. A call then runs
 *   three compression functions for a whole key (the ~63-byte key and its padding take two inner blocks, the
 *   inner digest one outer block) instead of five, and none of the per-call overhead of crypto.hash
 *   (argument checks, algorithm lookup, two output Buffers).
 * - It runs in plain JavaScript on 32-bit integers into preallocated scratch arrays: no allocation, no
 *   native call. SHA-256 has no data-dependent branches or table lookups, so the time depends on the key's
 *   length only (public); wordsEqual compares digests without an early exit.
 *
 * Measured here (bench/verify-bench.ts and the micro-benchmark in docs/bench.md) it takes well under half
 * the time of the two one-shot crypto.hash calls it replaces. test/verify/verification-hmac.test.ts checks it
 * against node:crypto's createHmac for every key length it accepts.
 *
 * It only takes keys that KeyFormat.parse accepted: ASCII, at most MAX_MATCHED_LENGTH characters; anything
 * else is refused (false), never approximated. The scratch arrays hold key bytes only during a call and are
 * zeroed before it returns.
 */
import { createHash } from "node:crypto";
import type { Pepper } from "./key-hash.js";

/** MAX_MATCHED_LENGTH is the longest key the matcher takes: two inner blocks (128 bytes) minus the padding. */
export const MAX_MATCHED_LENGTH = 128 - 9;

/** DigestWords is a SHA-256 digest as eight big-endian 32-bit words. */
export type DigestWords = Int32Array;

/** KeyDigestMatcher computes keyed hashes of presented keys as digest words. */
export interface KeyDigestMatcher {
  /**
   * digestInto writes the HMAC of `key` under pepper `pepperVersion` into `out` (eight words) and returns
   * true; it returns false, writing nothing, for an unknown pepper or a key longer than MAX_MATCHED_LENGTH,
   * and false after writing for a key that is not ASCII (its stored hash was made from other bytes).
   */
  digestInto(key: string, pepperVersion: number, out: DigestWords): boolean;
}

/** wordsEqual compares two digests without an early exit (the time does not depend on where they differ). */
export function wordsEqual(a: DigestWords, b: DigestWords): boolean {
  if (a.length !== b.length) {
    return false;
  }
  let difference = 0;
  for (let i = 0; i < a.length; i++) {
    difference |= (a[i] as number) ^ (b[i] as number);
  }
  return difference === 0;
}

/** digestWords turns a 32-byte digest into its eight big-endian words (null for any other length). */
export function digestWords(digest: Uint8Array): DigestWords | null {
  if (digest.length !== 32) {
    return null;
  }
  const words = new Int32Array(8);
  for (let i = 0; i < 8; i++) {
    words[i] =
      ((digest[4 * i] as number) << 24) |
      ((digest[4 * i + 1] as number) << 16) |
      ((digest[4 * i + 2] as number) << 8) |
      (digest[4 * i + 3] as number);
  }
  return words;
}

// SHA-256 round constants (FIPS 180-4 §4.2.2) and initial hash value (§5.3.3).
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Scratch state shared by every matcher: calls are synchronous, so they never overlap.
const W = new Int32Array(64);
const MESSAGE = new Int32Array(32);
const INNER = new Int32Array(8);
const OUTER_BLOCK = new Int32Array(16);

/** compress runs the SHA-256 compression function on the 16 words of `block` at `offset`, updating `state`. */
function compress(state: Int32Array, block: Int32Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    W[i] = block[offset + i] as number;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15] as number;
    const w2 = W[i - 2] as number;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choose = (e & f) ^ (~e & g);
    const t1 = (h + s1 + choose + (K[i] as number) + (W[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (s0 + majority) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}

/** padMidstate is the SHA-256 state after one block of the padded pepper XOR `pad`. */
function padMidstate(keyBlock: Uint8Array, pad: number): Int32Array {
  const block = new Int32Array(16);
  for (let i = 0; i < 16; i++) {
    block[i] =
      (((keyBlock[4 * i] as number) ^ pad) << 24) |
      (((keyBlock[4 * i + 1] as number) ^ pad) << 16) |
      (((keyBlock[4 * i + 2] as number) ^ pad) << 8) |
      ((keyBlock[4 * i + 3] as number) ^ pad);
  }
  const state = IV.slice();
  compress(state, block, 0);
  block.fill(0);
  return state;
}

interface PadStates {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

/**
 * createKeyDigestMatcher precomputes the pad midstates of every pepper (current and previous). The peppers
 * are not kept; the midstates are as sensitive as the peppers and live only in this closure.
 */
export function createKeyDigestMatcher(peppers: readonly Pepper[]): KeyDigestMatcher {
  const byVersion = new Map<number, PadStates>();
  for (const pepper of peppers) {
    // RFC 2104: a key longer than the block is hashed first; every key is zero-padded to one block.
    const keyBlock = new Uint8Array(64);
    keyBlock.set(
      pepper.secret.length > 64 ? createHash("sha256").update(pepper.secret).digest() : pepper.secret,
    );
    byVersion.set(pepper.version, { inner: padMidstate(keyBlock, 0x36), outer: padMidstate(keyBlock, 0x5c) });
    keyBlock.fill(0);
  }

  return {
    digestInto(key, pepperVersion, out) {
      const pads = byVersion.get(pepperVersion);
      const length = key.length;
      if (pads === undefined || length > MAX_MATCHED_LENGTH || out.length !== 8) {
        return false;
      }
      // The message (the key's bytes as big-endian words), the 0x80 terminator and the bit length of
      // ipad block + message, in one or two blocks.
      let ascii = 0;
      for (let i = 0; i < length; i++) {
        const code = key.charCodeAt(i);
        ascii |= code;
        MESSAGE[i >> 2] = (MESSAGE[i >> 2] as number) | (code << (24 - 8 * (i & 3)));
      }
      MESSAGE[length >> 2] = (MESSAGE[length >> 2] as number) | (0x80 << (24 - 8 * (length & 3)));
      const blocks = length + 9 <= 64 ? 1 : 2;
      MESSAGE[blocks * 16 - 1] = (64 + length) * 8;
      INNER.set(pads.inner);
      compress(INNER, MESSAGE, 0);
      if (blocks === 2) {
        compress(INNER, MESSAGE, 16);
      }
      // No key byte outlives the call (the outer compression below overwrites the schedule in W).
      MESSAGE.fill(0);
      OUTER_BLOCK.set(INNER);
      OUTER_BLOCK[8] = 0x80000000 | 0;
      OUTER_BLOCK[15] = (64 + 32) * 8;
      out.set(pads.outer);
      compress(out, OUTER_BLOCK, 0);
      return ascii < 0x80;
    },
  };
}
