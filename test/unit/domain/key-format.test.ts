import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BASE62_ALPHABET, encodeBase62Fixed, randomBase62 } from "../../../src/domain/base62.js";
import {
  CHECKSUM_LENGTH,
  createKeyFormat,
  HINT_SECRET_LENGTH,
  isValidKeyPrefix,
  KEY_ID_RANDOM_LENGTH,
  SECRET_KEY_LENGTH,
  SECRET_RANDOM_LENGTH,
} from "../../../src/domain/key-format.js";
import type { RandomSource } from "../../../src/domain/ports.js";
import { cryptoRandom } from "../../helpers/random.js";

/** seededRandom is a deterministic byte stream (xorshift32), so fast-check can shrink failing keys. */
function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0 || 1;
  return {
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        out[i] = state & 0xff;
      }
      return out;
    },
  };
}

/** scriptedRandom returns the given bytes in order, then zeros. */
function scriptedRandom(script: number[]): RandomSource {
  let position = 0;
  return {
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = script[position++] ?? 0;
      }
      return out;
    },
  };
}

const live = createKeyFormat("ak_live_");
const test = createKeyFormat("ak_test_");
const sample = live.generate(cryptoRandom);

/** withChecksum rebuilds `key` with the checksum digits replaced. */
function withChecksum(key: string, checksum: string): string {
  return key.slice(0, key.length - CHECKSUM_LENGTH) + checksum;
}

/** recomputeChecksum gives `body` (a key without its checksum) the checksum it should have. */
function recomputeChecksum(body: string): string {
  return body + encodeBase62Fixed(crc32(body), CHECKSUM_LENGTH);
}

describe("createKeyFormat", () => {
  it.each(["ak_", "ak_live_", "a_", "abcdefghijklmnop_", "sk_test_", "k9_a1b2c3d4e5f6g7h_"])(
    "accepts the prefix %j",
    (prefix) => {
      expect(isValidKeyPrefix(prefix)).toBe(true);
      expect(createKeyFormat(prefix).prefix).toBe(prefix);
    },
  );

  it.each([
    "",
    "ak",
    "ak_live",
    "AK_LIVE_",
    "1ak_",
    "_ak_",
    "ak__",
    "ak_live_x_",
    "abcdefghijklmnopq_",
    "ak_abcdefghijklmnop_",
    "ak-live_",
    "ak live_",
    "ak_live_\n",
  ])("refuses the prefix %j with invalidArgument(key_prefix)", (prefix) => {
    expect(isValidKeyPrefix(prefix)).toBe(false);
    expect(() => createKeyFormat(prefix)).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
    expect(() => createKeyFormat(prefix)).toThrow(/^key_prefix: /);
  });
});

describe("generate", () => {
  it("issues keys of the documented layout", () => {
    const k = live.generate(cryptoRandom);
    expect(k.keyId).toMatch(/^ak_live_[0-9A-Za-z]{16}$/);
    expect(k.secretKey).toMatch(/^[0-9A-Za-z]{38}$/);
    expect(k.key).toBe(`${k.keyId}_${k.secretKey}`);
    expect(k.key).toHaveLength(live.keyLength);
    expect(k.keyId).toHaveLength(live.keyIdLength);
    expect(k.secretKey).toHaveLength(SECRET_KEY_LENGTH);
    expect(k.hint).toBe(`${k.keyId}_${k.secretKey.slice(0, HINT_SECRET_LENGTH)}…`);
  });

  it("carries at least 190 bits of secret and hides at least 160 of them from the hint", () => {
    const bitsPerChar = Math.log2(BASE62_ALPHABET.length);
    expect(SECRET_RANDOM_LENGTH * bitsPerChar).toBeGreaterThanOrEqual(190);
    expect((SECRET_RANDOM_LENGTH - HINT_SECRET_LENGTH) * bitsPerChar).toBeGreaterThanOrEqual(160);
    expect(KEY_ID_RANDOM_LENGTH * bitsPerChar).toBeGreaterThanOrEqual(90);
  });

  it("checksums everything before the checksum with CRC32, as 6 zero-padded base62 digits", () => {
    const body = sample.key.slice(0, -CHECKSUM_LENGTH);
    const expected = crc32(Buffer.from(body, "ascii"));
    const digits = sample.key.slice(-CHECKSUM_LENGTH);
    const decoded = [...digits].reduce((value, c) => value * 62 + BASE62_ALPHABET.indexOf(c), 0);
    expect(decoded).toBe(expected);
  });

  it("issues different keys every time", () => {
    const keys = new Set(Array.from({ length: 200 }, () => live.generate(cryptoRandom).key));
    expect(keys.size).toBe(200);
  });

  it("generateSecretFor keeps the key id and issues a new secret", () => {
    const rotated = live.generateSecretFor(sample.keyId, cryptoRandom);
    expect(rotated.keyId).toBe(sample.keyId);
    expect(rotated.secretKey).not.toBe(sample.secretKey);
    expect(live.parse(rotated.key)).toEqual({ keyId: sample.keyId });
  });

  it.each([
    ["another prefix", test.generate(cryptoRandom).keyId],
    ["a whole key", sample.key],
    ["a short id", sample.keyId.slice(0, -1)],
    ["empty", ""],
  ])("generateSecretFor refuses %s", (_label, keyId) => {
    expect(() => live.generateSecretFor(keyId, cryptoRandom)).toThrow(/^key_id: /);
  });
});

