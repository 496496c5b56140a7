/**
 * ManualTimers: AuditTimers and a Clock driven by hand, so sink and stream tests control time exactly.
 */
import type { AuditTimers } from "../../../src/audit/audit-timers.js";
import type { Clock } from "../../../src/domain/ports.js";

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** ManualTimers is a fake timer queue with a clock that only moves when told to. */
export interface ManualTimers {
  readonly timers: AuditTimers;
  readonly clock: Clock;
  /** nowMs is the current fake time. */
  nowMs(): number;
  /** pendingCount counts scheduled, not yet fired timers. */
  pendingCount(): number;
  /** delays lists the delays of pending timers relative to now. */
  delays(): number[];
  /** advance moves time by `ms`, firing every timer due on the way (also ones scheduled meanwhile). */
  advance(ms: number): void;
  /** fireNext jumps to the earliest pending timer and fires it; false when none is pending. */
  fireNext(): boolean;
}

/** createManualTimers starts a fake timer queue at `startMs`. */
export function createManualTimers(startMs = 1_700_000_000_000): ManualTimers {
  let now = startMs;
  let nextId = 1;
  const pending = new Map<number, PendingTimer>();

  const earliest = (): PendingTimer | undefined => {
    let best: PendingTimer | undefined;
    for (const timer of pending.values()) {
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) {
        best = timer;
      }
    }
    return best;
  };

  return {
    timers: {
      setTimeout(callback, delayMs) {
        const id = nextId++;
        pending.set(id, { id, at: now + Math.max(0, delayMs), callback });
        return id;
      },
      clearTimeout(handle) {
        pending.delete(handle as number);
      },
    },
    clock: { now: () => new Date(now) },
    nowMs: () => now,
    pendingCount: () => pending.size,
    delays: () => [...pending.values()].map((timer) => timer.at - now),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = earliest();
        if (next === undefined || next.at > until) {
          break;
        }
        pending.delete(next.id);
        now = Math.max(now, next.at);
        next.callback();
      }
      now = until;
    },
    fireNext() {
      const next = earliest();
      if (next === undefined) {
        return false;
      }
      pending.delete(next.id);
      now = Math.max(now, next.at);
      next.callback();
      return true;
    },
  };
}

/** settle lets pending promise callbacks run (real macrotask turn; the code under test uses fake timers). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
