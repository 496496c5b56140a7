/**
 * Three writer replicas and two stream consumers that disconnect and resume: every
 * persisted event reaches each consumer, in commit order, and nothing is missed across reconnects, replica
 * switches, or a restart of the service between a disconnect and the resume.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "mongodb";
import { describe, expect, it } from "vitest";
import { type AuditStreamHub, createAuditStreamHub } from "../../../src/audit/audit-stream-hub.js";
import { type BufferedAuditSink, createBufferedAuditSink } from "../../../src/audit/buffered-audit-sink.js";
import type { AuditEventRecord, NewAuditEvent } from "../../../src/domain/audit-event.js";
import type { AuditEventFilter } from "../../../src/domain/audit-log.js";
import type { AuditStreamStart } from "../../../src/domain/audit-stream.js";
import {
  createMongoAuditEventStore,
  type MongoAuditEventStore,
} from "../../../src/storage/audit-event-store.js";
import { adminEvent, usageEvent } from "../../unit/audit/audit-fixtures.js";
import { useAuditTestDatabases } from "./audit-test-db.js";

interface Replica {
  readonly name: string;
  readonly store: MongoAuditEventStore;
  readonly sink: BufferedAuditSink;
  readonly hub: AuditStreamHub;
}

function startReplica(name: string, db: Db): Replica {
  const store = createMongoAuditEventStore(db);
  return {
    name,
    store,
    // Small batches and a short interval: many concurrent appends, so seq races really happen.
    sink: createBufferedAuditSink({
      store,
      maxBuffered: 10_000,
      maxBatch: 7,
      flushIntervalMs: 5,
      retryBaseMs: 5,
    }),
    // A small read batch, so resuming after a pause takes several catch-up reads.
    hub: createAuditStreamHub({ log: store, pollIntervalMs: 10, heartbeatMs: 100, batchSize: 20 }),
  };
}

interface ConsumerResult {
  readonly events: AuditEventRecord[];
  readonly segments: number;
  readonly restartedBeforeResume: boolean;
}

describe("audit stream across replicas", () => {
  const dbs = useAuditTestDatabases("auditreplicas");

  it("delivers every persisted event to each consumer exactly as committed, across disconnects and a restart", async () => {
    const db = await dbs.freshDb();
    const replicas = await Promise.all(
      ["replica-1", "replica-2", "replica-3"].map(async (name) => startReplica(name, await dbs.replica(db))),
    );
    const perReplica = 300;
    let writersDone = false;
    let finalSeq = Number.POSITIVE_INFINITY;

    const write = async (replica: Replica, index: number) => {
      for (let i = 0; i < perReplica; i++) {
        const tenantId = (i + index) % 2 === 0 ? "tenant_a" : "tenant_b";
        const event: NewAuditEvent =
          i % 10 === 0
            ? adminEvent({ tenantId, keyId: `ak_${i % 7}` })
            : usageEvent({ tenantId, keyId: `ak_${i % 7}`, replica: replica.name });
        replica.sink.emit(event);
        if (i % 15 === 0) {
          await sleep(1 + ((i + index) % 4));
        }
      }
    };

    /** consume follows the log, disconnecting after a few dozen events and resuming from its last cursor. */
    const consume = async (filter: AuditEventFilter, restartAt: number): Promise<ConsumerResult> => {
      const events: AuditEventRecord[] = [];
      let start: AuditStreamStart = { kind: "now" };
      let position = 0;
      let segments = 0;
      let restartedBeforeResume = false;
      for (;;) {
        let hub = replicas[segments % 3]!.hub;
        if (segments === restartAt) {
          // The service restarts between the disconnect and the resume: new connections, store and hub.
          hub = startReplica("restarted", await dbs.replica(db)).hub;
          restartedBeforeResume = true;
        }
        segments += 1;
        const quota = 25 + ((segments * 37) % 60);
        let taken = 0;
        let lastCursor: string | null = null;
        for await (const item of hub.follow({ start, filter })) {
          lastCursor = item.cursor;
          if (item.type === "event") {
            events.push(item.event);
            position = item.event.seq;
            taken += 1;
          } else {
            position = item.seq;
          }
          if (taken >= quota || (writersDone && position >= finalSeq)) {
            break;
          }
        }
        if (writersDone && position >= finalSeq) {
          return { events, segments, restartedBeforeResume };
        }
        if (lastCursor !== null) {
          start = { kind: "cursor", cursor: lastCursor };
        }
        // Reconnecting takes a while; the writers go on meanwhile.
        await sleep(20 + ((segments * 13) % 50));
      }
    };

    const all: AuditEventFilter = { tenantId: null, keyId: null, kinds: [] };
    const tenantB: AuditEventFilter = { tenantId: "tenant_b", keyId: null, kinds: [] };
    const consumers = [consume(all, 3), consume(tenantB, 2)];
    // Let both consumers open their first stream at "now" = seq 0 before anything is written.
    await sleep(50);
    await Promise.all(replicas.map((replica, index) => write(replica, index)));
    const counters = await Promise.all(replicas.map((replica) => replica.sink.flush({ timeoutMs: 15_000 })));
    finalSeq = await replicas[0]!.store.latestSeq();
    writersDone = true;
    const [everything, onlyB] = (await Promise.all(consumers)) as [ConsumerResult, ConsumerResult];

    for (const c of counters) {
      expect(c).toMatchObject({ emitted: perReplica, persisted: perReplica, dropped: 0, buffered: 0 });
    }
    const persisted = await replicas[0]!.store.after(0, 100_000);
    expect(
      persisted.map((event) => event.seq),
      "seqs are contiguous",
    ).toEqual(Array.from({ length: 3 * perReplica }, (_, i) => i + 1));
    expect(new Set(persisted.map((event) => event.id)).size, "every event stored once").toBe(3 * perReplica);
    expect(finalSeq).toBe(3 * perReplica);

    const check = (result: ConsumerResult, expected: AuditEventRecord[]) => {
      expect(result.segments, "the consumer disconnected and resumed several times").toBeGreaterThan(3);
      expect(result.restartedBeforeResume).toBe(true);
      const seqs = result.events.map((event) => event.seq);
      // Strictly increasing across every reconnect: commit order, and not even a duplicate at a reconnect.
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
      expect(new Set(result.events.map((event) => event.id))).toEqual(
        new Set(expected.map((event) => event.id)),
      );
      expect(result.events).toEqual(expected);
    };
    check(everything, persisted);
    check(
      onlyB,
      persisted.filter((event) => event.tenantId === "tenant_b"),
    );
    for (const replica of replicas) {
      replica.hub.close();
      await replica.store.close();
    }
  }, 60_000);
});
