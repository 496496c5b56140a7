/**
 * The precomputed HMAC of the hot path must be byte-for-byte node:crypto's HMAC-SHA-256 for every key it
 * accepts, refuse what it cannot hash exactly, and leave no key bytes behind.
 */
import { createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createKeyHasher, decodeStoredHash } from "../../src/domain/key-hash.js";
import {
  createKeyDigestMatcher,
  type DigestWords,
  digestWords,
  MAX_MATCHED_LENGTH,
  wordsEqual,
} from "../../src/domain/verification-hmac.js";
import { cryptoRandom, testFormat } from "../helpers/key-fixtures.js";

const reference = (pepper: Uint8Array, key: string): DigestWords =>
  digestWords(createHmac("sha256", pepper).update(key, "utf8").digest()) as DigestWords;

const computed = (matcher: ReturnType<typeof createKeyDigestMatcher>, key: string, version = 1) => {
  const out = new Int32Array(8);
  const ok = matcher.digestInto(key, version, out);
  return { ok, out };
};

describe("createKeyDigestMatcher", () => {
  it("computes HMAC-SHA-256 exactly for every ASCII key length it accepts (0-119) and any pepper length", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.string({
          unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
          maxLength: MAX_MATCHED_LENGTH,
        }),
        (pepper, key) => {
          const matcher = createKeyDigestMatcher([{ version: 3, secret: pepper }]);
          const { ok, out } = computed(matcher, key, 3);
          expect(ok).toBe(true);
          expect([...out]).toEqual([...reference(pepper, key)]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([0, 1, 54, 55, 56, 63, 64, 118, 119])("is exact at the padding boundary length %i", (length) => {
    const pepper = randomBytes(32);
    const key = "k".repeat(length);
    expect([...computed(createKeyDigestMatcher([{ version: 1, secret: pepper }]), key).out]).toEqual([
      ...reference(pepper, key),
    ]);
  });

  it("agrees with the stored hashes KeyHasher makes, for real keys and several pepper versions", () => {
    const peppers = [
      { version: 1, secret: randomBytes(32) },
      { version: 2, secret: randomBytes(48) },
    ];
    const hasher = createKeyHasher(peppers[1] as (typeof peppers)[number], [
      peppers[0] as (typeof peppers)[number],
    ]);
    const matcher = createKeyDigestMatcher(peppers);
    for (let i = 0; i < 50; i++) {
      const key = testFormat.generate(cryptoRandom).key;
      for (const version of [1, 2]) {
        const stored = digestWords(hasher.digest(key, version) as Buffer) as DigestWords;
        const { ok, out } = computed(matcher, key, version);
        expect(ok && wordsEqual(out, stored)).toBe(true);
      }
      const storedHash = hasher.hash(key);
      const words = digestWords(decodeStoredHash(storedHash.hash) as Buffer) as DigestWords;
      expect(wordsEqual(computed(matcher, key, storedHash.pepperVersion).out, words)).toBe(true);
      const other = testFormat.generate(cryptoRandom).key;
      expect(wordsEqual(computed(matcher, other, storedHash.pepperVersion).out, words)).toBe(false);
    }
  });

  it("refuses an unknown pepper, a key that is too long, and a non-ASCII key", () => {
    const matcher = createKeyDigestMatcher([{ version: 1, secret: randomBytes(32) }]);
    expect(computed(matcher, "abc", 2).ok).toBe(false);
    expect(computed(matcher, "a".repeat(MAX_MATCHED_LENGTH + 1)).ok).toBe(false);
    expect(computed(matcher, "ak_test_é").ok).toBe(false);
    expect(computed(matcher, "ak_test_\u{1F511}").ok).toBe(false);
    expect(matcher.digestInto("abc", 1, new Int32Array(7))).toBe(false);
  });

  it("compares digests of different lengths as unequal", () => {
    expect(wordsEqual(new Int32Array(8), new Int32Array(7))).toBe(false);
    expect(digestWords(new Uint8Array(31))).toBeNull();
  });
});
