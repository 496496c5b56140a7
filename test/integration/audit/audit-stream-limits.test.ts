/**
 * Stream limits on the real store: cursors older than the retention, late commits, and slow
 * consumers.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createAuditStreamHub } from "../../../src/audit/audit-stream-hub.js";
import { decodeAuditCursor, encodeAuditCursor } from "../../../src/domain/audit-cursor.js";
import type { AuditEventFilter } from "../../../src/domain/audit-log.js";
import {
  AuditCursorExpiredError,
  type AuditStreamItem,
  SLOW_CONSUMER_REASON,
} from "../../../src/domain/audit-stream.js";
import type { DomainError } from "../../../src/domain/errors.js";
import type { AuditEventDocument } from "../../../src/storage/audit-event-document.js";
import {
  AUDIT_EVENTS_COLLECTION,
  createMongoAuditEventStore,
} from "../../../src/storage/audit-event-store.js";
import { usageEvent } from "../../unit/audit/audit-fixtures.js";
import { useAuditTestDatabases } from "./audit-test-db.js";

const ALL: AuditEventFilter = { tenantId: null, keyId: null, kinds: [] };

/** collect pulls events until `count` arrived, returning their seqs (heartbeats skipped). */
async function collect(stream: AsyncIterator<AuditStreamItem>, count: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < count) {
    const result = await stream.next();
    if (result.done) {
      throw new Error("the stream ended early");
    }
    if (result.value.type === "event") {
      seqs.push(result.value.event.seq);
    }
  }
  return seqs;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("audit stream limits", () => {
  const dbs = useAuditTestDatabases("auditlimits");

  it("answers OUT_OF_RANGE with the earliest cursor when events after a cursor were deleted", async () => {
    const db = await dbs.freshDb();
    const store = createMongoAuditEventStore(db);
    const hub = createAuditStreamHub({ log: store, pollIntervalMs: 10, heartbeatMs: 200 });
    await store.append(Array.from({ length: 10 }, () => usageEvent()));
    // Retention removed the four oldest events.
    await db.collection<AuditEventDocument>(AUDIT_EVENTS_COLLECTION).deleteMany({ _id: { $lte: 4 } });

    const old = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(2) }, filter: ALL });
    const error = await old.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toHaveProperty("kind", "out_of_range");
    const earliest = (error as AuditCursorExpiredError).earliestCursor;
    expect(decodeAuditCursor(earliest)).toBe(4);

    const resync = hub.follow({ start: { kind: "cursor", cursor: earliest }, filter: ALL });
    expect(await collect(resync, 6)).toEqual(range(5, 10));
    await resync.return();

    // Everything deleted: only the high-water mark remembers where the log was.
    await store.close();
    await db.collection(AUDIT_EVENTS_COLLECTION).deleteMany({});
    const fresh = createMongoAuditEventStore(db);
    const freshHub = createAuditStreamHub({ log: fresh, pollIntervalMs: 10, heartbeatMs: 200 });
    const stale = freshHub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(9) }, filter: ALL });
    await expect(stale.next()).rejects.toBeInstanceOf(AuditCursorExpiredError);
    const current = freshHub.follow({
      start: { kind: "cursor", cursor: encodeAuditCursor(10) },
      filter: ALL,
    });
    const first = current.next();
    await fresh.append([usageEvent()]);
    expect((await first).value).toMatchObject({ type: "event", event: { seq: 11 } });
    await current.return();
    hub.close();
    freshHub.close();
  });

  it("delivers an event that happened earlier but committed later to a consumer at a newer cursor", async () => {
    const db = await dbs.freshDb();
    const writerA = createMongoAuditEventStore(db);
    const writerB = createMongoAuditEventStore(await dbs.replica(db));
    const hub = createAuditStreamHub({ log: writerA, pollIntervalMs: 10, heartbeatMs: 200 });
    // B's event happens first but its insert is delayed until after A's later event is committed.
    const late = usageEvent({ time: new Date(Date.now() - 1_500), replica: "replica-b" });
    await writerA.append([usageEvent({ replica: "replica-a" })]);
    const stream = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(1) }, filter: ALL });
    const pending = stream.next();
    await sleep(30);
    await writerB.append([late]);
    expect((await pending).value).toMatchObject({ type: "event", event: { seq: 2, id: late.id } });
    await stream.return();
    hub.close();
  });

  it("ends a slow consumer with RESOURCE_EXHAUSTED while another keeps up; resuming misses nothing", async () => {
    const db = await dbs.freshDb();
    const store = createMongoAuditEventStore(db);
    const hub = createAuditStreamHub({
      log: store,
      pollIntervalMs: 10,
      heartbeatMs: 1_000,
      batchSize: 20,
      maxBufferedEvents: 40,
    });
    const slowErrors: DomainError[] = [];
    const slow = hub.follow({
      start: { kind: "now" },
      filter: ALL,
      onSlowConsumer: (e) => slowErrors.push(e),
    });
    const fast = hub.follow({ start: { kind: "now" }, filter: ALL });
    const slowFirst = slow.next();
    const fastFirst = fast.next();
    await sleep(30);
    await store.append([usageEvent()]);
    const first = await slowFirst;
    expect((await fastFirst).value).toMatchObject({ type: "event", event: { seq: 1 } });
    const lastCursor = first.value?.type === "event" ? first.value.cursor : "";

    // The slow consumer stops reading; 200 more events arrive, which the fast one reads as they come.
    const writing = (async () => {
      for (let i = 0; i < 10; i++) {
        await store.append(Array.from({ length: 20 }, () => usageEvent()));
      }
    })();
    expect(await collect(fast, 200)).toEqual(range(2, 201));
    await writing;
    expect(slowErrors).toHaveLength(1);
    expect(slowErrors[0]!.reason).toBe(SLOW_CONSUMER_REASON);
    await expect(slow.next()).rejects.toHaveProperty("kind", "resource_exhausted");

    const resumed = hub.follow({ start: { kind: "cursor", cursor: lastCursor }, filter: ALL });
    expect(await collect(resumed, 200)).toEqual(range(2, 201));
    await resumed.return();
    await fast.return();
    hub.close();
  });
});
