import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AuditStreamHub, createAuditStreamHub } from "../../../src/audit/audit-stream-hub.js";
import { decodeAuditCursor, encodeAuditCursor } from "../../../src/domain/audit-cursor.js";
import type { AuditEventFilter } from "../../../src/domain/audit-log.js";
import {
  AuditCursorExpiredError,
  type AuditStreamItem,
  SLOW_CONSUMER_REASON,
} from "../../../src/domain/audit-stream.js";
import type { DomainError } from "../../../src/domain/errors.js";
import { fireNextTimer, settle, useFakeTime } from "../../helpers/fake-time.js";
import { adminEvent, usageEvent } from "./audit-fixtures.js";
import { createMemoryAuditLog, type MemoryAuditLog } from "./memory-audit-log.js";

const ALL: AuditEventFilter = { tenantId: null, keyId: null, kinds: [] };
const HEARTBEAT_MS = 5_000;
const POLL_MS = 200;

interface Setup {
  log: MemoryAuditLog;
  hub: AuditStreamHub;
  pollErrors: unknown[];
}

function setup(options: { maxBufferedEvents?: number; batchSize?: number } = {}): Setup {
  const log = createMemoryAuditLog();
  const pollErrors: unknown[] = [];
  const hub = createAuditStreamHub({
    log,
    pollIntervalMs: POLL_MS,
    heartbeatMs: HEARTBEAT_MS,
    maxBufferedEvents: options.maxBufferedEvents ?? 100,
    batchSize: options.batchSize ?? 50,
    onPollError: (error) => pollErrors.push(error),
  });
  return { log, hub, pollErrors };
}

/** next pulls one item, letting fake time run (poll and heartbeat timers) until the stream answers. */
async function next(iterator: AsyncIterator<AuditStreamItem>): Promise<IteratorResult<AuditStreamItem>> {
  let settled = false;
  const pending = iterator.next();
  pending.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let step = 0; step < 1_000; step++) {
    await settle();
    if (settled) {
      return pending;
    }
    if (!fireNextTimer()) {
      await settle();
      if (settled) {
        return pending;
      }
      throw new Error("the stream is stuck: nothing pending");
    }
  }
  throw new Error("the stream did not answer");
}

async function nextItem(iterator: AsyncIterator<AuditStreamItem>): Promise<AuditStreamItem> {
  const result = await next(iterator);
  if (result.done) {
    throw new Error("the stream ended");
  }
  return result.value;
}

