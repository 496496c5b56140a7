/**
 * AuditLog on MongoDB: events in one global gap-free commit order (`_id` = seq, allocated by the unique index),
 * appended exactly once, with a seq high-water mark that outlives retention (docs/audit.md §2-§3).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Collection, Db, Filter } from "mongodb";
import { encodeAuditPageToken } from "../domain/audit-cursor.js";
import type { AuditEventRecord, NewAuditEvent } from "../domain/audit-event.js";
import type { AdminEventQuery, AuditLog, AuditScanQuery, KeyUsageQuery } from "../domain/audit-log.js";
import { DomainError } from "../domain/errors.js";
import type { Page } from "../domain/ports.js";
import { type AuditEventDocument, toAuditEventDocument, toAuditEventRecord } from "./audit-event-document.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { guard, isDuplicateKeyError, toStorageError } from "./mongo-errors.js";

export const AUDIT_EVENTS_COLLECTION = "audit_events";
export const AUDIT_META_COLLECTION = "audit_meta";
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
const SEQ_MARK_ID = "audit_events.seq";
// The mark below which usage events were pruned by count (pruneUsageEvents, development only).
const USAGE_PRUNED_ID = "audit_events.usagePrunedThrough";
// How many of the earliest-timed events firstSeqAtOrAfter considers.
const START_TIME_PROBE = 256;

function withoutRepeatedIds(batch: readonly NewAuditEvent[]): readonly NewAuditEvent[] {
  const ids = new Set<string>();
  for (const event of batch) {
    ids.add(event.id);
  }
  return ids.size === batch.length ? batch : batch.filter((event) => ids.delete(event.id));
}

interface AuditMetaDocument {
  _id: string;
  hwm: number;
}

/** auditEventIndexes: `retentionDays` sets the TTL (changing it later needs a collMod, docs/audit.md §4). */
export function auditEventIndexes(retentionDays = DEFAULT_AUDIT_RETENTION_DAYS): IndexDeclaration[] {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
    throw new RangeError("audit retention must be a positive number of days");
  }
  return indexesOf(AUDIT_EVENTS_COLLECTION, [
    {
      key: { time: 1 },
      options: { name: "audit_events_time_ttl", expireAfterSeconds: Math.round(retentionDays * 86_400) },
      why:
        "retention: MongoDB's TTL monitor deletes events older than the retention (a real mongod does, the " +
        "in-memory test server does not); also positions a stream that starts at a timestamp",
    },
    {
      key: { eventId: 1 },
      options: { name: "audit_events_event_id_unique", unique: true },
      why: "exactly-once append: a retried batch skips the events an earlier attempt already stored",
    },
    {
      key: { "detail.keyId": 1, "detail.kind": 1, time: -1, _id: -1, "detail.code": 1 },
      options: {
        name: "audit_events_key_history",
        // Events of unidentified credentials (keyId "") are never listed per key: keep a key spray out.
        partialFilterExpression: { "detail.keyId": { $gt: "" } },
      },
      why:
        "per-key usage log and per-key admin history, newest first: equality on key and kind, then the index " +
        "order is the sort order (time desc, seq desc), so a page is one bounded range scan of limit+1 " +
        "entries whatever the key's or the collection's size; the trailing code lets the outcome filter run " +
        "on index keys before any document is fetched",
    },
    {
      key: { tenantId: 1, time: -1, _id: -1 },
      options: {
        name: "audit_events_tenant_admin_history",
        partialFilterExpression: { "detail.kind": "admin" },
      },
      why: "a tenant's admin history, newest first (partial: admin events only, usage never bloats it)",
    },
    {
      key: { "detail.groupId": 1, time: -1, _id: -1 },
      options: {
        name: "audit_events_group_admin_history",
        partialFilterExpression: { "detail.groupId": { $gt: "" } },
      },
      why: "a group's admin history, newest first (partial: only events that name a group)",
    },
    {
      key: { tenantId: 1, _id: 1 },
      options: { name: "audit_events_tenant_seq" },
      why: "a tenant-filtered stream catching up from a cursor reads only its tenant's events, in seq order",
    },
  ]);
}

export interface MongoAuditEventStoreOptions {
  /** highWaterMarkDelayMs is the longest the high-water mark trails the last append (default 10000). */
  readonly highWaterMarkDelayMs?: number;
  /** maxAppendAttempts bounds how often one append may lose the race for its seqs (default 100). */
  readonly maxAppendAttempts?: number;
}

export interface MongoAuditEventStore extends AuditLog {
  /** close writes the pending high-water mark and stops its timer; the store stays usable. */
  close(): Promise<void>;
  /**
   * pruneUsageEvents keeps the newest `keep` usage events (development retention by count, without TTL);
   * oldestSeq() then reports the event after the pruned ones, so a stream resuming below them gets
   * OUT_OF_RANGE instead of silently missing them.
   */
  pruneUsageEvents(keep: number): Promise<number>;
}

