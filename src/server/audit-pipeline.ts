/**
 * The audit pipeline of one process: the MongoDB audit store, ONE buffered sink that VerifyKey and the admin
 * use cases emit into, and ONE stream hub that every StreamAuditEvents call follows; its close hook flushes
 * the sink within SHUTDOWN_DRAIN_MS, then closes the store and the hub (docs/audit.md).
 */
import type { Logger } from "pino";
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
import type { WireDeps } from "./wire-services.js";

/** Bounds one tail poll or catch-up read of the stream hub. */
const AUDIT_STREAM_BATCH_EVENTS = 1_000;

/** Bounds the reads all streams' starts and catch-ups make at once, so they never exhaust the pool. */
const AUDIT_STREAM_CONCURRENT_READS = 4;

/**
 * devUsageRetention, when set, keeps only the newest this many usage events, pruned every
 * DEV_PRUNE_INTERVAL_MS: only for the provisioned local stand-in database (docs/audit.md), never on MongoDB.
 */
type AuditPipelineDeps = Pick<WireDeps, "config" | "logger" | "db" | "metrics" | "devUsageRetention">;

/** DEV_PRUNE_INTERVAL_MS is the pause between two prunes of the development retention. */
export const DEV_PRUNE_INTERVAL_MS = 1_000;

export interface AuditPipeline {
  readonly sink: BufferedAuditSink;
  readonly store: MongoAuditEventStore;
  readonly hub: AuditStreamHub;
  /** indexes of audit_events, with the TTL of AUDIT_RETENTION_DAYS. */
  readonly indexes: readonly IndexDeclaration[];
  readonly closeHooks: readonly CloseHook[];
}

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

/** startDevRetention prunes usage events beyond `keep` now and then one prune at a time; returns its stop. */
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
