/**
 * The verify worker's usage relay, on hand-driven timers: a batch goes when it is full or when its wait is
 * over, never both; events beyond the bound (held here plus posted but not yet taken by the main thread)
 * are dropped and counted; closing posts what is held and drops what comes later; and at every moment
 * emitted = dropped + pending + posted.
 */
import { describe, expect, it } from "vitest";
import type { AuditTimers } from "../../../src/domain/audit-timers.js";
import type { UsageBatch } from "../../../src/verify-worker/usage-batch.js";
import { createUsageRelay, type UsageRelay } from "../../../src/verify-worker/usage-relay.js";

class ManualTimers implements AuditTimers {
  private next = 1;
  private readonly pending = new Map<number, () => void>();

  setTimeout(callback: () => void): unknown {
    const id = this.next++;
    this.pending.set(id, callback);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get armed(): number {
    return this.pending.size;
  }

  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const callback of due) {
      callback();
    }
  }
}

function setup(batchSize: number, maxBufferedEvents: number) {
  const timers = new ManualTimers();
  const posted: UsageBatch[] = [];
  let taken = 0;
  const relay = createUsageRelay({
    post: (batch) => posted.push(batch),
    taken: () => taken,
    batchSize,
    maxBufferedEvents,
    flushIntervalMs: 100,
    timers,
  });
  const write = (count: number) => {
    for (let i = 0; i < count; i++) {
      relay.write(new Date(i), null, "GET /x", "10.0.0.1", "not_found", 401);
    }
  };
  const take = (events: number) => {
    taken = (taken + events) | 0;
  };
  return { relay, timers, posted, write, take };
}

function expectAccounting(relay: UsageRelay): void {
  const stats = relay.stats();
  expect(stats.emitted).toBe(stats.dropped + stats.pending + stats.posted);
}

describe("createUsageRelay", () => {
  it("posts a full batch at once and cancels its wait", () => {
    const { relay, timers, posted, write } = setup(4, 100);
    write(3);
    expect(posted).toHaveLength(0);
    expect(timers.armed).toBe(1);
    write(1);
    expect(posted.map((batch) => batch.count)).toEqual([4]);
    expect(timers.armed).toBe(0);
    expectAccounting(relay);
  });

  it("posts a partial batch when its wait is over", () => {
    const { relay, timers, posted, write } = setup(10, 100);
    write(3);
    timers.fire();
    expect(posted.map((batch) => batch.count)).toEqual([3]);
    expect(relay.stats()).toMatchObject({ emitted: 3, pending: 0, posted: 3, dropped: 0 });
  });

  it("drops beyond the bound of held plus untaken events, and takes again once the main thread caught up", () => {
    const { relay, posted, write, take } = setup(5, 12);
    write(15);
    // 10 posted, none taken yet; 2 more fit, 3 are dropped.
    expect(relay.stats()).toMatchObject({ emitted: 15, posted: 10, pending: 2, dropped: 3 });
    expectAccounting(relay);
    take(10);
    write(3);
    expect(posted.map((batch) => batch.count)).toEqual([5, 5, 5]);
    expect(relay.stats()).toMatchObject({ emitted: 18, dropped: 3 });
    expectAccounting(relay);
  });

  it("posts what it holds when closed and drops what comes after", () => {
    const { relay, timers, posted, write } = setup(10, 100);
    write(2);
    relay.close();
    expect(posted.map((batch) => batch.count)).toEqual([2]);
    expect(timers.armed).toBe(0);
    write(1);
    expect(relay.stats()).toMatchObject({ emitted: 3, posted: 2, dropped: 1, pending: 0 });
  });
});
