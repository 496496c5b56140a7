/**
 * Micro-benchmark of the VerifyKey keyed hash (HMAC-SHA-256 of a whole key under the pepper): the candidate
 * implementations side by side, interleaved over several rounds, medians in ns/op. Not a test; run with
 * `npx tsx bench/key-hash-bench.ts [rounds] [iterations]`.
 */
import { createHash, createHmac, hash, randomBytes } from "node:crypto";
import { createKeyFormat } from "../src/domain/key-format.js";
import { createHmacSha256, createKeyHasher, decodeStoredHash } from "../src/domain/key-hash.js";

const rounds = Number(process.argv[2] ?? 7);
const iterations = Number(process.argv[3] ?? 200_000);

const pepper = randomBytes(32);
const format = createKeyFormat("ak_live_");
const keys = Array.from({ length: 1024 }, () => format.generate({ bytes: (n) => randomBytes(n) }).key);

// Candidate 1: a new HMAC object per call.
const viaCreateHmac = (key: string): Buffer => createHmac("sha256", pepper).update(key).digest();

// Candidate 2: inner and outer SHA-256 states precomputed over the padded key blocks, copied per call.
const block = Buffer.alloc(64);
block.set(pepper);
const ipadState = createHash("sha256").update(block.map((b) => b ^ 0x36));
const opadState = createHash("sha256").update(block.map((b) => b ^ 0x5c));
const viaCopiedStates = (key: string): Buffer =>
  opadState.copy().update(ipadState.copy().update(key).digest()).digest();

// Candidate 3: inner state copied, outer one-shot crypto.hash over a preallocated block.
const outerBlock = Buffer.alloc(96);
outerBlock.set(
  block.map((b) => b ^ 0x5c),
  0,
);
const viaCopiedInnerOneShotOuter = (key: string): Buffer => {
  outerBlock.set(ipadState.copy().update(key).digest(), 64);
  return hash("sha256", outerBlock, "buffer");
};

// Candidate 4 (chosen): RFC 2104 with two one-shot crypto.hash calls into preallocated buffers.
const viaOneShot = createHmacSha256(pepper);

// For scale: one plain SHA-256 (what an unkeyed hash would cost) and the full hasher paths.
const plainSha256 = (key: string): Buffer => hash("sha256", key, "buffer");
const hasher = createKeyHasher({ version: 1, secret: pepper });
const stored = keys.map((key) => hasher.hash(key).hash);
const storedDigests = stored.map((h) => decodeStoredHash(h) as Buffer);

for (const key of keys.slice(0, 16)) {
  const expected = viaCreateHmac(key);
  for (const candidate of [viaCopiedStates, viaCopiedInnerOneShotOuter, viaOneShot]) {
    if (!candidate(key).equals(expected)) {
      throw new Error("a candidate does not compute HMAC-SHA-256");
    }
  }
}

const candidates: Array<[string, (i: number) => unknown]> = [
  ["createHmac per call", (i) => viaCreateHmac(keys[i & 1023] as string)],
  ["copied inner+outer states", (i) => viaCopiedStates(keys[i & 1023] as string)],
  ["copied inner + one-shot outer", (i) => viaCopiedInnerOneShotOuter(keys[i & 1023] as string)],
  ["one-shot crypto.hash x2 (chosen)", (i) => viaOneShot(keys[i & 1023] as string)],
  ["plain SHA-256 (unkeyed, for scale)", (i) => plainSha256(keys[i & 1023] as string)],
  [
    "hasher.matches (decode + HMAC + compare)",
    (i) => hasher.matches(keys[i & 1023] as string, stored[i & 1023] as string, 1),
  ],
  [
    "hasher.matchesDigest (HMAC + compare)",
    (i) => hasher.matchesDigest(keys[i & 1023] as string, storedDigests[i & 1023] as Buffer, 1),
  ],
];

const samples = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
let sink = 0;
for (let round = 0; round < rounds + 1; round++) {
  for (const [name, run] of candidates) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      if (run(i)) {
        sink++;
      }
    }
    const nsPerOp = Number(process.hrtime.bigint() - start) / iterations;
    // Round 0 only warms up the JIT.
    if (round > 0) {
      samples.get(name)?.push(nsPerOp);
    }
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

console.log(`node ${process.version}, ${rounds} rounds x ${iterations} ops, median ns/op (min-max)`);
for (const [name, values] of samples) {
  console.log(
    `${name.padEnd(44)} ${median(values).toFixed(0).padStart(6)}  (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})`,
  );
}
if (sink < 0) {
  console.log(sink);
}
