import { describe, expect, it, vi } from "vitest";
import { decodeAuditPageToken } from "../../../src/domain/audit-cursor.js";
import type { AuditEventRecord, NewAuditEvent } from "../../../src/domain/audit-event.js";
import type { KeyUsageQuery } from "../../../src/domain/audit-log.js";
import { type AuditEventDocument, toAuditEventDocument } from "../../../src/storage/audit-event-document.js";
import {
  AUDIT_EVENTS_COLLECTION,
  AUDIT_META_COLLECTION,
  auditEventIndexes,
  createMongoAuditEventStore,
  type MongoAuditEventStore,
} from "../../../src/storage/audit-event-store.js";
import { isRealMongod } from "../../helpers/mongo.js";
import { adminEvent, usageEvent } from "../../unit/audit/audit-fixtures.js";
import { useAuditTestDatabases } from "./audit-test-db.js";

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

async function allSeqs(store: MongoAuditEventStore): Promise<number[]> {
  return (await store.after(0, 100_000)).map((event) => event.seq);
}

describe("MongoAuditEventStore", () => {
  const dbs = useAuditTestDatabases("auditstore");

  describe("append", () => {
    it("stores a batch as consecutive seqs from 1 and reads it back unchanged", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      const events = [
        usageEvent({ time: at(1) }),
        adminEvent({ time: at(2), keyId: "ak_1", groupId: "grp_1" }),
      ];
      expect(await store.latestSeq()).toBe(0);
      expect(await store.oldestSeq()).toBeNull();
      await store.append(events);
      await store.append([usageEvent({ time: at(3), code: "revoked" })]);
      const stored = await store.after(0, 10);
      expect(stored.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(stored.slice(0, 2)).toEqual(events.map((event, index) => ({ ...event, seq: index + 1 })));
      expect(await store.latestSeq()).toBe(3);
      expect(await store.oldestSeq()).toBe(1);
      expect((await store.after(1, 1)).map((event) => event.seq)).toEqual([2]);
      await store.append([]);
      expect(await store.latestSeq()).toBe(3);
    });

    it("gives every event exactly one seq, contiguous, when several replicas append concurrently", async () => {
      const db = await dbs.freshDb();
      const replicas = [db, await dbs.replica(db), await dbs.replica(db)].map((replicaDb) =>
        createMongoAuditEventStore(replicaDb),
      );
      const batches: NewAuditEvent[][] = Array.from({ length: 30 }, (_, i) =>
        Array.from({ length: 1 + (i % 5) }, () => usageEvent({ replica: `r${i % 3}` })),
      );
      await Promise.all(batches.map((batch, i) => replicas[i % 3]!.append(batch)));
      const stored = await replicas[0]!.after(0, 10_000);
      const expectedIds = batches.flat().map((event) => event.id);
      expect(stored.map((event) => event.seq)).toEqual(expectedIds.map((_, i) => i + 1));
      expect(stored.map((event) => event.id).sort()).toEqual([...expectedIds].sort());
      // Each batch keeps its internal order (an ordered insert of consecutive seqs, or its retried remainder).
      for (const batch of batches) {
        const seqs = batch.map((event) => stored.find((record) => record.id === event.id)!.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      }
    });

    it("is idempotent: a batch retried after a lost reply, or partly stored, is stored once", async () => {
      const db = await dbs.freshDb();
      const store = createMongoAuditEventStore(db);
      const batch = [usageEvent(), usageEvent(), usageEvent()];
      await store.append(batch);
      await store.append(batch);
      expect(await allSeqs(store)).toEqual([1, 2, 3]);
      // Simulate a previous attempt that stored only the middle event (seq 4) before failing.
      const next = [usageEvent(), usageEvent(), usageEvent()];
      await db
        .collection<AuditEventDocument>(AUDIT_EVENTS_COLLECTION)
        .insertOne(toAuditEventDocument(next[1]!, 4));
      await store.append(next);
      const stored = await store.after(3, 10);
      expect(stored.map((event) => event.seq)).toEqual([4, 5, 6]);
      expect(stored.map((event) => event.id)).toEqual([next[1]!.id, next[0]!.id, next[2]!.id]);
      // The same event twice in one batch is stored once.
      const twice = usageEvent();
      await store.append([twice, twice]);
      expect(await allSeqs(store)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it("translates a driver failure into an unavailable error", async () => {
      const db = await dbs.freshDb();
      const replica = await dbs.replica(db);
      const store = createMongoAuditEventStore(replica);
      await replica.client.close();
      await expect(store.append([usageEvent()])).rejects.toMatchObject({ kind: "unavailable" });
      await expect(store.after(0, 1)).rejects.toMatchObject({ kind: "unavailable" });
    });
  });

  describe("high-water mark", () => {
    it("keeps seq moving forward after retention deleted every event", async () => {
      const db = await dbs.freshDb();
      const store = createMongoAuditEventStore(db);
      await store.append([usageEvent(), usageEvent(), usageEvent()]);
      await store.close();
      await db.collection(AUDIT_EVENTS_COLLECTION).deleteMany({});
      expect(await store.oldestSeq()).toBeNull();
      const restarted = createMongoAuditEventStore(db);
      expect(await restarted.latestSeq()).toBe(3);
      await restarted.append([usageEvent()]);
      expect(await allSeqs(restarted)).toEqual([4]);
    });

    it("also holds when the newest event expired before an older one (times out of seq order)", async () => {
      const db = await dbs.freshDb();
      const store = createMongoAuditEventStore(db);
      await store.append([usageEvent({ time: at(10) }), usageEvent({ time: at(1) })]);
      await store.close();
      await db.collection(AUDIT_EVENTS_COLLECTION).deleteMany({ time: { $lt: at(5) } });
      await store.append([usageEvent()]);
      expect(await allSeqs(store)).toEqual([1, 3]);
    });

    it("is written in the background shortly after appends, without close", async () => {
      const db = await dbs.freshDb();
      const store = createMongoAuditEventStore(db, { highWaterMarkDelayMs: 20 });
      await store.append([usageEvent(), usageEvent()]);
      await store.append([usageEvent()]);
      await vi.waitFor(async () => {
        expect(await db.collection(AUDIT_META_COLLECTION).findOne({})).toMatchObject({ hwm: 3 });
      });
    });

    it("never moves backwards when a replica with an older mark closes last", async () => {
      const db = await dbs.freshDb();
      const older = createMongoAuditEventStore(db);
      const newer = createMongoAuditEventStore(await dbs.replica(db));
      await older.append([usageEvent()]);
      await newer.append([usageEvent(), usageEvent()]);
      await newer.close();
      await older.close();
      expect(await db.collection(AUDIT_META_COLLECTION).findOne({})).toMatchObject({ hwm: 3 });
    });
  });

  describe("stream reads", () => {
    it("scans within (after, upTo] with tenant, key and kind filters", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      await store.append([
        usageEvent({ tenantId: "tenant_a", keyId: "ak_1" }),
        usageEvent({ tenantId: "tenant_b", keyId: "ak_2" }),
        adminEvent({ tenantId: "tenant_a", keyId: "ak_1" }),
        usageEvent({ tenantId: "tenant_a", keyId: "ak_3" }),
        adminEvent({ tenantId: "tenant_b", groupId: "grp_1" }),
      ]);
      const scan = async (
        filter: Partial<{ tenantId: string; keyId: string; kinds: Array<"usage" | "admin"> }>,
      ) =>
        (
          await store.scan({
            afterSeq: 0,
            upToSeq: 5,
            limit: 10,
            filter: {
              tenantId: filter.tenantId ?? null,
              keyId: filter.keyId ?? null,
              kinds: filter.kinds ?? [],
            },
          })
        ).map((event) => event.seq);
      expect(await scan({})).toEqual([1, 2, 3, 4, 5]);
      expect(await scan({ tenantId: "tenant_a" })).toEqual([1, 3, 4]);
      expect(await scan({ keyId: "ak_1" })).toEqual([1, 3]);
      expect(await scan({ kinds: ["admin"] })).toEqual([3, 5]);
      expect(await scan({ tenantId: "tenant_a", kinds: ["usage"] })).toEqual([1, 4]);
      expect(
        (
          await store.scan({
            afterSeq: 1,
            upToSeq: 3,
            limit: 10,
            filter: { tenantId: null, keyId: null, kinds: [] },
          })
        ).map((event) => event.seq),
      ).toEqual([2, 3]);
      expect(
        await store.scan({
          afterSeq: 3,
          upToSeq: 3,
          limit: 10,
          filter: { tenantId: null, keyId: null, kinds: [] },
        }),
      ).toEqual([]);
    });

    it("positions a start time at the lowest seq among the earliest events at or after it", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      // seq 3 was buffered through an outage: it happened at 15 s but committed after the 20 s event.
      await store.append([
        usageEvent({ time: at(10) }),
        usageEvent({ time: at(20) }),
        usageEvent({ time: at(15) }),
      ]);
      await store.append([usageEvent({ time: at(30) })]);
      expect(await store.firstSeqAtOrAfter(at(12))).toBe(2);
      expect(await store.firstSeqAtOrAfter(at(0))).toBe(1);
      expect(await store.firstSeqAtOrAfter(at(25))).toBe(4);
      expect(await store.firstSeqAtOrAfter(at(31))).toBeNull();
    });
  });

  describe("listKeyUsage", () => {
    const query = (change: Partial<KeyUsageQuery> = {}): KeyUsageQuery => ({
      keyId: "ak_1",
      tenantId: null,
      from: null,
      to: null,
      codes: [],
      limit: 50,
      after: null,
      ...change,
    });
    const ids = (items: readonly AuditEventRecord[]) => items.map((event) => event.seq);

    it("lists one key's usage newest first, with time range, outcome and tenant filters", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      await store.append([
        usageEvent({ keyId: "ak_1", time: at(1), code: "valid" }),
        usageEvent({ keyId: "ak_1", time: at(3), code: "ip_not_allowed" }),
        usageEvent({ keyId: "ak_2", time: at(2) }),
        adminEvent({ keyId: "ak_1", time: at(4) }),
        usageEvent({ keyId: "ak_1", time: at(2), code: "revoked" }),
        usageEvent({ keyId: "ak_1", time: at(5), code: "valid", tenantId: "tenant_b" }),
      ]);
      expect(ids((await store.listKeyUsage(query())).items)).toEqual([6, 2, 5, 1]);
      expect(ids((await store.listKeyUsage(query({ from: at(2), to: at(5) }))).items)).toEqual([2, 5]);
      expect(ids((await store.listKeyUsage(query({ codes: ["revoked", "ip_not_allowed"] }))).items)).toEqual([
        2, 5,
      ]);
      expect(ids((await store.listKeyUsage(query({ tenantId: "tenant_a" }))).items)).toEqual([2, 5, 1]);
      const page = await store.listKeyUsage(query({ limit: 1 }));
      expect(page.items[0]).toMatchObject({
        seq: 6,
        detail: {
          kind: "usage",
          endpoint: "GET /v1/orders",
          clientIp: "203.0.113.7",
          code: "valid",
          httpStatus: 200,
        },
      });
    });

    it("pages stably with keyset cursors, through equal timestamps and while new events arrive", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      // Ten events in five distinct milliseconds: ties must be broken by seq.
      await store.append(
        Array.from({ length: 10 }, (_, i) => usageEvent({ keyId: "ak_1", time: at(Math.floor(i / 2)) })),
      );
      const seen: number[] = [];
      let after: KeyUsageQuery["after"] = null;
      for (let page = 0; page < 10; page++) {
        const result = await store.listKeyUsage(query({ limit: 3, after }));
        seen.push(...ids(result.items));
        // New events keep arriving while the client pages: newer ones, and one that is late (older time).
        await store.append([usageEvent({ keyId: "ak_1", time: at(100 + page) })]);
        if (result.nextCursor === null) {
          break;
        }
        after = decodeAuditPageToken(result.nextCursor);
      }
      expect(seen.slice(0, 10)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("returns no next cursor on an exactly full last page", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      await store.append([usageEvent({ keyId: "ak_1" }), usageEvent({ keyId: "ak_1" })]);
      expect((await store.listKeyUsage(query({ limit: 2 }))).nextCursor).toBeNull();
      expect((await store.listKeyUsage(query({ limit: 1 }))).nextCursor).not.toBeNull();
    });
  });

  describe("listAdminEvents", () => {
    it("lists a tenant's admin history newest first, per key and per group, never usage", async () => {
      const store = createMongoAuditEventStore(await dbs.freshDb());
      await store.append([
        adminEvent({ keyId: "ak_1", action: "key_created", time: at(1) }),
        usageEvent({ keyId: "ak_1", time: at(2) }),
        adminEvent({ groupId: "grp_1", action: "group_created", time: at(3) }),
        adminEvent({ keyId: "ak_1", action: "key_revoked", time: at(4) }),
        adminEvent({ keyId: "ak_1", tenantId: "tenant_b", time: at(5) }),
      ]);
      const list = async (keyId: string | null, groupId: string | null, tenantId = "tenant_a") =>
        (await store.listAdminEvents({ tenantId, keyId, groupId, limit: 50, after: null })).items.map(
          (e) => e.seq,
        );
      expect(await list(null, null)).toEqual([4, 3, 1]);
      expect(await list("ak_1", null)).toEqual([4, 1]);
      expect(await list(null, "grp_1")).toEqual([3]);
      expect(await list(null, null, "tenant_b")).toEqual([5]);
      const first = await store.listAdminEvents({
        tenantId: "tenant_a",
        keyId: null,
        groupId: null,
        limit: 2,
        after: null,
      });
      expect(first.items.map((e) => e.seq)).toEqual([4, 3]);
      const second = await store.listAdminEvents({
        tenantId: "tenant_a",
        keyId: null,
        groupId: null,
        limit: 2,
        after: decodeAuditPageToken(first.nextCursor!),
      });
      expect(second.items.map((e) => e.seq)).toEqual([1]);
      expect(second.nextCursor).toBeNull();
    });
  });

  describe("indexes", () => {
    it("declares named indexes with reasons, and a TTL of the retention in seconds", async () => {
      const declarations = auditEventIndexes(30);
      const names = declarations.map((declaration) => declaration.options.name);
      expect(new Set(names).size).toBe(names.length);
      for (const declaration of declarations) {
        expect(declaration.why.length).toBeGreaterThan(20);
      }
      expect(
        declarations.find((d) => d.options.expireAfterSeconds !== undefined)?.options.expireAfterSeconds,
      ).toBe(30 * 86_400);
      expect(
        auditEventIndexes().find((d) => d.options.expireAfterSeconds !== undefined)?.options,
      ).toMatchObject({
        expireAfterSeconds: 90 * 86_400,
      });
      expect(() => auditEventIndexes(0)).toThrow(RangeError);
      const db = await dbs.freshDb();
      const existing = await db.collection(AUDIT_EVENTS_COLLECTION).listIndexes().toArray();
      expect(existing.map((index) => index.name)).toEqual(expect.arrayContaining(names));
    });

    it.skipIf(!isRealMongod())(
      "uses the per-key index for the usage log, reading only one page of keys (needs real mongod)",
      async () => {
        const db = await dbs.freshDb();
        const store = createMongoAuditEventStore(db);
        await store.append(
          Array.from({ length: 500 }, (_, i) => usageEvent({ keyId: i % 2 ? "ak_1" : "ak_2" })),
        );
        const explained = await db
          .collection(AUDIT_EVENTS_COLLECTION)
          .find({ "detail.keyId": "ak_1", "detail.kind": "usage" })
          .sort({ time: -1, _id: -1 })
          .limit(11)
          .explain("executionStats");
        expect(JSON.stringify(explained.queryPlanner.winningPlan)).toContain("audit_events_key_history");
        expect(explained.executionStats.totalKeysExamined).toBeLessThanOrEqual(11);
      },
    );

    it.skipIf(!isRealMongod())(
      "expires events older than the retention through the TTL monitor (needs real mongod)",
      async () => {
        const db = await dbs.freshDb();
        await db.collection(AUDIT_EVENTS_COLLECTION).dropIndex("audit_events_time_ttl");
        await db
          .collection(AUDIT_EVENTS_COLLECTION)
          .createIndex({ time: 1 }, { name: "audit_events_time_ttl", expireAfterSeconds: 1 });
        const store = createMongoAuditEventStore(db);
        await store.append([usageEvent({ time: new Date(Date.now() - 60_000) }), usageEvent()]);
        // The TTL monitor runs every 60 s by default.
        await vi.waitFor(async () => expect(await store.oldestSeq()).toBe(2), {
          timeout: 150_000,
          interval: 1_000,
        });
        expect(await store.latestSeq()).toBe(2);
      },
      180_000,
    );
  });
});
