import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type AuditSinkErrorContext,
  type BufferedAuditSink,
  createBufferedAuditSink,
} from "../../../src/audit/buffered-audit-sink.js";
import { fireNextTimer, settle, useFakeTime } from "../../helpers/fake-time.js";
import { adminEvent, usageEvent } from "./audit-fixtures.js";
import { type ControlledStore, createControlledStore } from "./controlled-store.js";

interface Harness {
  sink: BufferedAuditSink;
  store: ControlledStore;
  errors: unknown[];
  contexts: AuditSinkErrorContext[];
}

function harness(
  options: {
    maxBuffered?: number;
    maxBatch?: number;
    flushIntervalMs?: number;
    maxEventAttempts?: number;
  } = {},
): Harness {
  const store = createControlledStore();
  const errors: unknown[] = [];
  const contexts: Harness["contexts"] = [];
  const sink = createBufferedAuditSink({
    store,
    maxBuffered: options.maxBuffered ?? 10,
    maxBatch: options.maxBatch ?? 4,
    flushIntervalMs: options.flushIntervalMs ?? 100,
    ...(options.maxEventAttempts === undefined ? {} : { maxEventAttempts: options.maxEventAttempts }),
    retryBaseMs: 50,
    retryMaxMs: 400,
    random: () => 0.5,
    onError: (error, context) => {
      errors.push(error);
      contexts.push(context);
    },
  });
  return { sink, store, errors, contexts };
}

function conserved(sink: BufferedAuditSink): boolean {
  const c = sink.counters();
  return c.emitted === c.persisted + c.dropped + c.buffered;
}

beforeEach(() => useFakeTime());
afterEach(() => vi.useRealTimers());

