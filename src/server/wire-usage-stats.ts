/**
 * The usage statistics wiring: the replica's counter (the verification side counts every verdict into it;
 * flushed every USAGE_STATS_FLUSH_INTERVAL_MS and at shutdown), the hourly retention job (an indexed delete
 * of old buckets; no TTL index), the reader GetUsageStats and the key listings use, and the metrics.
 */
import type { Registry } from "prom-client";
import type { Clock } from "../domain/ports.js";
import {
  bucketStart,
  createUsageStatsReader,
  type UsageGranularity,
  type UsageStatsReader,
} from "../domain/usage-stats.js";
import { registerCollectedMetric } from "../metrics/collected-metric.js";
import { createMongoKeyRepository } from "../storage/key-repository.js";
import { createMongoUsageRollupStore, usageRollupIndexes } from "../storage/usage-rollup-store.js";
import { createUsageStatsCounter, type UsageStatsCounter } from "../verify/usage-stats-counter.js";
import type { WireDeps, Wired } from "./wire-services.js";

/** How often each replica deletes the buckets older than the retention. */
const RETENTION_INTERVAL_MS = 3_600_000;

const DAY_MS = 86_400_000;

/** The close hook flushes the counter: run it after the verification side stopped. */
export interface WiredUsageStats extends Wired {
  readonly counter: UsageStatsCounter;
  readonly reader: UsageStatsReader;
}

export function wireUsageStats(deps: WireDeps): WiredUsageStats {
  const { config, db } = deps;
  const log = deps.logger.child({ component: "usage-stats" });
  const clock: Clock = { now: () => new Date() };
  const store = createMongoUsageRollupStore(db);
  const counter = createUsageStatsCounter({
    store,
    flushIntervalMs: config.usageStats.flushIntervalMs,
    onError: (error, verdicts) =>
      log.warn({ err: error, verdicts }, "usage statistics write failed; retrying at the next flush"),
  });
  registerUsageStatsMetrics(deps.metrics, counter);

  const retention: Readonly<Record<UsageGranularity, number>> = {
    hour: config.usageStats.hourRetentionDays,
    day: config.usageStats.dayRetentionDays,
  };
  async function deleteExpired(): Promise<void> {
    for (const granularity of ["hour", "day"] as const) {
      const cutoff = bucketStart(clock.now().getTime() - retention[granularity] * DAY_MS, granularity);
      try {
        const deleted = await store.deleteBefore(granularity, cutoff);
        if (deleted > 0) {
          log.info({ granularity, deleted, cutoff }, "usage statistics past their retention deleted");
        }
      } catch (error) {
        log.warn({ err: error, granularity }, "usage statistics retention delete failed; retrying later");
      }
    }
  }
  let retentionTimer: ReturnType<typeof setInterval> | null = null;

  return {
    counter,
    reader: createUsageStatsReader({ store, keys: createMongoKeyRepository(db), clock }),
    indexes: usageRollupIndexes,
    startHooks: [
      {
        name: "usage statistics",
        start() {
          counter.start();
          void deleteExpired();
          retentionTimer = setInterval(() => void deleteExpired(), RETENTION_INTERVAL_MS);
          retentionTimer.unref();
        },
      },
    ],
    closeHooks: [
      {
        name: "usage statistics",
        async close() {
          if (retentionTimer !== null) {
            clearInterval(retentionTimer);
          }
          const unwritten = await counter.close();
          if (unwritten > 0) {
            log.error({ verdicts: unwritten }, "usage statistics lost at shutdown: the write failed");
          }
        },
      },
    ],
  };
}

function registerUsageStatsMetrics(registry: Registry, counter: UsageStatsCounter): void {
  registerCollectedMetric(registry, {
    name: "apikeys_usage_stats_counted_total",
    help: "Verdicts counted for the usage statistics by this replica.",
    type: "counter",
    collect: () => [{ value: counter.stats().counted }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_usage_stats_written_total",
    help: "Counted verdicts added to the usage statistics in the database.",
    type: "counter",
    collect: () => [{ value: counter.stats().written }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_usage_stats_pending_verdicts",
    help: "Verdicts counted but not yet written: what a crash now would lose (at most one flush interval).",
    type: "gauge",
    collect: () => [{ value: counter.stats().pending }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_usage_stats_dropped_total",
    help: "Verdicts not counted because too many key-hours were waiting for a write.",
    type: "counter",
    collect: () => [{ value: counter.stats().dropped }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_usage_stats_writes_total",
    help: "Batched usage statistics writes (one database command each), by outcome.",
    type: "counter",
    collect: () => [
      { labels: { outcome: "ok" }, value: counter.stats().writes },
      { labels: { outcome: "failed" }, value: counter.stats().failures },
    ],
  });
}
