/**
 * The audit pipeline of one process: the MongoDB audit store, ONE buffered sink that VerifyKey and the admin
 * use cases emit into, and ONE stream hub that every StreamAuditEvents call follows (one tail poll per
 * interval however many streams are open). wire-services.ts builds it before the services that emit into it.
 *
 * Shutdown (one close hook, after the transports stopped and before MongoDB closes): flush the sink within
 * SHUTDOWN_DRAIN_MS and log exactly how many events it could not write (also apikeys_audit_unwritten_events),
 * record the store's high-water mark, then close the hub (any stream still open ends with UNAVAILABLE).
 */
import type { Db } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type AuditStreamHub, createAuditStreamHub } from "../audit/audit-stream-hub.js";
import { type BufferedAuditSink, createBufferedAuditSink } from "../audit/buffered-audit-sink.js";
import { registerCollectedMetric } from "../metrics/collected-metric.js";
import {
  auditEventIndexes,
  createMongoAuditEventStore,
  type MongoAuditEventStore,
} from "../storage/audit-event-store.js";
import type { IndexDeclaration } from "../storage/indexes.js";
import type { CloseHook } from "../transport/start-server.js";
import type { Config } from "./config.js";

/** AUDIT_STREAM_BATCH_EVENTS bounds one tail poll or catch-up read of the stream hub. */
const AUDIT_STREAM_BATCH_EVENTS = 1_000;

/**
 * AUDIT_STREAM_CONCURRENT_READS bounds the database reads all streams' starts and catch-ups make at once
 * (each takes one or two of the pool's connections), so opening streams never exhausts the pool.
 */
const AUDIT_STREAM_CONCURRENT_READS = 4;

/** AuditPipelineDeps are the process resources the pipeline is built from. */
export interface AuditPipelineDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  /** metrics receives the stream metrics (the sink's counters are registered with the verify metrics). */
  readonly metrics: Registry;
  /**
   * devUsageRetention, when set, keeps only the newest this many usage events (admin events are never
   * deleted), pruned every DEV_PRUNE_INTERVAL_MS. Only the composition root sets it, and only for the
   * provisioned local stand-in database, which has no TTL expiry and scans linearly; never on MongoDB.
   */
  readonly devUsageRetention?: number | null;
}

/** DEV_PRUNE_INTERVAL_MS is the pause between two prunes of the development retention. */
const DEV_PRUNE_INTERVAL_MS = 1_000;

/** AuditPipeline is the process-wide audit machinery. */
export interface AuditPipeline {
  /** sink is THE audit sink of the process: VerifyKey and the admin use cases emit into it. */
  readonly sink: BufferedAuditSink;
  readonly store: MongoAuditEventStore;
  readonly hub: AuditStreamHub;
  /** indexes of audit_events, with the TTL of AUDIT_RETENTION_DAYS. */
  readonly indexes: readonly IndexDeclaration[];
  /** closeHooks flush and close the pipeline; run them after the transports stopped, before MongoDB closes. */
  readonly closeHooks: readonly CloseHook[];
}

/** createAuditPipeline builds the store, the sink and the hub from the configuration. */
export function createAuditPipeline(deps: AuditPipelineDeps): AuditPipeline {
  const { config } = deps;
  const log = deps.logger.child({ component: "audit" });
  const store = createMongoAuditEventStore(deps.db);
  const sink = createBufferedAuditSink({
    store,
    maxBuffered: config.audit.bufferMaxEvents,
    maxBatch: config.audit.batchMaxEvents,
    flushIntervalMs: config.usage.flushIntervalMs,
    maxAdminPending: config.audit.adminPendingMax,
    onError: (error, context) => log.warn({ err: error, ...context }, "audit append failed; retrying"),
  });
  const hub = createAuditStreamHub({
    log: store,
    heartbeatMs: config.audit.heartbeatMs,
    maxBufferedEvents: config.audit.streamBufferEvents,
    batchSize: Math.min(AUDIT_STREAM_BATCH_EVENTS, config.audit.streamBufferEvents),
    maxStreams: config.audit.streamsMax,
    maxStreamsPerCaller: config.audit.streamsPerCallerMax,
    maxConcurrentReads: AUDIT_STREAM_CONCURRENT_READS,
    onPollError: (error) => log.warn({ err: error }, "audit stream poll failed; retrying"),
  });
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_streams_open",
    help: "Audit streams (StreamAuditEvents) open on this replica, catching up or live.",
    type: "gauge",
    collect: () => [{ value: hub.activeFollowers() }],
  });
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_append_failures_total",
    help: "Failed audit batch writes (each batch is kept and retried; not a count of events).",
    type: "counter",
    collect: () => [{ value: sink.counters().appendFailures }],
  });
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_admin_pending_events",
    help: "Admin events waiting to be stored (their mutations answer once they are).",
    type: "gauge",
    collect: () => [{ value: sink.counters().adminPending }],
  });
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_batch_limit_events",
    help: "Current audit batch size: halved after a failed write, doubled back after a run of successes.",
    type: "gauge",
    collect: () => [{ value: sink.counters().batchLimit }],
  });
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_given_up_events_total",
    help: "Usage events given up after failing to be written on their own repeatedly (counted as dropped too).",
    type: "counter",
    collect: () => [{ value: sink.counters().givenUp }],
  });
  const stopPruning = startDevRetention(store, deps.devUsageRetention ?? null, log);
  let unwrittenAtShutdown = 0;
  registerCollectedMetric(deps.metrics, {
    name: "apikeys_audit_unwritten_events",
    help: "Audit events still unwritten when shutdown's SHUTDOWN_DRAIN_MS ran out (0 until shutdown).",
    type: "gauge",
    collect: () => [{ value: unwrittenAtShutdown }],
  });
  return {
    sink,
    store,
    hub,
    indexes: auditEventIndexes(config.audit.retentionDays),
    closeHooks: [
      {
        name: "audit",
        async close() {
          stopPruning();
          try {
            const counters = await sink.close({ timeoutMs: config.shutdownDrainMs });
            unwrittenAtShutdown = counters.buffered;
            if (counters.buffered > 0) {
              log.error(
                { ...counters, unwritten: counters.buffered, unwrittenAdmin: counters.adminPending },
                `audit: ${counters.buffered} events could not be written within SHUTDOWN_DRAIN_MS and are lost`,
              );
            } else {
              log.info(counters, "audit buffer flushed");
            }
            await store.close();
          } finally {
            hub.close();
          }
        },
      },
    ],
  };
}

/**
 * startDevRetention prunes usage events beyond `keep` now and every DEV_PRUNE_INTERVAL_MS (one prune at a
 * time, unref'd) and says so once; it returns the function that stops it. `keep` null: nothing happens.
 */
function startDevRetention(store: MongoAuditEventStore, keep: number | null, log: Logger): () => void {
  if (keep === null) {
    return () => undefined;
  }
  log.info(
    { keepUsageEvents: keep, everyMs: DEV_PRUNE_INTERVAL_MS },
    `development retention: the provisioned local database keeps only the newest ${keep} usage events (admin events are kept); a MongoDB server given by MONGODB_URI is never pruned`,
  );
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const prune = () => {
    store
      .pruneUsageEvents(keep)
      .then(
        (deleted) => {
          if (deleted > 0) {
            log.debug({ deleted, keepUsageEvents: keep }, "development retention pruned usage events");
          }
        },
        (error: unknown) => log.warn({ err: error }, "development retention could not prune; retrying"),
      )
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(prune, DEV_PRUNE_INTERVAL_MS).unref();
        }
      });
  };
  prune();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
