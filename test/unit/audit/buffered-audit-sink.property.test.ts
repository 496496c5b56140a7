/**
 * emitted = persisted + dropped + buffered under random emit, success and failure schedules;
 * nothing is persisted twice, persisted events keep emission order, and once the store recovers
 * everything not dropped is persisted.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBufferedAuditSink } from "../../../src/audit/buffered-audit-sink.js";
import type { NewAuditEvent } from "../../../src/domain/audit-event.js";
import { fireNextTimer, settle, useFakeTime } from "../../helpers/fake-time.js";
import { usageEvent } from "./audit-fixtures.js";
import { createControlledStore } from "./controlled-store.js";

type Step =
  | { readonly type: "emit"; readonly count: number }
  | { readonly type: "advance"; readonly ms: number }
  | { readonly type: "succeed" }
  | { readonly type: "fail" }
  | { readonly type: "throw-next" }
  | { readonly type: "flush"; readonly timeoutMs: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("emit" as const), count: fc.integer({ min: 1, max: 12 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 700 }) }),
  },
  { weight: 3, arbitrary: fc.constant({ type: "succeed" as const }) },
  { weight: 2, arbitrary: fc.constant({ type: "fail" as const }) },
  { weight: 1, arbitrary: fc.constant({ type: "throw-next" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("flush" as const),
      timeoutMs: fc.integer({ min: 0, max: 500 }),
    }),
  },
);

beforeEach(() => useFakeTime());
afterEach(() => vi.useRealTimers());

describe("buffered audit sink", () => {
  it("conserves emitted = persisted + dropped + buffered and persists each kept event exactly once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxBuffered: fc.integer({ min: 1, max: 30 }),
          maxBatch: fc.integer({ min: 1, max: 10 }),
          flushIntervalMs: fc.integer({ min: 0, max: 300 }),
        }),
        fc.array(step, { maxLength: 80 }),
        async (config, steps) => {
          // Timers of the previous run belong to a sink nobody observes any more.
          vi.clearAllTimers();
          const store = createControlledStore();
          const sink = createBufferedAuditSink({
            store,
            ...config,
            retryBaseMs: 20,
            retryMaxMs: 200,
            random: () => 0.3,
          });
          const kept: string[] = [];
          let dropped = 0;

          const check = () => {
            const c = sink.counters();
            expect(c.emitted).toBe(c.persisted + c.dropped + c.buffered);
            expect(c.buffered).toBeLessThanOrEqual(config.maxBuffered);
            expect(c.dropped).toBe(dropped);
            expect(c.persisted).toBe(store.persisted.length);
            expect(store.pending.length, "at most one append in flight").toBeLessThanOrEqual(1);
            // Persisted is exactly a prefix of the kept events: no duplicate, no reordering, no loss.
            expect(store.persisted).toEqual(kept.slice(0, store.persisted.length));
          };

          for (const s of steps) {
            switch (s.type) {
              case "emit":
                for (let i = 0; i < s.count; i++) {
                  const event: NewAuditEvent = usageEvent();
                  const before = sink.counters().dropped;
                  sink.emit(event);
                  if (sink.counters().dropped > before) {
                    dropped += 1;
                  } else {
                    kept.push(event.id);
                  }
                }
                break;
              case "advance":
                vi.advanceTimersByTime(s.ms);
                break;
              case "succeed":
                store.pending[0]?.succeed();
                break;
              case "fail":
                store.pending[0]?.fail();
                break;
              case "throw-next":
                store.throwNext();
                break;
              case "flush":
                void sink.flush({ timeoutMs: s.timeoutMs });
                break;
            }
            await settle();
            check();
          }

          // The store recovers: everything kept must end up persisted, once.
          for (let round = 0; round < 500 && sink.counters().buffered > 0; round++) {
            store.pending[0]?.succeed();
            await settle();
            if (store.pending.length === 0) {
              fireNextTimer();
              await settle();
            }
            check();
          }
          const final = sink.counters();
          expect(final.buffered).toBe(0);
          expect(final.persisted + final.dropped).toBe(final.emitted);
          expect(store.persisted).toEqual(kept);
        },
      ),
      { numRuns: 300 },
    );
  });
});
