/**
 * The VerifyKey metrics: verdicts by code, RPC errors by kind, latency, cache, invalidation feed, usage
 * recording, audit buffer accounting and database commands. Everything on the hot path is a plain number
 * bumped in place (see collected-metric.ts); the Registry reads the numbers and the components' stats()
 * only when /metrics is scraped.
 */

import type { Registry } from "prom-client";
import { VERIFICATION_CODES, type VerificationCode } from "../domain/audit-event.js";
import type { KeyVerification, VerifyFailureKind, VerifyObserver } from "../domain/key-verifier.js";
import type { KeyCacheStats } from "../verify/key-cache.js";
import { createFastHistogram, type FastHistogram, registerCollectedMetric } from "./collected-metric.js";

const FAILURE_KINDS: readonly VerifyFailureKind[] = ["invalid_argument", "unavailable", "internal"];

/** LATENCY_BOUNDS_SECONDS are the latency histogram's buckets: 50 µs to 1 s. */
export const LATENCY_BOUNDS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** LAG_BOUNDS_SECONDS are the invalidation-lag histogram's buckets: 10 ms to 30 s. */
export const LAG_BOUNDS_SECONDS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** VerifyMetrics is the observer the verifier reports to, and the lag sink the follower reports to. */
export interface VerifyMetrics extends VerifyObserver {
  /** invalidationLag records one applied notice's lag in milliseconds. */
  invalidationLag(lagMs: number): void;
  /** verdictCounts returns the verdict counters by code (tests and the benchmark read them). */
  verdictCounts(): Readonly<Record<VerificationCode, number>>;
}

/** createVerifyMetrics registers the verdict, error, latency and lag metrics on `registry`. */
export function createVerifyMetrics(registry: Registry): VerifyMetrics {
  const verdicts = new Float64Array(VERIFICATION_CODES.length);
  const failures = new Float64Array(FAILURE_KINDS.length);
  const latency: FastHistogram = createFastHistogram(LATENCY_BOUNDS_SECONDS);
  const lag: FastHistogram = createFastHistogram(LAG_BOUNDS_SECONDS);

  registerCollectedMetric(registry, {
    name: "apikeys_verify_verdicts_total",
    help: "VerifyKey verdicts by code (valid, not_found, expired, revoked, ip_not_allowed, insufficient_permissions).",
    type: "counter",
    collect: () => VERIFICATION_CODES.map((code, i) => ({ labels: { code }, value: verdicts[i] as number })),
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_errors_total",
    help: "VerifyKey calls that ended in an RPC error, by kind (invalid_argument, unavailable, internal).",
    type: "counter",
    collect: () => FAILURE_KINDS.map((kind, i) => ({ labels: { kind }, value: failures[i] as number })),
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_duration_seconds",
    help: "VerifyKey latency inside the service (validation to verdict), verdicts and errors alike.",
    type: "histogram",
    collect: () => latency.samples("apikeys_verify_duration_seconds"),
  });
  registerCollectedMetric(registry, {
    name: "apikeys_invalidation_lag_seconds",
    help: "Time from a change notice's publication to this replica dropping the cached entry.",
    type: "histogram",
    collect: () => lag.samples("apikeys_invalidation_lag_seconds"),
  });

  return {
    verdict(result: KeyVerification, elapsedMs: number) {
      const index = VERIFICATION_CODES.indexOf(result.code);
      verdicts[index] = (verdicts[index] as number) + 1;
      latency.observe(elapsedMs / 1000);
    },
    failure(kind: VerifyFailureKind, elapsedMs: number) {
      const index = FAILURE_KINDS.indexOf(kind);
      failures[index] = (failures[index] as number) + 1;
      latency.observe(elapsedMs / 1000);
    },
    invalidationLag(lagMs: number) {
      lag.observe(lagMs / 1000);
    },
    verdictCounts() {
      const counts = {} as Record<VerificationCode, number>;
      VERIFICATION_CODES.forEach((code, i) => {
        counts[code] = verdicts[i] as number;
      });
      return counts;
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

/** VerificationRuntimeStats are the stats() readers of the verification components. */
export interface VerificationRuntimeStats {
  readonly cache: () => KeyCacheStats;
  readonly follower: () => {
    readonly lastSuccessAgeMs: number | null;
    readonly pollFailures: number;
    readonly noticesApplied: number;
    readonly gapFlushes: number;
  };
  readonly notifier: () => {
    readonly published: number;
    readonly publishFailures: number;
    readonly pending: number;
  };
  readonly usage: () => {
    readonly lastUsedPending: number;
    readonly lastUsedWrites: number;
    readonly lastUsedFailures: number;
    readonly lastUsedDropped: number;
    readonly refusedSampledOut: number;
  };
  /** audit reads the audit sink's counters; absent when usage events are not recorded. */
  readonly audit?: () => AuditBufferCounters;
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
    collect: () => {
      const s = cache();
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
    collect: () => {
      const s = cache();
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
    collect: () => [{ value: cache().untrustedHits }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_cache_entries",
    help: "Entries in the verification caches: positive (keys), negative (unknown ids), group.",
    type: "gauge",
    collect: () => {
      const s = cache();
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
    collect: () => [{ value: cache().positiveBytes }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_lookups_total",
    help: "Database lookups started by the verification cache (concurrent misses for one id share one).",
    type: "counter",
    collect: () => [{ value: cache().lookups }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_verify_lookup_failures_total",
    help: "Verification lookups that failed: error (database error), timeout (budget ran out), fast_fail (refused while the database was known down or too busy).",
    type: "counter",
    collect: () => {
      const s = cache();
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
    collect: () => {
      const s = cache();
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
    collect: () => {
      const s = stats.usage();
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
    collect: () => [{ value: stats.usage().lastUsedPending }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_last_used_dropped_total",
    help: "Key uses not queued for a last-used write because the tracking maps were full.",
    type: "counter",
    collect: () => [{ value: stats.usage().lastUsedDropped }],
  });
  registerCollectedMetric(registry, {
    name: "apikeys_audit_usage_sampled_out_total",
    help: "Usage events of refused or unknown keys not recorded because AUDIT_REFUSED_USAGE_PER_SECOND was reached.",
    type: "counter",
    collect: () => [{ value: stats.usage().refusedSampledOut }],
  });
  const audit = stats.audit;
  if (audit !== undefined) {
    // One counter per fate, not one metric with a total among its parts: each sums across replicas, and
    // emitted = persisted + dropped + apikeys_audit_buffer_events holds for the sums too.
    registerCollectedMetric(registry, {
      name: "apikeys_audit_events_emitted_total",
      help: "Audit events handed to the audit sink (usage and admin): persisted + dropped + buffered.",
      type: "counter",
      collect: () => [{ value: audit().emitted }],
    });
    registerCollectedMetric(registry, {
      name: "apikeys_audit_events_persisted_total",
      help: "Audit events written to the database.",
      type: "counter",
      collect: () => [{ value: audit().persisted }],
    });
    registerCollectedMetric(registry, {
      name: "apikeys_audit_events_dropped_total",
      help: "Usage events dropped: the buffer was full, the sink was closed, or writing one failed too often.",
      type: "counter",
      collect: () => [{ value: audit().dropped }],
    });
    registerCollectedMetric(registry, {
      name: "apikeys_audit_buffer_events",
      help: "Audit events buffered in memory, waiting to be persisted (the buffer depth).",
      type: "gauge",
      collect: () => [{ value: audit().buffered }],
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
