/**
 * Micro-benchmark of a warm VerifyKey inside one thread, built as the verify worker builds it: the
 * KeyVerifyService handler over a warm KeyCache (no transport, no request decoding), the real verifier with
 * the precomputed HMAC, the usage relay (its batches go nowhere) and the hot-path counters. 256 keys, a
 * quarter with an IPv4 allowlist, a third presented as `Bearer`.
 *
 * Two figures, each the best of several runs in µs per call:
 * - hot: calls back to back, everything in the CPU caches;
 * - disturbed: between two calls the benchmark reads DISTURB_KB (default 1024) KiB of memory, as the
 *   transport's own work does between two verifications in a server, and the time of that read alone is
 *   subtracted. This is the figure that tracks what verification costs behind a real gRPC port.
 *
 * Not a test; run with `npx tsx bench/verify-handler-bench.ts [calls]` (DISTURB_KB=0 skips the second).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ApiKeyRecord } from "../src/domain/api-key.js";
import { createKeyVerifier } from "../src/domain/key-verifier.js";
import { createKeyDigestMatcher } from "../src/domain/verification-hmac.js";
import { VerifyKeyRequestSchema } from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createVerifyCounters } from "../src/metrics/verify-counters.js";
import { createKeyVerifyHandler } from "../src/rpc/key-verify-handler.js";
import { createKeyCache } from "../src/verify/key-cache.js";
import { createVerifyUsageRecorder } from "../src/verify/usage-recorder.js";
import { createUsageRelay } from "../src/verify-worker/usage-relay.js";
import { buildKey, testFormat, testHasher, testPepper } from "../test/helpers/key-fixtures.js";

const calls = Number(process.argv[2] ?? 200_000);
const disturbKb = Number(process.env.DISTURB_KB ?? 1_024);
const ROUNDS = 7;
const KEYS = 256;

const keys = Array.from({ length: KEYS }, (_, i) =>
  buildKey({ permissions: ["orders:read", "orders:write"], ipAllowlist: i % 4 === 0 ? ["10.0.0.0/8"] : [] }),
);
const records = new Map<string, ApiKeyRecord>(keys.map((key) => [key.keyId, key.record]));
const requests = keys.map((key, i) =>
  fromBinary(
    VerifyKeyRequestSchema,
    toBinary(
      VerifyKeyRequestSchema,
      create(VerifyKeyRequestSchema, {
        credential:
          i % 3 === 0
            ? { case: "authorization", value: `Bearer ${key.key}` }
            : { case: "key", value: key.key },
        clientIp: i % 4 === 0 ? `10.1.2.${i % 200}` : `203.0.113.${i % 200}`,
        endpoint: `GET /api/orders/${i % 10}`,
        requiredPermissions: ["orders:read"],
      }),
    ),
  ),
);

let taken = 0;
const relay = createUsageRelay({
  post: (batch) => {
    taken = (taken + batch.count) | 0;
  },
  taken: () => taken,
  batchSize: 2_048,
  maxBufferedEvents: 10_000,
  flushIntervalMs: 100,
});
const cache = createKeyCache({
  keys: { findById: async (id) => records.get(id) ?? null },
  groups: { findById: async () => null },
});
cache.markFeedFresh(performance.now() + 3_600_000);
const verifier = createKeyVerifier({
  format: testFormat,
  hasher: testHasher,
  matcher: createKeyDigestMatcher([testPepper]),
  source: cache,
  clock: { now: () => new Date() },
  usage: createVerifyUsageRecorder({ events: relay, keys: { recordLastUsed: async () => undefined } }),
  observer: createVerifyCounters(),
});
const handler = createKeyVerifyHandler(verifier);
const context = {} as Parameters<typeof handler.verifyKey>[1];
for (const request of requests) {
  await handler.verifyKey(request, context);
}

const memory = new Float64Array((disturbKb * 1_024) / 8);
let checksum = 0;
function disturb(): void {
  // One read per 64-byte line.
  for (let i = 0; i < memory.length; i += 8) {
    checksum += memory[i] as number;
  }
}

async function measure(withDisturbance: boolean): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    let disturbance = 0;
    if (withDisturbance) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) {
        disturb();
      }
      disturbance = performance.now() - started;
    }
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      if (withDisturbance) {
        disturb();
      }
      handler.verifyKey(requests[(i * 7) % KEYS] as (typeof requests)[number], context);
    }
    best = Math.min(best, ((performance.now() - started - disturbance) * 1_000) / calls);
    // Let the relay's timer run, as a server's event loop would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return best;
}

console.log(`hot: best ${(await measure(false)).toFixed(2)} us per call`);
if (disturbKb > 0) {
  console.log(
    `disturbed (${disturbKb} KiB read between calls): best ${(await measure(true)).toFixed(2)} us per call`,
  );
}
if (checksum !== 0) {
  throw new Error("the disturbance read memory that was never written");
}
