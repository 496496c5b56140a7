import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BufferedAuditSink, createBufferedAuditSink } from "../../../src/audit/buffered-audit-sink.js";
import { fireNextTimer, settle, useFakeTime } from "../../helpers/fake-time.js";
import { usageEvent } from "./audit-fixtures.js";
import { type ControlledStore, createControlledStore } from "./controlled-store.js";

interface Harness {
  sink: BufferedAuditSink;
  store: ControlledStore;
  errors: unknown[];
  contexts: Array<{ consecutiveFailures: number; batchSize: number; retryInMs: number }>;
}

function harness(
  options: { maxBuffered?: number; maxBatch?: number; flushIntervalMs?: number } = {},
): Harness {
  const store = createControlledStore();
  const errors: unknown[] = [];
  const contexts: Harness["contexts"] = [];
  const sink = createBufferedAuditSink({
    store,
    maxBuffered: options.maxBuffered ?? 10,
    maxBatch: options.maxBatch ?? 4,
    flushIntervalMs: options.flushIntervalMs ?? 100,
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

  it("keeps a failed batch buffered and retries it with growing backoff, without duplicates", async () => {
    const { sink, store, errors, contexts } = harness({ maxBatch: 2 });
    const events = [usageEvent(), usageEvent()];
    for (const event of events) {
      sink.emit(event);
    }
    vi.advanceTimersByTime(0);
    store.pending[0]!.fail(new Error("down"));
    await settle();
    expect(sink.counters()).toMatchObject({ persisted: 0, buffered: 2, appendFailures: 1 });
    expect(contexts[0]).toEqual({ consecutiveFailures: 1, batchSize: 2, retryInMs: 38 });
    sink.emit(usageEvent());
    vi.advanceTimersByTime(37);
    expect(store.calls, "emit does not cut the backoff short").toEqual([2]);
    vi.advanceTimersByTime(1);
    expect(store.calls).toEqual([2, 2]);
    expect(store.pending[0]!.batch.map((event) => event.id)).toEqual(events.map((event) => event.id));
    store.pending[0]!.fail();
    await settle();
    expect(contexts[1]).toMatchObject({ consecutiveFailures: 2, retryInMs: 75 });
    vi.advanceTimersByTime(75);
    store.pending[0]!.succeed();
    await settle();
    vi.advanceTimersByTime(100);
    store.pending[0]!.succeed();
    await settle();
    expect(errors).toHaveLength(2);
    expect(new Set(store.persisted).size).toBe(store.persisted.length);
    expect(sink.counters()).toMatchObject({ emitted: 3, persisted: 3, buffered: 0, dropped: 0 });
  });

  it("caps the backoff at retryMaxMs", async () => {
    const { sink, store, contexts } = harness();
    sink.emit(usageEvent());
    vi.advanceTimersByTime(100);
    for (let i = 0; i < 8; i++) {
      store.pending[0]!.fail();
      await settle();
      fireNextTimer();
    }
    expect(contexts.map((context) => context.retryInMs).slice(-3)).toEqual([300, 300, 300]);
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
