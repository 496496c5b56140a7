/**
 * The usage statistics counter of one replica: verdicts counted in memory per key, UTC hour and code, and
 * added to the rollup buckets with one batched write per flush interval; a failed write puts its counts back.
 * Bounded (maxPendingBuckets), and what a crash would lose is exposed as `pending`. See docs/audit.md.
 */
import type { VerificationCode } from "../domain/audit-event.js";
import {
  bucketStart,
  bucketStartMs,
  type UsageCounts,
  type UsageIncrement,
  type UsageStatsStore,
  type VerdictCounter,
} from "../domain/usage-stats.js";
import { createPeriodicFlush, type FlushControl } from "./periodic-flush.js";

/** UsageStatsCounterOptions configure the counter. */
export interface UsageStatsCounterOptions {
  readonly store: Pick<UsageStatsStore, "add">;
  readonly flushIntervalMs: number;
  /** maxPendingBuckets bounds the key-hours waiting for a flush (default 100,000). */
  readonly maxPendingBuckets?: number;
  /** onError hears about failed writes (for logging); it must not throw. */
  readonly onError?: (error: unknown, verdicts: number) => void;
}

/** UsageStatsCounterStats are the counter's accounting, for the metrics. */
export interface UsageStatsCounterStats {
  /** counted is every verdict counted. */
  readonly counted: number;
  /** written is every verdict added to the database. */
  readonly written: number;
  /** pending is what is counted but not yet written: what a crash now would lose. */
  readonly pending: number;
  /** dropped counts verdicts not counted because maxPendingBuckets key-hours were already waiting. */
  readonly dropped: number;
  /** writes counts successful batched writes (each one database command). */
  readonly writes: number;
  readonly failures: number;
}

/** UsageStatsCounter is the VerdictCounter with flush control; close() returns the verdicts it could not write. */
export interface UsageStatsCounter extends VerdictCounter, FlushControl<UsageStatsCounterStats, number> {}

interface PendingBucket {
  readonly tenantId: string;
  readonly keyId: string;
  readonly hour: number;
  readonly counts: Map<VerificationCode, number>;
}

/** createUsageStatsCounter builds the counter. */
export function createUsageStatsCounter(options: UsageStatsCounterOptions): UsageStatsCounter {
  const { store, onError } = options;
  const maxPending = Math.max(options.maxPendingBuckets ?? 100_000, 1);
  // By key id, then by hour: the key id is the cached key's own string, so a warm call builds no lookup text.
  let pending = new Map<string, Map<number, PendingBucket>>();
  let pendingBuckets = 0;
  let pendingVerdicts = 0;
  let counted = 0;
  let written = 0;
  let dropped = 0;
  let writes = 0;
  let failures = 0;

  function add(tenantId: string, keyId: string, hour: number, code: VerificationCode, n: number): boolean {
    let hours = pending.get(keyId);
    let bucket = hours?.get(hour);
    if (bucket === undefined) {
      if (pendingBuckets >= maxPending) {
        return false;
      }
      if (hours === undefined) {
        hours = new Map();
        pending.set(keyId, hours);
      }
      bucket = { tenantId, keyId, hour, counts: new Map() };
      hours.set(hour, bucket);
      pendingBuckets += 1;
    }
    bucket.counts.set(code, (bucket.counts.get(code) ?? 0) + n);
    pendingVerdicts += n;
    return true;
  }

  async function write(): Promise<void> {
    if (pendingBuckets === 0) {
      return;
    }
    const batch = [...pending.values()].flatMap((hours) => [...hours.values()]);
    const batchVerdicts = pendingVerdicts;
    pending = new Map();
    pendingBuckets = 0;
    pendingVerdicts = 0;
    try {
      await store.add(incrementsOf(batch));
      writes += 1;
      written += batchVerdicts;
    } catch (error) {
      failures += 1;
      // Back into the pending counts (merged with what was counted meanwhile); the next flush retries.
      for (const bucket of batch) {
        for (const [code, n] of bucket.counts) {
          if (!add(bucket.tenantId, bucket.keyId, bucket.hour, code, n)) {
            dropped += n;
          }
        }
      }
      if (onError !== undefined) {
        try {
          onError(error, batchVerdicts);
        } catch {
          // Logging must not stop the counter.
        }
      }
    }
  }

  const loop = createPeriodicFlush(write, options.flushIntervalMs);

  return {
    count(tenantId, keyId, code, at) {
      counted += 1;
      if (!add(tenantId, keyId, bucketStartMs(at.getTime(), "hour"), code, 1)) {
        dropped += 1;
      }
    },
    start: loop.start,
    flush: loop.flush,
    async close() {
      loop.stop();
      // A flush already running took its batch; the second one writes what was counted since.
      await loop.flush();
      await loop.flush();
      return pendingVerdicts;
    },
    stats() {
      return { counted, written, pending: pendingVerdicts, dropped, writes, failures };
    },
  };
}

/**
 * incrementsOf turns pending key-hours into the buckets to add to: each key-hour, and, summed, each key-day,
 * tenant-hour and tenant-day they fall into (one increment per bucket, all codes in it).
 */
function incrementsOf(buckets: Iterable<PendingBucket>): UsageIncrement[] {
  const merged = new Map<
    string,
    { increment: Omit<UsageIncrement, "counts">; counts: Map<VerificationCode, number> }
  >();
  const into = (increment: Omit<UsageIncrement, "counts">, counts: ReadonlyMap<VerificationCode, number>) => {
    const id = `${increment.scope}\u0000${increment.granularity}\u0000${increment.tenantId}\u0000${increment.keyId}\u0000${increment.start.getTime()}`;
    let entry = merged.get(id);
    if (entry === undefined) {
      entry = { increment, counts: new Map() };
      merged.set(id, entry);
    }
    for (const [code, n] of counts) {
      entry.counts.set(code, (entry.counts.get(code) ?? 0) + n);
    }
  };
  for (const bucket of buckets) {
    const hour = new Date(bucket.hour);
    const day = bucketStart(bucket.hour, "day");
    const { tenantId, keyId } = bucket;
    into({ scope: "key", tenantId, keyId, granularity: "hour", start: hour }, bucket.counts);
    into({ scope: "key", tenantId, keyId, granularity: "day", start: day }, bucket.counts);
    into({ scope: "tenant", tenantId, keyId: "", granularity: "hour", start: hour }, bucket.counts);
    into({ scope: "tenant", tenantId, keyId: "", granularity: "day", start: day }, bucket.counts);
  }
  return [...merged.values()].map(({ increment, counts }) => ({
    ...increment,
    counts: Object.fromEntries(counts) as UsageCounts,
  }));
}
