/**
 * The verification metrics as Prometheus scrapes them: verdicts by code, errors, latency histogram, cache
 * hits/misses/sizes, invalidation lag and poll age, audit accounting (emitted = persisted + dropped +
 * buffered, with the real buffered sink writing into the real audit store) and database commands.
 */
import { MongoClient } from "mongodb";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBufferedAuditSink } from "../../src/audit/buffered-audit-sink.js";
import type { KeyVerifier } from "../../src/domain/key-verifier.js";
import { countDbCommands } from "../../src/metrics/db-command-counter.js";
import { createVerifyMetrics, registerVerificationRuntimeMetrics } from "../../src/metrics/verify-metrics.js";
import { verificationSettingsOf } from "../../src/server/verification-config.js";
import { createMongoAuditEventStore } from "../../src/storage/audit-event-store.js";
import { createMongoChangeFeed } from "../../src/storage/change-feed.js";
import { createMongoGroupRepository } from "../../src/storage/group-repository.js";
import { createMongoKeyRepository } from "../../src/storage/key-repository.js";
import {
  createVerificationRuntime,
  type VerificationRuntime,
} from "../../src/verify/verification-runtime.js";
import { issueKey, ManualClock, revokeKey, testFormat, testHasher } from "../helpers/key-fixtures.js";
import { mongoUri, uniqueDbName } from "../helpers/mongo.js";
import { DEFAULTS } from "../helpers/service-budgets.js";

const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
const db = client.db(uniqueDbName("verifymetrics"));
const commands = countDbCommands(client);
const registry = new Registry();
const metrics = createVerifyMetrics(registry);
const sink = createBufferedAuditSink({
  store: createMongoAuditEventStore(db),
  maxBuffered: 10_000,
  maxBatch: 500,
  flushIntervalMs: 20,
});
let runtime: VerificationRuntime;
let verifier: KeyVerifier;

beforeAll(async () => {
  const keys = createMongoKeyRepository(db);
  runtime = createVerificationRuntime({
    format: testFormat,
    hasher: testHasher,
    clock: new ManualClock(),
    keys,
    groups: createMongoGroupRepository(db),
    feed: createMongoChangeFeed(db),
    sink,
    replica: "metrics-test",
    settings: verificationSettingsOf(DEFAULTS),
    observer: metrics,
    onInvalidationLag: metrics.invalidationLag,
  });
  registerVerificationRuntimeMetrics(registry, {
    cache: runtime.cache.stats,
    follower: runtime.follower.stats,
    notifier: runtime.notifier.stats,
    usage: runtime.usage.stats,
    audit: sink.counters,
    dbCommands: commands.total,
  });
  await runtime.start();
  verifier = runtime.verifier;
});

afterAll(async () => {
  await runtime.stop();
  await sink.close();
  await db.dropDatabase().catch(() => undefined);
  await client.close();
});

/** scrape returns the sample values of the registry by "name{labels}". */
async function scrape(): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const verify = (key: string, clientIp = "") =>
  Promise.resolve().then(() =>
    verifier.verify({ credential: { kind: "key", key }, clientIp, endpoint: "", requiredPermissions: [] }),
  );

describe("verification metrics", () => {
  it("count verdicts, errors, latency, cache hits and misses", async () => {
    const key = await issueKey(createMongoKeyRepository(db));
    const before = await scrape();
    await verify(key.key);
    await verify(key.key);
    await verify("garbage");
    await expect(verify(key.key, "not-an-ip")).rejects.toThrow();
    const after = await scrape();
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('apikeys_verify_verdicts_total{code="valid"}')).toBe(2);
    expect(delta('apikeys_verify_verdicts_total{code="not_found"}')).toBe(1);
    expect(delta('apikeys_verify_errors_total{kind="invalid_argument"}')).toBe(1);
    expect(delta("apikeys_verify_duration_seconds_count")).toBe(4);
    expect(delta('apikeys_verify_duration_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(delta('apikeys_verify_cache_misses_total{cache="key"}')).toBe(1);
    expect(delta('apikeys_verify_cache_hits_total{cache="positive"}')).toBe(1);
    expect(after.get('apikeys_verify_cache_entries{cache="positive"}')).toBeGreaterThanOrEqual(1);
    expect(after.get("apikeys_verify_cache_bytes")).toBeGreaterThan(0);
    expect(delta("apikeys_db_commands_total")).toBeGreaterThanOrEqual(1);
  });

  it("keep the audit accounting exact: emitted = persisted + dropped + buffered", async () => {
    const key = await issueKey(createMongoKeyRepository(db));
    for (let i = 0; i < 50; i++) {
      await verify(key.key);
    }
    const mid = await scrape();
    const emitted = mid.get("apikeys_audit_events_emitted_total") ?? -1;
    expect(emitted).toBeGreaterThanOrEqual(50);
    expect(
      (mid.get("apikeys_audit_events_persisted_total") ?? 0) +
        (mid.get("apikeys_audit_events_dropped_total") ?? 0) +
        (mid.get("apikeys_audit_buffer_events") ?? 0),
    ).toBe(emitted);
    // One write attempt is bounded by the driver's socket timeout; allow a retry after it on a loaded machine.
    await sink.flush({ timeoutMs: 2 * DEFAULTS.mongo.socketTimeoutMs });
    const flushed = await scrape();
    expect(flushed.get("apikeys_audit_events_persisted_total")).toBe(emitted);
    expect(flushed.get("apikeys_audit_buffer_events")).toBe(0);
  });

  it("report the invalidation feed: notices applied, lag, last poll age", async () => {
    const keys = createMongoKeyRepository(db);
    const key = await issueKey(keys);
    await verify(key.key);
    await revokeKey(keys, key.keyId);
    await runtime.notifier.keyChanged(key.keyId);
    // pollOnce joins a poll already in flight, which may have started before the notice was published; a poll
    // ends within one socket timeout, so two of them certainly include the notice.
    const applied = async () => {
      await runtime.follower.pollOnce();
      return (await scrape()).get('apikeys_invalidation_notices_total{event="applied"}') ?? 0;
    };
    await expect.poll(applied, { timeout: 2 * DEFAULTS.mongo.socketTimeoutMs }).toBeGreaterThanOrEqual(1);
    const samples = await scrape();
    expect(samples.get('apikeys_invalidation_publishes_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    const age = samples.get("apikeys_invalidation_last_poll_age_seconds") ?? -1;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(5);
    expect(samples.has("apikeys_invalidation_lag_seconds_count")).toBe(true);
  });
});
