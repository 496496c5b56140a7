/**
 * The VerifyKey metrics: verdicts by code, RPC errors by kind, latency, cache, invalidation feed, usage
 * recording, audit buffer accounting and database commands. Everything on the hot path is a plain number
 * bumped in place (see collected-metric.ts); the Registry reads the numbers and the components' stats()
 * only when /metrics is scraped.
 */

import type { Registry } from "prom-client";
import { VERIFICATION_CODES } from "../domain/audit-event.js";
import type { KeyCacheStats } from "../verify/key-cache.js";
import { createFastHistogram, histogramSamples, registerCollectedMetric } from "./collected-metric.js";
import {
  createVerifyCounters,
  FAILURE_KINDS,
  LATENCY_BOUNDS_SECONDS,
  type VerifyCounters,
  type VerifyCountersSnapshot,
} from "./verify-counters.js";

/** LAG_BOUNDS_SECONDS are the invalidation-lag histogram's buckets: 10 ms to 30 s. */
export const LAG_BOUNDS_SECONDS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** VerifyMetrics is the observer the verifier reports to, and the lag sink the follower reports to. */
export interface VerifyMetrics extends VerifyCounters {
  /** invalidationLag records one applied notice's lag in milliseconds. */
  invalidationLag(lagMs: number): void;
}

/** VerifyMetricsOptions add counts kept elsewhere (the verify worker's) to this process's metrics. */
export interface VerifyMetricsOptions {
  /** more reads other counters to add at scrape time; null when there are none (yet). */
  readonly more?: () => Promise<VerifyCountersSnapshot | null> | VerifyCountersSnapshot | null;
}

