/**
 * The process's metrics with the verify worker: counts add up field by field, and the audit accounting of
 * sink plus worker keeps emitted = persisted + dropped + buffered.
 */
import { describe, expect, it } from "vitest";
import type { VerifyWorkerSnapshot } from "../../../src/verify-worker/verify-worker-host.js";
import { addCounts, processAuditCounters } from "../../../src/verify-worker/worker-metrics.js";

function snapshot(
  usage: { pending: number; dropped: number; posted: number },
  sink: VerifyWorkerSnapshot["sink"],
) {
  return {
    worker: { usage: { emitted: usage.pending + usage.dropped + usage.posted, ...usage } },
    sink,
  } as unknown as VerifyWorkerSnapshot;
}

describe("worker metrics", () => {
  it("addCounts adds every numeric field and keeps the rest", () => {
    expect(addCounts({ hits: 2, size: 3, name: "a" }, { hits: 5, size: 1, name: "b" })).toEqual({
      hits: 7,
      size: 4,
      name: "a",
    });
    expect(addCounts({ hits: 2 }, undefined)).toEqual({ hits: 2 });
  });

  it.each([
    ["no worker", null, { emitted: 10, persisted: 6, dropped: 1, buffered: 3 }],
    [
      "worker events pending and dropped",
      snapshot(
        { pending: 4, dropped: 2, posted: 30 },
        { emitted: 40, persisted: 25, dropped: 5, buffered: 10 },
      ),
      { emitted: 46, persisted: 25, dropped: 7, buffered: 14 },
    ],
    [
      "sink read with the snapshot",
      snapshot({ pending: 0, dropped: 0, posted: 8 }, { emitted: 8, persisted: 8, dropped: 0, buffered: 0 }),
      { emitted: 8, persisted: 8, dropped: 0, buffered: 0 },
    ],
  ])("processAuditCounters: %s", (_name, taken, expected) => {
    const sinkNow = { emitted: 10, persisted: 6, dropped: 1, buffered: 3 };
    const counters = processAuditCounters(sinkNow, taken);
    expect(counters).toEqual(expected);
    expect(counters.emitted).toBe(counters.persisted + counters.dropped + counters.buffered);
  });
});