describe("randomBase62", () => {
  it("discards bytes from 248 up, so every character is equally likely", () => {
    // 248..255 are dropped; 0→"0", 61→"z", 62→"0", 247 (= 3·62 + 61)→"z".
    expect(randomBase62(scriptedRandom([255, 248, 0, 61, 250, 62, 247]), 4)).toBe("0z0z");
  });

  it("maps every accepted byte value to the same number of characters", () => {
    const counts = new Map<string, number>();
    const allBytes = Array.from({ length: 256 }, (_, b) => b);
    for (const c of randomBase62(scriptedRandom(allBytes), 248)) {
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    expect(new Set(counts.values())).toEqual(new Set([4]));
  });

  it("throws instead of looping forever on a source that never yields a usable byte", () => {
    expect(() => randomBase62({ bytes: (n) => new Uint8Array(n).fill(255) }, 16)).toThrow(/not random/);
  });
});

describe("parse: malformed keys", () => {
  const body = sample.key.slice(live.prefix.length);
  const checksum = sample.key.slice(-CHECKSUM_LENGTH);
  const lastChar = sample.key.at(-1) as string;
  const flippedLast = sample.key.slice(0, -1) + (lastChar === "a" ? "b" : "a");
  const crc = crc32(sample.key.slice(0, -CHECKSUM_LENGTH));

  it.each([
    ["empty", ""],
    ["prefix only", "ak_live_"],
    ["foreign vendor sk_live_", `sk_live_${body}`],
    ["foreign vendor ghp_", `ghp_${"a".repeat(36)}`],
    ["upper-cased prefix", `AK_LIVE_${body}`],
    ["test key to a live format", test.generate(cryptoRandom).key],
    ["wrong checksum (last character flipped)", flippedLast],
    ["checksum overflow zzzzzz", withChecksum(sample.key, "zzzzzz")],
    ["checksum wrapped past 2^32", withChecksum(sample.key, encodeBase62Fixed(crc + 2 ** 32, 6))],
    ["one character short", sample.key.slice(0, -1)],
    ["one character long", `${sample.key}a`],
    ["one character long, checksum recomputed", recomputeChecksum(`${sample.key.slice(0, -6)}a`)],
    ["oversized 1 MiB", sample.key + "a".repeat(1024 * 1024)],
    ["Cyrillic homoglyph", `${sample.key.slice(0, 20)}\u0430${sample.key.slice(21)}`],
    ["NUL inside", `${sample.key.slice(0, 20)}\u0000${sample.key.slice(21)}`],
    ["CR LF at the end", `${sample.key.slice(0, -2)}\r\n`],
    ["leading space", ` ${sample.key.slice(1)}`],
    ["leading space (full key)", ` ${sample.key}`],
    ["trailing newline", `${sample.key}\n`],
    ["header pasted whole", `Bearer ${sample.key}`],
    ["separator replaced", `${sample.keyId}-${sample.secretKey}`],
    [
      "separator replaced, checksum recomputed",
      recomputeChecksum(`${sample.keyId}0${sample.secretKey.slice(0, -6)}`),
    ],
    ["key id alone", sample.keyId],
    ["secret key alone", sample.secretKey],
    ["fullwidth digit", `${sample.key.slice(0, 30)}\uff11${sample.key.slice(31)}`],
    ["checksum with a non-base62 character", withChecksum(sample.key, `${checksum.slice(0, 5)}-`)],
  ])("%s → null", (_label, candidate) => {
    expect(live.parse(candidate)).toBeNull();
  });

  it("accepts a generated key and returns its key id", () => {
    expect(live.parse(sample.key)).toEqual({ keyId: sample.keyId });
  });

  it("refuses non-string input without throwing", () => {
    expect(live.parse(undefined as unknown as string)).toBeNull();
    expect(live.parse(42 as unknown as string)).toBeNull();
  });
});

describe("parse: properties P01-P03", () => {
  it("every generated key parses and round-trips to its key id", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom("ak_live_", "ak_test_", "x_", "abcdefghijklmnop_q_"),
        (seed, prefix) => {
          const format = createKeyFormat(prefix);
          const k = format.generate(seededRandom(seed));
          expect(format.parse(k.key)).toEqual({ keyId: k.keyId });
          expect(format.parse(`${k.keyId}_${k.secretKey}`)).toEqual({ keyId: k.keyId });
          expect(format.isKeyId(k.keyId)).toBe(true);
          expect(k.key.startsWith(prefix)).toBe(true);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it("parse is total: any string gives null or a key id, never an exception", () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 4096 }),
          fc.string({ unit: "binary", maxLength: 4096 }),
          fc.string({ unit: anyUnit, maxLength: 4096 }),
          fc.string({ unit: fc.constantFrom(...BASE62_ALPHABET, "_"), minLength: 60, maxLength: 66 }),
        ),
        (candidate) => {
          const parsed = live.parse(candidate);
          if (parsed !== null) {
            expect(candidate.startsWith(parsed.keyId)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("random base62 bodies of the right length are refused unless their checksum is right", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...BASE62_ALPHABET), minLength: 16, maxLength: 16 }),
        fc.string({ unit: fc.constantFrom(...BASE62_ALPHABET), minLength: 38, maxLength: 38 }),
        (id, secret) => {
          const candidate = `ak_live_${id}_${secret}`;
          const body = candidate.slice(0, -CHECKSUM_LENGTH);
          const valid = encodeBase62Fixed(crc32(body), 6) === candidate.slice(-6);
          expect(live.parse(candidate) !== null).toBe(valid);
        },
      ),
    );
  });

  it("every single-character substitution at every position is refused (exhaustive)", () => {
    const replacements = [...BASE62_ALPHABET, "_", "-", " ", "é"];
    for (let n = 0; n < 10; n++) {
      const k = live.generate(cryptoRandom);
      for (let i = 0; i < k.key.length; i++) {
        for (const r of replacements) {
          if (r === k.key[i]) {
            continue;
          }
          const mutated = k.key.slice(0, i) + r + k.key.slice(i + 1);
          expect(live.parse(mutated), `position ${i} → ${r}`).toBeNull();
        }
      }
    }
  });

  it("random keys with a random substitution are refused", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.nat(),
        fc.constantFrom(...BASE62_ALPHABET, "_"),
        (seed, position, replacement) => {
          const k = live.generate(seededRandom(seed));
          const i = position % k.key.length;
          fc.pre(k.key[i] !== replacement);
          expect(live.parse(k.key.slice(0, i) + replacement + k.key.slice(i + 1))).toBeNull();
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe("isKeyId", () => {
  it.each([
    [sample.keyId, true],
    [`ak_live_${"0".repeat(16)}`, true],
    [sample.key, false],
    [sample.keyId.slice(0, -1), false],
    [`${sample.keyId}0`, false],
    [sample.keyId.toUpperCase(), false],
    [`ak_test_${"0".repeat(16)}`, false],
    [`ak_live_${"0".repeat(15)}_`, false],
    ["", false],
  ])("%j → %s", (s, expected) => {
    expect(live.isKeyId(s)).toBe(expected);
  });
});