/** takeEvents pulls until `count` events arrived (skipping heartbeats) and returns their seqs. */
async function takeEvents(iterator: AsyncIterator<AuditStreamItem>, count: number) {
  const seqs: number[] = [];
  while (seqs.length < count) {
    const item = await nextItem(iterator);
    if (item.type === "event") {
      expect(decodeAuditCursor(item.cursor)).toBe(item.event.seq);
      seqs.push(item.event.seq);
    }
  }
  return seqs;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

beforeEach(() => useFakeTime());
afterEach(() => vi.useRealTimers());

describe("audit stream hub", () => {
  it("starts at now: only events committed after the start, in seq order", async () => {
    const { log, hub } = setup();
    log.appendNow(usageEvent(), usageEvent(), usageEvent());
    const stream = hub.follow({ start: { kind: "now" }, filter: ALL });
    const first = stream.next();
    await settle();
    log.appendNow(usageEvent(), usageEvent());
    vi.advanceTimersByTime(POLL_MS);
    const item = await first;
    expect(item.value).toMatchObject({ type: "event", event: { seq: 4 } });
    expect(await takeEvents(stream, 1)).toEqual([5]);
    await stream.return();
  });

  it("resumes right after a cursor: catches up from the log, then follows live", async () => {
    const { log, hub } = setup({ batchSize: 2 });
    log.appendNow(...Array.from({ length: 5 }, () => usageEvent()));
    const stream = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(2) }, filter: ALL });
    expect(await takeEvents(stream, 3)).toEqual([3, 4, 5]);
    log.appendNow(usageEvent());
    expect(await takeEvents(stream, 1)).toEqual([6]);
    await stream.return();
  });

  it.each([
    ["empty", ""],
    ["garbage", "%%%"],
    ["a truncated cursor", encodeAuditCursor(3).slice(0, 8)],
  ])(
    "rejects %s as resume cursor with an invalid-argument error, without touching the database",
    async (_name, cursor) => {
      const { log, hub } = setup();
      log.setFailing(true);
      const error = await rejection(next(hub.follow({ start: { kind: "cursor", cursor }, filter: ALL })));
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe("resume_cursor");
    },
  );

  it("rejects a cursor ahead of the newest event", async () => {
    const { log, hub } = setup();
    log.appendNow(usageEvent(), usageEvent());
    const error = await rejection(
      next(hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(3) }, filter: ALL })),
    );
    expect(error).toHaveProperty("kind", "invalid_argument");
  });

  it.each([
    { deletedThrough: 5, cursor: 3, earliest: 5 },
    { deletedThrough: 5, cursor: 4, earliest: 5 },
    { deletedThrough: 10, cursor: 9, earliest: 10 },
  ])(
    "answers OUT_OF_RANGE for cursor $cursor when events up to $deletedThrough were removed",
    async ({ deletedThrough, cursor, earliest }) => {
      const { log, hub } = setup();
      log.appendNow(...Array.from({ length: 10 }, () => usageEvent()));
      log.deleteThrough(deletedThrough);
      const error = await rejection(
        next(hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(cursor) }, filter: ALL })),
      );
      expect(error).toHaveProperty("kind", "out_of_range");
      expect(error).toBeInstanceOf(AuditCursorExpiredError);
      expect(decodeAuditCursor((error as AuditCursorExpiredError).earliestCursor)).toBe(earliest);
      // The earliest cursor is a valid place to re-sync from.
      const resync = hub.follow({
        start: { kind: "cursor", cursor: (error as AuditCursorExpiredError).earliestCursor },
        filter: ALL,
      });
      log.appendNow(usageEvent());
      const seqs = await takeEvents(resync, 10 - deletedThrough + 1);
      expect(seqs[0]).toBe(earliest + 1);
      await resync.return();
    },
  );

  it.each([
    { cursor: 5, deletedThrough: 5 },
    { cursor: 10, deletedThrough: 10 },
  ])("accepts cursor $cursor when only events up to it were removed", async ({ cursor, deletedThrough }) => {
    const { log, hub } = setup();
    log.appendNow(...Array.from({ length: 10 }, () => usageEvent()));
    log.deleteThrough(deletedThrough);
    const stream = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(cursor) }, filter: ALL });
    log.appendNow(usageEvent());
    const seqs = await takeEvents(stream, 11 - cursor);
    expect(seqs).toEqual(Array.from({ length: 11 - cursor }, (_, i) => cursor + 1 + i));
    await stream.return();
  });

  it("ends a catch-up with OUT_OF_RANGE when retention removes events it has not read yet", async () => {
    const { log, hub } = setup({ batchSize: 2 });
    log.appendNow(...Array.from({ length: 8 }, () => usageEvent()));
    const stream = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(0) }, filter: ALL });
    expect(await takeEvents(stream, 2)).toEqual([1, 2]);
    log.deleteThrough(4);
    expect(await rejection(next(stream))).toBeInstanceOf(AuditCursorExpiredError);
  });

  it("starts at a timestamp with the first event at or after it", async () => {
    const { log, hub } = setup();
    const base = Date.UTC(2026, 0, 1);
    log.appendNow(...[0, 10, 20, 30].map((offset) => usageEvent({ time: new Date(base + offset * 1000) })));
    const stream = hub.follow({ start: { kind: "time", time: new Date(base + 15_000) }, filter: ALL });
    expect(await takeEvents(stream, 2)).toEqual([3, 4]);
    await stream.return();
    const future = hub.follow({ start: { kind: "time", time: new Date(base + 99_000) }, filter: ALL });
    const pending = future.next();
    await settle();
    log.appendNow(usageEvent());
    vi.advanceTimersByTime(POLL_MS);
    expect((await pending).value).toMatchObject({ type: "event", event: { seq: 5 } });
    await future.return();
  });

  it.each<[string, AuditEventFilter, number[]]>([
    ["a tenant", { tenantId: "tenant_b", keyId: null, kinds: [] }, [2, 4]],
    ["a key", { tenantId: null, keyId: "ak_test_key2", kinds: [] }, [3, 4]],
    ["a kind", { tenantId: null, keyId: null, kinds: ["admin"] }, [4, 5]],
    ["tenant and kind", { tenantId: "tenant_a", keyId: null, kinds: ["usage"] }, [1, 3]],
  ])("filters by %s, while catching up and live alike", async (_name, filter, expected) => {
    const { log, hub } = setup();
    const events = () => [
      usageEvent({ tenantId: "tenant_a" }),
      usageEvent({ tenantId: "tenant_b" }),
      usageEvent({ tenantId: "tenant_a", keyId: "ak_test_key2" }),
      adminEvent({ tenantId: "tenant_b", keyId: "ak_test_key2" }),
      adminEvent({ tenantId: "tenant_a", groupId: "grp_1" }),
    ];
    log.appendNow(...events());
    const stream = hub.follow({ start: { kind: "cursor", cursor: encodeAuditCursor(0) }, filter });
    expect(await takeEvents(stream, expected.length)).toEqual(expected);
    // An idle heartbeat moves the position past the non-matching tail.
    let item = await nextItem(stream);
    expect(item).toMatchObject({ type: "heartbeat", seq: 5 });
    log.appendNow(...events());
    expect(await takeEvents(stream, expected.length)).toEqual(expected.map((seq) => seq + 5));
    item = await nextItem(stream);
    expect(item).toMatchObject({ type: "heartbeat", seq: 10 });
    expect(decodeAuditCursor(item.type === "heartbeat" ? item.cursor : "")).toBe(10);
    await stream.return();
  });

  it("sends a heartbeat after heartbeatMs of silence, carrying the current position", async () => {
    const { log, hub } = setup();
    log.appendNow(usageEvent(), usageEvent());
    const stream = hub.follow({ start: { kind: "now" }, filter: ALL });
    const startedAt = Date.now();
    const item = await nextItem(stream);
    expect(item).toMatchObject({ type: "heartbeat", seq: 2 });
    expect(Date.now() - startedAt).toBe(HEARTBEAT_MS);
    expect(item.type === "heartbeat" && item.time.getTime()).toBe(Date.now());
    await nextItem(stream);
    expect(Date.now() - startedAt).toBe(2 * HEARTBEAT_MS);
    await stream.return();
  });

  it("ends a slow consumer with RESOURCE_EXHAUSTED without holding back others; its resume misses nothing", async () => {
    const { log, hub } = setup({ maxBufferedEvents: 5, batchSize: 4 });
    const slowErrors: DomainError[] = [];
    const slow = hub.follow({
      start: { kind: "now" },
      filter: ALL,
      onSlowConsumer: (e) => slowErrors.push(e),
    });
    const fast = hub.follow({ start: { kind: "now" }, filter: ALL });
    const slowFirst = slow.next();
    const fastFirst = fast.next();
    await settle();
    log.appendNow(usageEvent());
    vi.advanceTimersByTime(POLL_MS);
    const received = await slowFirst;
    expect(received.value).toMatchObject({ type: "event", event: { seq: 1 } });
    expect((await fastFirst).value).toMatchObject({ type: "event", event: { seq: 1 } });
    const lastCursor = received.value?.type === "event" ? received.value.cursor : "";

    // The slow consumer stops pulling; the fast one keeps up with 10 more events.
    log.appendNow(...Array.from({ length: 10 }, () => usageEvent()));
    expect(await takeEvents(fast, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    expect(slowErrors).toHaveLength(1);
    expect(slowErrors[0]?.reason).toBe(SLOW_CONSUMER_REASON);

    const error = await rejection(next(slow));
    expect(error).toHaveProperty("kind", "resource_exhausted");
    const resumed = hub.follow({ start: { kind: "cursor", cursor: lastCursor }, filter: ALL });
    expect(await takeEvents(resumed, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    await resumed.return();
    await fast.return();
  });

  it("polls the tail once per interval however many streams are live", async () => {
    const countPolls = async (followers: number) => {
      const { log, hub } = setup();
      const streams = Array.from({ length: followers }, () =>
        hub.follow({ start: { kind: "now" }, filter: ALL }),
      );
      const pulls = streams.map((stream) => stream.next());
      await settle();
      const before = log.afterCalls();
      for (let i = 0; i < 20; i++) {
        vi.advanceTimersByTime(POLL_MS);
        await settle();
      }
      const polls = log.afterCalls() - before;
      log.appendNow(usageEvent());
      vi.advanceTimersByTime(POLL_MS);
      await settle();
      for (const pull of pulls) {
        expect((await pull).value).toMatchObject({ type: "event", event: { seq: 1 } });
      }
      for (const stream of streams) {
        await stream.return();
      }
      return polls;
    };
    const one = await countPolls(1);
    expect(one).toBeGreaterThan(0);
    expect(await countPolls(5)).toBe(one);
  });

  it("keeps streams open through database errors and delivers once it recovers", async () => {
    const { log, hub, pollErrors } = setup();
    const stream = hub.follow({ start: { kind: "now" }, filter: ALL });
    const pending = stream.next();
    await settle();
    log.setFailing(true);
    log.appendNow(usageEvent());
    for (let i = 0; i < 3; i++) {
      fireNextTimer();
      await settle();
    }
    expect(pollErrors.length).toBeGreaterThan(0);
    expect(pollErrors[0]).toHaveProperty("kind", "unavailable");
    log.setFailing(false);
    fireNextTimer();
    expect((await pending).value).toMatchObject({ type: "event", event: { seq: 1 } });
    await stream.return();
  });

  it("ends normally when the client goes away, and goes idle when the last stream ends", async () => {
    const { hub } = setup();
    const controller = new AbortController();
    const stream = hub.follow({ start: { kind: "now" }, filter: ALL, signal: controller.signal });
    const pending = stream.next();
    await settle();
    expect(hub.activeFollowers()).toBe(1);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(hub.activeFollowers()).toBe(0);
    expect(vi.getTimerCount(), "no poll or heartbeat timer left behind").toBe(0);
  });

  it("close ends live streams with UNAVAILABLE and refuses new ones", async () => {
    const { hub } = setup();
    const stream = hub.follow({ start: { kind: "now" }, filter: ALL });
    const pending = stream.next();
    await settle();
    hub.close();
    expect(await rejection(pending)).toHaveProperty("kind", "unavailable");
    expect(await rejection(next(hub.follow({ start: { kind: "now" }, filter: ALL })))).toHaveProperty(
      "kind",
      "unavailable",
    );
    expect(hub.activeFollowers()).toBe(0);
  });
});
