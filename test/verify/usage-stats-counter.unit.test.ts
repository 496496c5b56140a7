/**
 * The usage statistics counter on its own: one batched add per flush (one increment per key and tenant,
 * hour and day bucket, all codes in it), a failed write kept for the next flush, the memory bound counted
 * as dropped, and close reporting what it could not write.
 */
import { describe, expect, it } from "vitest";
import type { UsageIncrement } from "../../src/domain/usage-stats.js";
import { createUsageStatsCounter } from "../../src/verify/usage-stats-counter.js";

const T0 = new Date("2031-05-04T23:59:00.000Z");
const LATER = new Date("2031-05-05T00:01:00.000Z");

function recordingStore(failures = 0) {
  const batches: UsageIncrement[][] = [];
  let failing = failures;
  return {
    batches,
    async add(increments: readonly UsageIncrement[]) {
      if (failing > 0) {
        failing -= 1;
        throw new Error("database down");
      }
      batches.push([...increments]);
    },
  };
}

describe("usage statistics counter", () => {
  it("adds one increment per bucket per flush, whatever the number of verdicts", async () => {
    const store = recordingStore();
    const counter = createUsageStatsCounter({ store, flushIntervalMs: 1_000 });
    for (let i = 0; i < 500; i += 1) {
      counter.count("acme", "k1", i % 5 === 0 ? "revoked" : "valid", T0);
    }
    counter.count("acme", "k2", "valid", LATER);
    await counter.flush();
    expect(store.batches).toHaveLength(1);
    const byId = Object.fromEntries(
      store.batches[0]!.map((i) => [
        `${i.scope}/${i.granularity}/${i.keyId}/${i.start.toISOString()}`,
        i.counts,
      ]),
    );
    expect(byId).toEqual({
      "key/hour/k1/2031-05-04T23:00:00.000Z": { valid: 400, revoked: 100 },
      "key/day/k1/2031-05-04T00:00:00.000Z": { valid: 400, revoked: 100 },
      "tenant/hour//2031-05-04T23:00:00.000Z": { valid: 400, revoked: 100 },
      "tenant/day//2031-05-04T00:00:00.000Z": { valid: 400, revoked: 100 },
      "key/hour/k2/2031-05-05T00:00:00.000Z": { valid: 1 },
      "key/day/k2/2031-05-05T00:00:00.000Z": { valid: 1 },
      "tenant/hour//2031-05-05T00:00:00.000Z": { valid: 1 },
      "tenant/day//2031-05-05T00:00:00.000Z": { valid: 1 },
    });
    expect(counter.stats()).toEqual({
      counted: 501,
      written: 501,
      pending: 0,
      dropped: 0,
      writes: 1,
      failures: 0,
    });
    await counter.flush();
    expect(store.batches).toHaveLength(1); // nothing new, nothing written
  });

  it("keeps a failed write's counts and adds them with the next flush", async () => {
    const store = recordingStore(1);
    const counter = createUsageStatsCounter({ store, flushIntervalMs: 1_000 });
    counter.count("acme", "k1", "valid", T0);
    await counter.flush();
    expect(counter.stats()).toMatchObject({ pending: 1, failures: 1, written: 0 });
    counter.count("acme", "k1", "valid", T0);
    await counter.flush();
    expect(store.batches[0]?.find((i) => i.scope === "key" && i.granularity === "hour")?.counts).toEqual({
      valid: 2,
    });
    expect(counter.stats()).toMatchObject({ pending: 0, written: 2 });
  });

  it("counts verdicts beyond its memory bound as dropped", async () => {
    const counter = createUsageStatsCounter({
      store: recordingStore(),
      flushIntervalMs: 1_000,
      maxPendingBuckets: 2,
    });
    counter.count("acme", "k1", "valid", T0);
    counter.count("acme", "k2", "valid", T0);
    counter.count("acme", "k1", "expired", T0); // an existing key-hour still counts
    counter.count("acme", "k3", "valid", T0);
    expect(counter.stats()).toMatchObject({ counted: 4, pending: 3, dropped: 1 });
  });

  it("reports at close what it could not write", async () => {
    const counter = createUsageStatsCounter({ store: recordingStore(5), flushIntervalMs: 1_000 });
    counter.count("acme", "k1", "valid", T0);
    counter.count("acme", "k1", "valid", T0);
    expect(await counter.close()).toBe(2);
  });
});