export function createMongoAuditEventStore(
  db: Db,
  options: MongoAuditEventStoreOptions = {},
): MongoAuditEventStore {
  const events: Collection<AuditEventDocument> = db.collection<AuditEventDocument>(AUDIT_EVENTS_COLLECTION);
  const meta: Collection<AuditMetaDocument> = db.collection<AuditMetaDocument>(AUDIT_META_COLLECTION);
  const highWaterMarkDelayMs = options.highWaterMarkDelayMs ?? 10_000;
  const maxAppendAttempts = options.maxAppendAttempts ?? 100;

  // The high-water mark this process still owes to audit_meta, and what it has written.
  let owedMark = 0;
  let writtenMark = 0;
  let markTimer: ReturnType<typeof setTimeout> | undefined;
  let markScheduled = false;

  async function latestSeq(): Promise<number> {
    return guard(async () => {
      const [newest, mark] = await Promise.all([
        events
          .find({ _id: { $gte: 0 } }, { projection: { _id: 1 } })
          .sort({ _id: -1 })
          .limit(1)
          .toArray(),
        meta.findOne({ _id: SEQ_MARK_ID }),
      ]);
      return Math.max(newest[0]?._id ?? 0, mark?.hwm ?? 0);
    });
  }

  async function writeMark(seq: number): Promise<void> {
    try {
      await meta.updateOne({ _id: SEQ_MARK_ID, hwm: { $lt: seq } }, { $set: { hwm: seq } }, { upsert: true });
    } catch (error) {
      // The guard did not match because the mark is already >= seq; the upsert then collides on _id.
      if (!isDuplicateKeyError(error)) {
        throw toStorageError(error);
      }
    }
    writtenMark = Math.max(writtenMark, seq);
  }

  function scheduleMark(delayMs: number): void {
    if (markScheduled) {
      return;
    }
    markScheduled = true;
    markTimer = setTimeout(() => {
      markScheduled = false;
      const target = owedMark;
      writeMark(target).then(
        () => {
          if (owedMark > writtenMark) {
            scheduleMark(highWaterMarkDelayMs);
          }
        },
        () => scheduleMark(highWaterMarkDelayMs),
      );
    }, delayMs);
    // A pending mark never keeps the process alive: close() writes it at shutdown.
    markTimer.unref();
  }

  function noteAppended(seq: number): void {
    if (seq > owedMark) {
      owedMark = seq;
      scheduleMark(highWaterMarkDelayMs);
    }
  }

  async function append(batch: readonly NewAuditEvent[]): Promise<void> {
    let remaining = withoutRepeatedIds(batch);
    let collisions = 0;
    for (let attempt = 1; remaining.length > 0; attempt++) {
      if (attempt > maxAppendAttempts) {
        throw new DomainError("unavailable", "the audit log is too contended to append now, try again");
      }
      const base = await latestSeq();
      const documents = remaining.map((event, index) => toAuditEventDocument(event, base + 1 + index));
      try {
        await events.insertMany(documents, { ordered: true });
        noteAppended(base + documents.length);
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          throw toStorageError(error);
        }
      }
      // A seq collision (another writer got in first) or events stored by an earlier attempt: keep only
      // the events that are not stored yet, then allocate again above the new latest seq.
      const ids = remaining.map((event) => event.id);
      const stored = await guard(() =>
        events.find({ eventId: { $in: ids } }, { projection: { _id: 1, eventId: 1 } }).toArray(),
      );
      if (stored.length > 0) {
        const storedIds = new Set(stored.map((document) => document.eventId));
        remaining = remaining.filter((event) => !storedIds.has(event.id));
        noteAppended(stored.reduce((highest, document) => Math.max(highest, document._id), 0));
        collisions = 0;
      } else {
        collisions += 1;
        if (collisions >= 2) {
          // Writers that keep colliding are in lockstep; a little random delay breaks the tie.
          await sleep(Math.floor(Math.random() * Math.min(50, 2 * collisions)) + 1);
        }
      }
    }
  }

  async function after(seq: number, limit: number): Promise<AuditEventRecord[]> {
    const documents = await guard(() =>
      events
        .find({ _id: { $gt: seq } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return documents.map(toAuditEventRecord);
  }

  async function oldestSeq(): Promise<number | null> {
    const [oldest, pruned] = await guard(() =>
      Promise.all([
        events
          .find({ _id: { $gte: 0 } }, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .limit(1)
          .toArray(),
        meta.findOne({ _id: USAGE_PRUNED_ID }),
      ]),
    );
    const oldestId = oldest[0]?._id ?? null;
    if (pruned === null || oldestId === null) {
      return oldestId;
    }
    // Usage events up to the mark are gone while older admin events stay: the log is complete only above it.
    return Math.max(oldestId, pruned.hwm + 1);
  }

  async function pruneUsageEvents(keep: number): Promise<number> {
    if (!(Number.isInteger(keep) && keep >= 0)) {
      throw new RangeError("keep must be a non-negative integer");
    }
    return guard(async () => {
      const cutoff = await events
        .find({ "detail.kind": "usage" }, { projection: { _id: 1 } })
        .sort({ _id: -1 })
        .skip(keep)
        .limit(1)
        .toArray();
      const through = cutoff[0]?._id;
      if (through === undefined) {
        return 0;
      }
      // The mark first: a reader must never see the events gone before it learns that they are.
      try {
        await meta.updateOne(
          { _id: USAGE_PRUNED_ID, hwm: { $lt: through } },
          { $set: { hwm: through } },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) {
          throw error;
        }
      }
      const deleted = await events.deleteMany({ _id: { $lte: through }, "detail.kind": "usage" });
      return deleted.deletedCount;
    });
  }

  async function firstSeqAtOrAfter(time: Date): Promise<number | null> {
    // time is not strictly monotonic in seq (clocks differ between replicas; a batch retried after an
    // outage commits late), so take the lowest seq among the earliest-timed events at/after `time`, not
    // just the seq of the single earliest one.
    const earliest = await guard(() =>
      events
        .find({ time: { $gte: time } }, { projection: { _id: 1 } })
        .sort({ time: 1 })
        .limit(START_TIME_PROBE)
        .toArray(),
    );
    return earliest.reduce<number | null>(
      (lowest, document) => (lowest === null || document._id < lowest ? document._id : lowest),
      null,
    );
  }

  async function scan(query: AuditScanQuery): Promise<AuditEventRecord[]> {
    if (query.upToSeq <= query.afterSeq || query.limit < 1) {
      return [];
    }
    const filter: Filter<AuditEventDocument> = { _id: { $gt: query.afterSeq, $lte: query.upToSeq } };
    if (query.filter.tenantId !== null) {
      filter.tenantId = query.filter.tenantId;
    }
    if (query.filter.keyId !== null) {
      filter["detail.keyId"] = query.filter.keyId;
    }
    if (query.filter.kinds.length > 0) {
      filter["detail.kind"] = { $in: [...query.filter.kinds] };
    }
    const documents = await guard(() => events.find(filter).sort({ _id: 1 }).limit(query.limit).toArray());
    return documents.map(toAuditEventRecord);
  }

  async function listPage(
    filter: Filter<AuditEventDocument>,
    from: Date | null,
    to: Date | null,
    query: { readonly limit: number; readonly after: KeyUsageQuery["after"] },
  ): Promise<Page<AuditEventRecord>> {
    const time: { $gte?: Date; $lt?: Date; $lte?: Date } = {};
    if (from !== null) {
      time.$gte = from;
    }
    if (to !== null) {
      time.$lt = to;
    }
    if (query.after !== null) {
      // Keyset: strictly after (time, seq) in (time desc, seq desc) order. The range bound keeps the index
      // scan tight; the $or drops the entries of the same millisecond already returned.
      time.$lte = query.after.time;
      filter.$or = [{ time: { $lt: query.after.time } }, { _id: { $lt: query.after.seq } }];
    }
    if (Object.keys(time).length > 0) {
      filter.time = time;
    }
    const documents = await guard(() =>
      events
        .find(filter)
        .sort({ time: -1, _id: -1 })
        .limit(query.limit + 1)
        .toArray(),
    );
    const items = documents.slice(0, query.limit).map(toAuditEventRecord);
    const last = items[items.length - 1];
    const nextCursor =
      documents.length > query.limit && last !== undefined
        ? encodeAuditPageToken({ time: last.time, seq: last.seq })
        : null;
    return { items, nextCursor };
  }

  async function listKeyUsage(query: KeyUsageQuery): Promise<Page<AuditEventRecord>> {
    const filter: Filter<AuditEventDocument> = { "detail.keyId": query.keyId, "detail.kind": "usage" };
    if (query.tenantId !== null) {
      filter.tenantId = query.tenantId;
    }
    if (query.codes.length > 0) {
      filter["detail.code"] = { $in: [...query.codes] };
    }
    return listPage(filter, query.from, query.to, query);
  }

  async function listAdminEvents(query: AdminEventQuery): Promise<Page<AuditEventRecord>> {
    const filter: Filter<AuditEventDocument> = { tenantId: query.tenantId, "detail.kind": "admin" };
    if (query.keyId !== null) {
      filter["detail.keyId"] = query.keyId;
    }
    if (query.groupId !== null) {
      filter["detail.groupId"] = query.groupId;
    }
    return listPage(filter, null, null, query);
  }

  return {
    append,
    after,
    latestSeq,
    oldestSeq,
    firstSeqAtOrAfter,
    scan,
    listKeyUsage,
    listAdminEvents,
    pruneUsageEvents,
    async close() {
      if (markScheduled) {
        clearTimeout(markTimer);
        markScheduled = false;
      }
      if (owedMark > writtenMark) {
        await writeMark(owedMark);
      }
    },
  };
}