describe("createBufferedAuditSink", () => {
  it("writes a partial batch once after the flush interval, in emission order", async () => {
    const { sink, store } = harness();
    const events = [usageEvent(), usageEvent(), usageEvent()];
    for (const event of events) {
      sink.emit(event);
    }
    expect(store.calls).toEqual([]);
    vi.advanceTimersByTime(99);
    expect(store.calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(store.calls).toEqual([3]);
    store.pending[0]!.succeed();
    await settle();
    expect(store.persisted).toEqual(events.map((event) => event.id));
    expect(sink.counters()).toMatchObject({ emitted: 3, persisted: 3, dropped: 0, buffered: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("writes a full batch at once, never more than maxBatch, one append at a time", async () => {
    const { sink, store } = harness({ maxBatch: 4, maxBuffered: 20 });
    for (let i = 0; i < 9; i++) {
      sink.emit(usageEvent());
    }
    vi.advanceTimersByTime(0);
    expect(store.calls).toEqual([4]);
    vi.advanceTimersByTime(1_000);
    expect(store.calls, "no second append while one is in flight").toEqual([4]);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(0);
    expect(store.calls).toEqual([4, 4]);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(99);
    expect(store.calls, "the last partial batch waits for the interval").toEqual([4, 4]);
    vi.advanceTimersByTime(1);
    expect(store.calls).toEqual([4, 4, 1]);
    store.pending[0]!.succeed();
    await settle();
    expect(sink.counters()).toMatchObject({ emitted: 9, persisted: 9, buffered: 0 });
  });

  it("drops and counts events beyond maxBuffered, including while a batch is in flight", async () => {
    const { sink, store } = harness({ maxBuffered: 5, maxBatch: 3 });
    for (let i = 0; i < 8; i++) {
      sink.emit(usageEvent());
      expect(conserved(sink)).toBe(true);
    }
    expect(sink.counters()).toMatchObject({ emitted: 8, dropped: 3, buffered: 5, persisted: 0 });
    vi.advanceTimersByTime(0);
    sink.emit(usageEvent());
    expect(sink.counters(), "the in-flight batch still uses capacity").toMatchObject({
      dropped: 4,
      buffered: 5,
    });
    store.pending[0]!.succeed();
    await settle();
    expect(sink.counters()).toMatchObject({ emitted: 9, persisted: 3, dropped: 4, buffered: 2 });
    expect(conserved(sink)).toBe(true);
  });

  it("keeps a failed batch buffered, halves the next batch and retries with growing backoff, without duplicates", async () => {
    const { sink, store, errors, contexts } = harness({ maxBatch: 2 });
    const events = [usageEvent(), usageEvent()];
    for (const event of events) {
      sink.emit(event);
    }
    vi.advanceTimersByTime(0);
    store.pending[0]!.fail(new Error("down"));
    await settle();
    expect(sink.counters()).toMatchObject({ persisted: 0, buffered: 2, appendFailures: 1, batchLimit: 1 });
    expect(contexts[0]).toEqual({ consecutiveFailures: 1, batchSize: 2, nextBatchLimit: 1, retryInMs: 38 });
    sink.emit(usageEvent());
    vi.advanceTimersByTime(37);
    expect(store.calls, "emit does not cut the backoff short").toEqual([2]);
    vi.advanceTimersByTime(1);
    expect(store.calls, "the failed batch is not re-sent unchanged: it is halved").toEqual([2, 1]);
    expect(store.pending[0]!.batch.map((event) => event.id)).toEqual([events[0]!.id]);
    store.pending[0]!.fail();
    await settle();
    expect(contexts[1]).toMatchObject({ consecutiveFailures: 2, retryInMs: 75 });
    vi.advanceTimersByTime(75);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(100);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(100);
    store.pending[0]!.succeed();
    await settle();
    expect(store.calls).toEqual([2, 1, 1, 1, 1]);
    expect(errors).toHaveLength(2);
    expect(store.persisted).toEqual([...events.map((event) => event.id), expect.any(String)]);
    expect(new Set(store.persisted).size).toBe(store.persisted.length);
    expect(sink.counters()).toMatchObject({ emitted: 3, persisted: 3, buffered: 0, dropped: 0 });
  });

  it("caps the backoff at retryMaxMs", async () => {
    const { sink, store, contexts } = harness({ maxEventAttempts: 100 });
    sink.emit(usageEvent());
    vi.advanceTimersByTime(100);
    for (let i = 0; i < 8; i++) {
      store.pending[0]!.fail();
      await settle();
      fireNextTimer();
    }
    expect(contexts.map((context) => context.retryInMs).slice(-3)).toEqual([300, 300, 300]);
  });

  it("never wedges on a slow store: batches halve until they fit, then grow back", async () => {
    // A store whose writes of more than 3 events outlast the database's timeout.
    const written: number[] = [];
    const sink = createBufferedAuditSink({
      store: {
        append: async (batch) => {
          if (batch.length > 3) {
            throw new Error("operation exceeded time limit");
          }
          written.push(batch.length);
        },
        after: async () => [],
      },
      maxBuffered: 100,
      maxBatch: 16,
      flushIntervalMs: 10,
      retryBaseMs: 10,
      retryMaxMs: 40,
    });
    for (let i = 0; i < 40; i++) {
      sink.emit(usageEvent());
    }
    for (let round = 0; round < 200 && sink.counters().buffered > 0; round++) {
      fireNextTimer();
      await settle();
    }
    expect(sink.counters()).toMatchObject({ emitted: 40, persisted: 40, buffered: 0, dropped: 0 });
    // 16, 8 and 4 fail, then batches of 2 fit; every 8 successes a batch of 4 is tried again (and fails).
    expect(sink.counters().appendFailures).toBe(5);
    expect(Math.max(...written)).toBeLessThanOrEqual(3);
  });

  it("gives up a usage event that fails alone maxEventAttempts times, and moves on", async () => {
    const { sink, store } = harness({ maxEventAttempts: 3 });
    const [poison, next] = [usageEvent(), usageEvent()];
    sink.emit(poison);
    sink.emit(next);
    vi.advanceTimersByTime(100);
    for (let i = 0; i < 3; i++) {
      store.pending[0]!.fail();
      await settle();
      fireNextTimer();
    }
    expect(sink.counters()).toMatchObject({ dropped: 1, givenUp: 1, buffered: 1 });
    expect(store.pending[0]!.batch.map((event) => event.id)).toEqual([next.id]);
    store.pending[0]!.succeed();
    await settle();
    expect(store.persisted).toEqual([next.id]);
    expect(conserved(sink)).toBe(true);
  });

  it("record resolves only once the admin event is stored, with the usage events decided before it, in order", async () => {
    const { sink, store } = harness({ maxBatch: 10, flushIntervalMs: 60_000 });
    const before = usageEvent();
    const admin = adminEvent();
    sink.emit(before);
    let stored = false;
    const recorded = sink.record(admin).then(() => {
      stored = true;
    });
    const after = usageEvent();
    sink.emit(after);
    // No minute-long wait: an admin event is written at once.
    vi.advanceTimersByTime(0);
    expect(store.pending[0]!.batch.map((event) => event.id)).toEqual([before.id, admin.id, after.id]);
    store.pending[0]!.fail();
    await settle();
    expect(stored, "not stored yet: record still waits").toBe(false);
    fireNextTimer();
    store.pending[0]!.succeed();
    await settle();
    expect(stored).toBe(false);
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await recorded;
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await settle();
    expect(store.persisted).toEqual([before.id, admin.id, after.id]);
  });

  it("takes admin events although usage events fill the buffer, and never drops them", async () => {
    const { sink, store } = harness({ maxBuffered: 3, maxBatch: 100 });
    for (let i = 0; i < 10; i++) {
      sink.emit(usageEvent());
    }
    const admins = [adminEvent(), adminEvent()];
    const recorded = Promise.all(admins.map((event) => sink.record(event)));
    expect(sink.counters()).toMatchObject({ dropped: 7, buffered: 5, adminPending: 2 });
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await recorded;
    expect(store.persisted.slice(-2)).toEqual(admins.map((event) => event.id));
    expect(sink.counters()).toMatchObject({ emitted: 12, persisted: 5, dropped: 7, adminPending: 0 });
  });

  it("refuses new admin changes while maxAdminPending admin events wait to be stored", async () => {
    const store = createControlledStore();
    const sink = createBufferedAuditSink({
      store,
      maxBuffered: 10,
      maxBatch: 10,
      flushIntervalMs: 10,
      maxAdminPending: 2,
    });
    sink.checkAdminBacklog();
    void sink.record(adminEvent());
    sink.checkAdminBacklog();
    void sink.record(adminEvent());
    expect(() => sink.checkAdminBacklog()).toThrow(expect.objectContaining({ kind: "unavailable" }));
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await settle();
    expect(() => sink.checkAdminBacklog()).not.toThrow();
  });

  it("close reports exactly how many events a slow store could not take within the timeout", async () => {
    const { sink, store } = harness({ maxBatch: 2, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      sink.emit(usageEvent());
    }
    const closed = sink.close({ timeoutMs: 1_000 });
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(0);
    // The second batch hangs past the timeout.
    vi.advanceTimersByTime(1_000);
    await expect(closed).resolves.toMatchObject({ emitted: 5, persisted: 2, buffered: 3, dropped: 0 });
  });

  it("survives a store that throws synchronously and an onError hook that throws", async () => {
    const store = createControlledStore();
    const sink = createBufferedAuditSink({
      store,
      maxBuffered: 10,
      maxBatch: 10,
      flushIntervalMs: 10,
      onError: () => {
        throw new Error("bad hook");
      },
    });
    sink.emit(usageEvent());
    store.throwNext();
    vi.advanceTimersByTime(10);
    await settle();
    expect(sink.counters()).toMatchObject({ buffered: 1, appendFailures: 1 });
    vi.advanceTimersByTime(10_000);
    store.pending[0]!.succeed();
    await settle();
    expect(sink.counters()).toMatchObject({ persisted: 1, buffered: 0 });
  });

  it("flush writes batches back to back and resolves when empty", async () => {
    const { sink, store } = harness({ maxBatch: 2, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      sink.emit(usageEvent());
    }
    const flushed = sink.flush({ timeoutMs: 1_000 });
    // Time never reaches the one-minute interval: only flush can make these writes happen.
    for (let round = 0; round < 10 && store.persisted.length < 5; round++) {
      vi.advanceTimersByTime(0);
      store.pending[0]?.succeed();
      await settle();
    }
    expect(store.calls).toEqual([2, 2, 1]);
    await expect(flushed).resolves.toMatchObject({ persisted: 5, buffered: 0 });
  });

  it("flush gives up at its timeout and leaves the rest counted as buffered", async () => {
    const { sink, store } = harness();
    sink.emit(usageEvent());
    const flushed = sink.flush({ timeoutMs: 500 });
    vi.advanceTimersByTime(0);
    expect(store.pending).toHaveLength(1);
    vi.advanceTimersByTime(500);
    await expect(flushed).resolves.toMatchObject({ emitted: 1, buffered: 1, persisted: 0 });
  });

  it("close drops (and counts) events emitted afterwards, and flushes the rest", async () => {
    const { sink, store } = harness();
    sink.emit(usageEvent());
    const closed = sink.close({ timeoutMs: 1_000 });
    sink.emit(usageEvent());
    vi.advanceTimersByTime(0);
    store.pending[0]!.succeed();
    await expect(closed).resolves.toMatchObject({ emitted: 2, persisted: 1, dropped: 1, buffered: 0 });
  });

  it("flush on an empty sink resolves at once", async () => {
    const { sink } = harness();
    await expect(sink.flush()).resolves.toMatchObject({ emitted: 0, buffered: 0 });
  });

  it.each([
    ["maxBuffered", { maxBuffered: 0 }],
    ["maxBuffered", { maxBuffered: 1.5 }],
    ["maxBatch", { maxBatch: 0 }],
    ["flushIntervalMs", { flushIntervalMs: -1 }],
  ])("rejects a bad %s", (name, change) => {
    expect(() =>
      createBufferedAuditSink({
        store: createControlledStore(),
        maxBuffered: 10,
        maxBatch: 2,
        flushIntervalMs: 10,
        ...change,
      }),
    ).toThrow(name);
  });
});
