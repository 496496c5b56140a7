/**
 * Exact usage statistics: 10,000 verifications through the verifier, with the raw usage log behind an audit
 * buffer far too small for them (it drops most events and counts them), still give the exact count per key,
 * tenant, hour, day and verification code once the counter has flushed; and every flush is one database
 * command, whatever it adds.
 */
import { type CommandStartedEvent, MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { createBufferedAuditSink } from "../../src/audit/buffered-audit-sink.js";
import type { VerificationCode } from "../../src/domain/audit-event.js";
import type { VerifyKeyInput } from "../../src/domain/key-verifier.js";
import type { UsageCounts } from "../../src/domain/usage-stats.js";
import { createMongoAuditEventStore } from "../../src/storage/audit-event-store.js";
import {
  createMongoUsageRollupStore,
  USAGE_ROLLUPS_COLLECTION,
} from "../../src/storage/usage-rollup-store.js";
import { createUsageStatsCounter } from "../../src/verify/usage-stats-counter.js";
import { issueKey, ManualClock, revokeKey } from "../helpers/key-fixtures.js";
import { mongoUri, useTestDatabase } from "../helpers/mongo.js";
import { startReplica } from "./helpers/verify-setup.js";

const { client, db, dbName } = useTestDatabase("usagestats");

// A client with command monitoring: the counter's writes are counted.
const monitored = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
const rollupWrites: CommandStartedEvent[] = [];
monitored.on("commandStarted", (event) => {
  if (event.command.update === USAGE_ROLLUPS_COLLECTION) {
    rollupWrites.push(event);
  }
});
afterAll(async () => {
  await monitored.close();
});

const HOUR = 3_600_000;
const T0 = new Date("2031-05-04T22:30:00.000Z");

describe("usage statistics under a shedding usage log", () => {
  it("counts 10,000 verifications exactly per key, tenant, hour, day and code", async () => {
    const clock = new ManualClock(T0);
    const store = createMongoUsageRollupStore(monitored.db(dbName));
    const counter = createUsageStatsCounter({ store, flushIntervalMs: 60_000 });
    // The raw log: a buffer of 8 events, written every 10 s: almost every usage event is dropped.
    const sink = createBufferedAuditSink({
      store: createMongoAuditEventStore(db),
      maxBuffered: 8,
      maxBatch: 8,
      flushIntervalMs: 10_000,
    });
    const replica = await startReplica(client, dbName, {}, { clock, auditSink: sink, statistics: counter });
    try {
      const a1 = await issueKey(replica.stores.keys, { tenantId: "acme" });
      const a2 = await issueKey(replica.stores.keys, { tenantId: "acme", ipAllowlist: ["10.0.0.0/8"] });
      const b1 = await issueKey(replica.stores.keys, { tenantId: "beta" });
      const revoked = await issueKey(replica.stores.keys, { tenantId: "beta" });
      await revokeKey(replica.stores.keys, revoked.keyId, new Date(T0.getTime() - HOUR));

      // Who is verified when, with which verdict: 10,000 calls over three hours across midnight (UTC).
      const plan: Array<{ key: string; ip: string; keyId: string; tenant: string; code: VerificationCode }> =
        [
          { key: a1.key, ip: "", keyId: a1.keyId, tenant: "acme", code: "valid" },
          { key: a2.key, ip: "10.1.2.3", keyId: a2.keyId, tenant: "acme", code: "valid" },
          { key: a2.key, ip: "192.0.2.1", keyId: a2.keyId, tenant: "acme", code: "ip_not_allowed" },
          { key: b1.key, ip: "", keyId: b1.keyId, tenant: "beta", code: "valid" },
          { key: revoked.key, ip: "", keyId: revoked.keyId, tenant: "beta", code: "revoked" },
        ];
      const expected = new Map<string, Map<VerificationCode, number>>();
      const expect1 = (id: string, code: VerificationCode) => {
        const counts = expected.get(id) ?? new Map<VerificationCode, number>();
        counts.set(code, (counts.get(code) ?? 0) + 1);
        expected.set(id, counts);
      };
      for (let i = 0; i < 10_000; i += 1) {
        clock.set(T0.getTime() + Math.floor((i * 3 * HOUR) / 10_000));
        const call = plan[(i * 7) % plan.length]!;
        const input: VerifyKeyInput = {
          credential: { kind: "key", key: call.key },
          clientIp: call.ip,
          endpoint: "GET /orders",
          requiredPermissions: [],
        };
        const result = await replica.runtime.verifier.verify(input);
        expect(result.code).toBe(call.code);
        const hour = Math.floor(clock.now().getTime() / HOUR) * HOUR;
        const day = Math.floor(clock.now().getTime() / (24 * HOUR)) * 24 * HOUR;
        expect1(`key|hour|${call.tenant}|${call.keyId}|${hour}`, call.code);
        expect1(`key|day|${call.tenant}|${call.keyId}|${day}`, call.code);
        expect1(`tenant|hour|${call.tenant}||${hour}`, call.code);
        expect1(`tenant|day|${call.tenant}||${day}`, call.code);
        if (i === 5_000) {
          await counter.flush(); // a flush in the middle: later counts add to the same buckets
        }
      }
      await sink.flush();
      expect(sink.counters().dropped).toBeGreaterThan(9_000);
      expect(counter.stats()).toMatchObject({ counted: 10_000, pending: 10_000 - counter.stats().written });

      const writesBefore = rollupWrites.length;
      await counter.flush();
      expect(rollupWrites.length - writesBefore).toBe(1); // one batched command per flush
      expect(counter.stats()).toMatchObject({ counted: 10_000, written: 10_000, pending: 0, dropped: 0 });

      const stored = await db
        .collection<{ _id: string; counts: UsageCounts }>(USAGE_ROLLUPS_COLLECTION)
        .find({})
        .toArray();
      const actual = new Map(stored.map((doc) => [doc._id, new Map(Object.entries(doc.counts))]));
      expect(actual).toEqual(expected);
    } finally {
      await replica.runtime.stop();
      await counter.close();
      await sink.close();
    }
  });
});
