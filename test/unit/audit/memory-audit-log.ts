/**
 * MemoryAuditLog: an in-memory AuditStreamSource for follower unit tests, with the same contract as the
 * MongoDB store (contiguous seqs, a high-water mark that survives deletion) plus hooks to simulate retention
 * and database failures and to count tail polls.
 */

import type { AuditStreamSource } from "../../../src/audit/audit-stream-hub.js";
import type { AuditEventRecord, NewAuditEvent } from "../../../src/domain/audit-event.js";
import { type AuditScanQuery, matchesAuditEventFilter } from "../../../src/domain/audit-log.js";
import { DomainError, KEY_STORE_UNAVAILABLE } from "../../../src/domain/errors.js";

/** MemoryAuditLog is the fake plus its test controls. */
export interface MemoryAuditLog extends AuditStreamSource {
  append(events: readonly NewAuditEvent[]): Promise<void>;
  /** appendNow stores events synchronously and returns their records. */
  appendNow(...events: NewAuditEvent[]): AuditEventRecord[];
  /** deleteThrough removes every event with seq <= `seq` (retention). */
  deleteThrough(seq: number): void;
  /** afterCalls counts `after` calls (tail polls). */
  afterCalls(): number;
  /** failing makes every read reject with an unavailable error while true. */
  setFailing(failing: boolean): void;
}

/** createMemoryAuditLog starts an empty log. */
export function createMemoryAuditLog(): MemoryAuditLog {
  let events: AuditEventRecord[] = [];
  let highWater = 0;
  let afterCount = 0;
  let failing = false;

  const read = <T>(value: () => T): Promise<T> =>
    failing
      ? Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE))
      : Promise.resolve(value());

  const appendNow = (...batch: NewAuditEvent[]): AuditEventRecord[] => {
    const records = batch.map((event) => ({ ...event, seq: ++highWater }));
    events.push(...records);
    return records;
  };

  return {
    appendNow,
    append: async (batch) => {
      appendNow(...batch);
    },
    after(seq, limit) {
      afterCount += 1;
      return read(() => events.filter((event) => event.seq > seq).slice(0, limit));
    },
    latestSeq: () => read(() => highWater),
    oldestSeq: () => read(() => events[0]?.seq ?? null),
    firstSeqAtOrAfter: (time) =>
      read(() => {
        const candidates = events.filter((event) => event.time >= time);
        if (candidates.length === 0) {
          return null;
        }
        const earliest = Math.min(...candidates.map((event) => event.time.getTime()));
        return Math.min(...candidates.filter((event) => event.time.getTime() === earliest).map((e) => e.seq));
      }),
    scan: (query: AuditScanQuery) =>
      read(() =>
        events
          .filter(
            (event) =>
              event.seq > query.afterSeq &&
              event.seq <= query.upToSeq &&
              matchesAuditEventFilter(event, query.filter),
          )
          .slice(0, query.limit),
      ),
    deleteThrough(seq) {
      events = events.filter((event) => event.seq > seq);
    },
    afterCalls: () => afterCount,
    setFailing(value) {
      failing = value;
    },
  };
}
