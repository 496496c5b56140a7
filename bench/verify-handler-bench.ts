/**
 * Micro-benchmark of a warm VerifyKey inside the process: the KeyVerifyService handler over a warm cache
 * (no transport, no request decoding), with the real verifier, usage recorder, metrics observer and a
 * buffered audit sink whose store never answers (so the buffer fills and drops, as on a database that cannot
 * keep up). Prints the best of several runs in µs per call, with and without the precomputed HMAC.
 * Not a test; run with `npx tsx bench/verify-handler-bench.ts [calls]`.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import type { ApiKeyRecord } from "../src/domain/api-key.js";
import { createBufferedAuditSink } from "../src/domain/buffered-audit-sink.js";
import { createKeyDigestMatcher } from "../src/domain/verification-hmac.js";
import { VerifyKeyRequestSchema } from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createVerifyMetrics } from "../src/metrics/verify-metrics.js";
import { createKeyVerifyHandler } from "../src/rpc/key-verify-handler.js";
import { createVerificationRuntime } from "../src/verify/verification-runtime.js";
import { buildKey, testFormat, testHasher, testPepper } from "../test/helpers/key-fixtures.js";

const calls = Number(process.argv[2] ?? 300_000);
const ROUNDS = 7;

const keys = Array.from({ length: 64 }, (_, i) =>
  buildKey({ permissions: ["orders:read", "orders:write"], ipAllowlist: i % 4 === 0 ? ["10.0.0.0/8"] : [] }),
);
const records = new Map<string, ApiKeyRecord>(keys.map((key) => [key.keyId, key.record]));
const requests = keys.map((key, i) =>
  fromBinary(
    VerifyKeyRequestSchema,
    toBinary(
      VerifyKeyRequestSchema,
      create(VerifyKeyRequestSchema, {
        credential: { case: "key", value: key.key },
        clientIp: i % 4 === 0 ? "10.1.2.3" : "203.0.113.7",
        endpoint: "GET /api/orders/123",
        requiredPermissions: ["orders:read"],
      }),
    ),
  ),
);

async function measure(label: string, precomputedHmac: boolean): Promise<void> {
  const runtime = createVerificationRuntime({
    format: testFormat,
    hasher: testHasher,
    clock: { now: () => new Date() },
    keys: {
      findById: async (id: string) => records.get(id) ?? null,
      recordLastUsed: async () => undefined,
    } as unknown as Parameters<typeof createVerificationRuntime>[0]["keys"],
    groups: { findById: async () => null },
    feed: { publish: async () => undefined, latestSeq: async () => 0, after: async () => [] },
    sink: createBufferedAuditSink({
      store: { append: () => new Promise<void>(() => undefined), after: async () => [] },
      maxBuffered: 100_000,
      maxBatch: 1_000,
      flushIntervalMs: 1_000,
    }),
    replica: "bench",
    observer: createVerifyMetrics(new Registry()),
    ...(precomputedHmac ? { matcher: createKeyDigestMatcher([testPepper]) } : {}),
  });
  await runtime.start();
  const handler = createKeyVerifyHandler(runtime.verifier);
  const context = {} as Parameters<typeof handler.verifyKey>[1];
  for (const request of requests) {
    await handler.verifyKey(request, context);
  }
  let best = Number.POSITIVE_INFINITY;
  let valid = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      const response = handler.verifyKey(requests[i & 63] as (typeof requests)[number], context);
      if (!(response instanceof Promise) && response.valid) {
        valid += 1;
      }
      // Let the sink's timers run now and then, as a server's event loop would.
      if ((i & 4095) === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    best = Math.min(best, ((performance.now() - started) * 1_000) / calls);
  }
  await runtime.stop();
  console.log(`${label}: best ${best.toFixed(2)} us per call (${valid} valid answers)`);
}

await measure("precomputed HMAC (product)", true);
await measure("KeyHasher one-shot HMAC", false);