/** createVerifyMetrics registers the verdict, error, latency and lag metrics on `registry`. */
export function createVerifyMetrics(registry: Registry, options: VerifyMetricsOptions = {}): VerifyMetrics {
  const counters = createVerifyCounters();
  const lag = createFastHistogram(LAG_BOUNDS_SECONDS);
  const more = options.more;
  const snapshots = async (): Promise<VerifyCountersSnapshot[]> => {
    const own = counters.snapshot();
    const other = more === undefined ? null : await more();
    return other === null ? [own] : [own, other];
  };
  const sumAt = (
    all: readonly VerifyCountersSnapshot[],
    pick: (s: VerifyCountersSnapshot) => readonly number[],
    i: number,
  ) => all.reduce((total, snapshot) => total + (pick(snapshot)[i] ?? 0), 0);

  registerCollectedMetric(registry, {
    name: "apikeys_verify_verdicts_total",
    help: "VerifyKey verdicts by code (valid, not_found, expired, revoked, ip_not_allowed, insufficient_permissions).",
    type: "counter",
    collect: async () => {
      const all = await snapshots();
      return VERIFICATION_CODES.map((code, i) => ({
        labels: { code },
        value: sumAt(all, (s) => s.verdicts, i),
      }));
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_errors_total",
    help: "VerifyKey calls that ended in an RPC error, by kind (invalid_argument, unavailable, internal).",
    type: "counter",
    collect: async () => {
      const all = await snapshots();
      return FAILURE_KINDS.map((kind, i) => ({ labels: { kind }, value: sumAt(all, (s) => s.failures, i) }));
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_duration_seconds",
    help: "VerifyKey latency inside the service (validation to verdict), verdicts and errors alike.",
    type: "histogram",
    collect: async () =>
      histogramSamples(
        "apikeys_verify_duration_seconds",
        LATENCY_BOUNDS_SECONDS,
        (await snapshots()).map((snapshot) => snapshot.latency),
      ),
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_lag_seconds",
    help: "Time from a change notice's publication to this replica dropping the cached entry.",
    type: "histogram",
    collect: () => lag.samples("apikeys_invalidation_lag_seconds"),
  });

  return {
    // The counters' own methods (they use no `this`): no extra frame on the hot path.
    verdict: counters.verdict,
    failure: counters.failure,
    snapshot: counters.snapshot,
    invalidationLag(lagMs: number) {
      lag.observe(lagMs / 1000);
    },
  };
}

/** AuditBufferCounters is the audit sink's accounting (emitted = persisted + dropped + buffered). */
export interface AuditBufferCounters {
  readonly emitted: number;
  readonly persisted: number;
  readonly dropped: number;
  readonly buffered: number;
}

/** FollowerStatsView is what the metrics read of the invalidation follower. */
export interface FollowerStatsView {
  readonly lastSuccessAgeMs: number | null;
  readonly pollFailures: number;
  readonly noticesApplied: number;
  readonly gapFlushes: number;
}

/** NotifierStatsView is what the metrics read of the change notifier. */
export interface NotifierStatsView {
  readonly published: number;
  readonly publishFailures: number;
  readonly pending: number;
}

/** LastUsedStatsView is what the metrics read of the last-used recorders. */
export interface LastUsedStatsView {
  readonly lastUsedPending: number;
  readonly lastUsedWrites: number;
  readonly lastUsedFailures: number;
  readonly lastUsedDropped: number;
}

/**
 * VerificationRuntimeStats are the stats() readers of the verification components. A reader may be
 * asynchronous: with the verify worker, cache, last-used and audit figures add the worker's, read from it at
 * scrape time.
 */
export interface VerificationRuntimeStats {
  readonly cache: () => KeyCacheStats | Promise<KeyCacheStats>;
  readonly follower: () => FollowerStatsView;
  readonly notifier: () => NotifierStatsView;
  readonly usage: () => LastUsedStatsView | Promise<LastUsedStatsView>;
  /** audit reads the audit sink's counters; absent when usage events are not recorded. */
  readonly audit?: () => AuditBufferCounters | Promise<AuditBufferCounters>;
  /** dbCommands reads the number of database commands started; absent without command monitoring. */
  readonly dbCommands?: () => number;
}

/** registerVerificationRuntimeMetrics registers the scrape-time metrics of the verification components. */
export function registerVerificationRuntimeMetrics(
  registry: Registry,
  stats: VerificationRuntimeStats,
): void {
  const cache = stats.cache;
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_hits_total",
    help: "Verification cache hits: positive (known keys), negative (unknown ids), group (permissions).",
    type: "counter",
    collect: async () => {
      const s = await cache();
      return [
        { labels: { cache: "positive" }, value: s.positiveHits },
        { labels: { cache: "negative" }, value: s.negativeHits },
        { labels: { cache: "group" }, value: s.groupHits },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_misses_total",
    help: "Verification cache misses that needed a database lookup, by cache (key, group).",
    type: "counter",
    collect: async () => {
      const s = await cache();
      return [
        { labels: { cache: "key" }, value: s.misses },
        { labels: { cache: "group" }, value: s.groupMisses },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_untrusted_total",
    help: "Cached keys found but no longer trusted because the invalidation feed was too old (looked up again).",
    type: "counter",
    collect: async () => [{ value: (await cache()).untrustedHits }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_entries",
    help: "Entries in the verification caches: positive (keys), negative (unknown ids), group.",
    type: "gauge",
    collect: async () => {
      const s = await cache();
      return [
        { labels: { cache: "positive" }, value: s.positiveSize },
        { labels: { cache: "negative" }, value: s.negativeSize },
        { labels: { cache: "group" }, value: s.groupSize },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_bytes",
    help: "Approximate memory held by the positive verification cache.",
    type: "gauge",
    collect: async () => [{ value: (await cache()).positiveBytes }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_lookups_total",
    help: "Database lookups started by the verification cache (concurrent misses for one id share one).",
    type: "counter",
    collect: async () => [{ value: (await cache()).lookups }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_lookup_failures_total",
    help: "Verification lookups that failed: error (database error), timeout (budget ran out), fast_fail (refused while the database was known down or too busy).",
    type: "counter",
    collect: async () => {
      const s = await cache();
      return [
        { labels: { reason: "error" }, value: s.lookupFailures - s.lookupTimeouts },
        { labels: { reason: "timeout" }, value: s.lookupTimeouts },
        { labels: { reason: "fast_fail" }, value: s.fastFailures },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_invalidations_total",
    help: "Cache entries dropped by change notices (entry) and whole-cache flushes (flush).",
    type: "counter",
    collect: async () => {
      const s = await cache();
      return [
        { labels: { scope: "entry" }, value: s.invalidations },
        { labels: { scope: "flush" }, value: s.flushes },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_last_poll_age_seconds",
    help: "Time since the last successful poll of the invalidation feed started (-1 before the first).",
    type: "gauge",
    collect: () => {
      const age = stats.follower().lastSuccessAgeMs;
      return [{ value: age === null ? -1 : age / 1000 }];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_poll_failures_total",
    help: "Failed polls of the invalidation feed.",
    type: "counter",
    collect: () => [{ value: stats.follower().pollFailures }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_notices_total",
    help: "Change notices applied by this replica, and whole-cache flushes after missed notices.",
    type: "counter",
    collect: () => {
      const s = stats.follower();
      return [
        { labels: { event: "applied" }, value: s.noticesApplied },
        { labels: { event: "gap_flush" }, value: s.gapFlushes },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_publishes_total",
    help: "Change notices published by this replica, by outcome (ok, failed); failed ones are retried.",
    type: "counter",
    collect: () => {
      const s = stats.notifier();
      return [
        { labels: { outcome: "ok" }, value: s.published },
        { labels: { outcome: "failed" }, value: s.publishFailures },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_publishes_pending",
    help: "Change notices waiting to be re-published after a failure.",
    type: "gauge",
    collect: () => [{ value: stats.notifier().pending }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_last_used_writes_total",
    help: "Coalesced last-used bulk writes, by outcome (ok, failed).",
    type: "counter",
    collect: async () => {
      const s = await stats.usage();
      return [
        { labels: { outcome: "ok" }, value: s.lastUsedWrites },
        { labels: { outcome: "failed" }, value: s.lastUsedFailures },
      ];
    },
  });
  registerCollectedMetric(registry, {
    name: "apikeys_last_used_pending",
    help: "Keys whose last-used time waits for the next coalesced write.",
    type: "gauge",
    collect: async () => [{ value: (await stats.usage()).lastUsedPending }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_last_used_dropped_total",
    help: "Key uses not queued for a last-used write because the tracking maps were full.",
    type: "counter",
    collect: async () => [{ value: (await stats.usage()).lastUsedDropped }],
  });
  const audit = stats.audit;
  if (audit !== undefined) {
    registerCollectedMetric(registry, {
      name: "apikeys_audit_events_total",
      help: "Audit events by state: emitted = persisted + dropped + buffered.",
      type: "counter",
      collect: async () => {
        const s = await audit();
        return [
          { labels: { state: "emitted" }, value: s.emitted },
          { labels: { state: "persisted" }, value: s.persisted },
          { labels: { state: "dropped" }, value: s.dropped },
        ];
      },
    });
    registerCollectedMetric(registry, {
      name: "apikeys_audit_buffer_events",
      help: "Audit events buffered in memory, waiting to be persisted (the buffer depth).",
      type: "gauge",
      collect: async () => [{ value: (await audit()).buffered }],
    });
  }
  const dbCommands = stats.dbCommands;
  if (dbCommands !== undefined) {
    registerCollectedMetric(registry, {
      name: "apikeys_db_commands_total",
      help: "Database commands started by this process (driver command monitoring).",
      type: "counter",
      collect: () => [{ value: dbCommands() }],
    });
  }
}
