/**
 * The hub's bounds: open streams per caller and per process (refused before any read, slots given back when
 * a stream ends), and one read gate for every stream's start and catch-up reads.
 */
import { describe, expect, it } from "vitest";
import {
  type AuditStreamHub,
  type AuditStreamSource,
  createAuditStreamHub,
} from "../../../src/audit/audit-stream-hub.js";
import { encodeAuditCursor } from "../../../src/domain/audit-cursor.js";
import type { AuditEventFilter } from "../../../src/domain/audit-log.js";
import {
  type AuditStreamItem,
  STREAM_LIMIT_PER_CALLER_REASON,
  STREAM_LIMIT_PER_PROCESS_REASON,
} from "../../../src/domain/audit-stream.js";
import { DomainError } from "../../../src/domain/errors.js";
import { usageEvent } from "./audit-fixtures.js";
import { createMemoryAuditLog, type MemoryAuditLog } from "./memory-audit-log.js";

const ALL: AuditEventFilter = { tenantId: null, keyId: null, kinds: [] };

/** refusalOf pulls a stream's first item and returns the error it was refused with (null if it was not). */
async function refusalOf(stream: AsyncGenerator<AuditStreamItem>): Promise<DomainError | null> {
  try {
    await stream.next();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
}

/** Open is a stream pulled once (so it holds its slot) and the way to end it. */
interface Open {
  readonly first: Promise<IteratorResult<AuditStreamItem>>;
  end(): Promise<unknown>;
}

/** openStream starts a "now" stream of `caller` and pulls it once; end() hangs up and waits for the end. */
function openStream(hub: AuditStreamHub, caller: string | undefined): Open {
  const controller = new AbortController();
  const stream = hub.follow({
    start: { kind: "now" },
    filter: ALL,
    ...(caller === undefined ? {} : { caller }),
    signal: controller.signal,
  });
  const first = stream.next();
  return {
    first,
    end: () => {
      controller.abort();
      return first;
    },
  };
}

/** countingReads wraps `log` so every read counts itself while it runs, and records the peak. */
function countingReads(log: MemoryAuditLog): { source: AuditStreamSource; peak(): number; total(): number } {
  let running = 0;
  let peak = 0;
  let total = 0;
  const counted =
    <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      running += 1;
      total += 1;
      peak = Math.max(peak, running);
      try {
        // A database round trip: the reads of concurrent opens overlap unless something bounds them.
        await new Promise((resolve) => setTimeout(resolve, 2));
        return await read(...args);
      } finally {
        running -= 1;
      }
    };
  return {
    source: {
      after: counted(log.after),
      latestSeq: counted(log.latestSeq),
      oldestSeq: counted(log.oldestSeq),
      firstSeqAtOrAfter: counted(log.firstSeqAtOrAfter),
      scan: counted(log.scan),
    },
    peak: () => peak,
    total: () => total,
  };
}

describe("audit stream bounds", () => {
  it("refuses a caller's stream beyond its limit, naming the limit, and frees the slot when one ends", async () => {
    const hub = createAuditStreamHub({ log: createMemoryAuditLog(), maxStreams: 10, maxStreamsPerCaller: 2 });
    const first = openStream(hub, "key-a");
    const second = openStream(hub, "key-a");
    await expect.poll(() => hub.activeFollowers()).toBe(2);

    const refused = await refusalOf(hub.follow({ start: { kind: "now" }, filter: ALL, caller: "key-a" }));
    expect(refused).toMatchObject({ kind: "resource_exhausted", reason: STREAM_LIMIT_PER_CALLER_REASON });
    expect(refused?.message).toContain("AUDIT_STREAMS_PER_CALLER_MAX=2");
    // Another caller is not affected.
    const other = openStream(hub, "key-b");
    await expect.poll(() => hub.activeFollowers()).toBe(3);

    await first.end();
    const again = openStream(hub, "key-a");
    await expect.poll(() => hub.activeFollowers()).toBe(3);
    await Promise.all([second.end(), other.end(), again.end()]);
    expect(hub.activeFollowers()).toBe(0);
    hub.close();
  });

  it("refuses any stream beyond the process limit, and opens again once streams ended", async () => {
    const hub = createAuditStreamHub({ log: createMemoryAuditLog(), maxStreams: 3, maxStreamsPerCaller: 3 });
    const open = ["a", "b", "c"].map((caller) => openStream(hub, caller));
    await expect.poll(() => hub.activeFollowers()).toBe(3);
    for (const caller of ["a", "d", undefined]) {
      const refused = await refusalOf(
        hub.follow({ start: { kind: "now" }, filter: ALL, ...(caller === undefined ? {} : { caller }) }),
      );
      expect(refused).toMatchObject({ kind: "resource_exhausted", reason: STREAM_LIMIT_PER_PROCESS_REASON });
      expect(refused?.message).toContain("AUDIT_STREAMS_MAX=3");
    }
    await Promise.all(open.map((stream) => stream.end()));
    expect(hub.activeFollowers()).toBe(0);
    const after = openStream(hub, "d");
    await expect.poll(() => hub.activeFollowers()).toBe(1);
    await after.end();
    hub.close();
  });

  it("sends every stream's start and catch-up reads through one bounded gate", async () => {
    const log = createMemoryAuditLog();
    log.appendNow(...Array.from({ length: 30 }, () => usageEvent()));
    const reads = countingReads(log);
    const hub = createAuditStreamHub({
      log: reads.source,
      batchSize: 10,
      maxStreams: 200,
      maxStreamsPerCaller: 200,
      maxConcurrentReads: 3,
    });
    const starts = [
      { kind: "now" } as const,
      { kind: "cursor", cursor: encodeAuditCursor(0) } as const,
      { kind: "time", time: new Date(0) } as const,
    ];
    // 150 opens at once, each positioning itself and (but for "now") catching up on its own.
    const streams = Array.from({ length: 150 }, (_, index) => {
      const controller = new AbortController();
      const stream = hub.follow({
        start: starts[index % 3] ?? { kind: "now" },
        filter: ALL,
        caller: "key-a",
        signal: controller.signal,
      });
      return { controller, stream, first: stream.next(), catchingUp: index % 3 !== 0 };
    });
    const delivered = await Promise.all(streams.filter((s) => s.catchingUp).map((s) => s.first));
    expect(delivered.every((result) => result.value?.type === "event")).toBe(true);
    await expect.poll(() => hub.activeFollowers()).toBe(150);
    // Hundreds of reads, never more than the gate's three at once (plus the single tail poll).
    expect(reads.total()).toBeGreaterThan(150);
    expect(reads.peak()).toBeLessThanOrEqual(4);
    for (const stream of streams) {
      stream.controller.abort();
    }
    await Promise.all(streams.map((stream) => stream.first));
    // The catching-up streams are suspended after their first event: hanging up ends them.
    await Promise.all(streams.map((stream) => stream.stream.return()));
    expect(hub.activeFollowers()).toBe(0);
    hub.close();
  });
});
