/**
 * The verification part of the wiring: the VerificationRuntime (shared cache, invalidation follower, change
 * notifier, usage recorder, verifier, caller authenticator), KeyVerifyService on it, and the verification
 * metrics on the /metrics registry. wire-services.ts calls it and hands the runtime's `notifier` and
 * `authenticator` to the admin and audit services, so every service shares one cache.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { KeyFormat } from "../domain/key-format.js";
import type { KeyHasher } from "../domain/key-hash.js";
import type { AuditSink, Clock } from "../domain/ports.js";
import type { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { countDbCommands } from "../metrics/db-command-counter.js";
import {
  type AuditBufferCounters,
  createVerifyMetrics,
  registerVerificationRuntimeMetrics,
} from "../metrics/verify-metrics.js";
import { createKeyVerifyHandler } from "../rpc/key-verify-handler.js";
import { changeFeedIndexes, createMongoChangeFeed } from "../storage/change-feed.js";
import { createMongoGroupRepository, groupIndexes } from "../storage/group-repository.js";
import type { IndexDeclaration } from "../storage/indexes.js";
import { createMongoKeyRepository, keyIndexes } from "../storage/key-repository.js";
import { createVerificationRuntime, type VerificationRuntime } from "../verify/verification-runtime.js";
import { createVerifyWorkerHost, type VerifyWorkerHost } from "../verify-worker/verify-worker-host.js";
import { addCounts, processAuditCounters } from "../verify-worker/worker-metrics.js";
import type { Config } from "./config.js";
import type { CloseHook } from "./start-server.js";
import { keyCacheSettingsOf, keyDigestMatcherOf } from "./verification-config.js";
import type { StartHook } from "./wire-services.js";

/** VerificationWiringDeps are what the verification side is built from. */
export interface VerificationWiringDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  /** mongoClient must have been created with monitorCommands (for apikeys_db_commands_total). */
  readonly mongoClient: MongoClient;
  readonly metrics: Registry;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  /** sink receives one usage event per VerifyKey call. */
  readonly sink: AuditSink;
  /** auditCounters exposes the sink's accounting as metrics, when the sink has counters. */
  readonly auditCounters?: () => AuditBufferCounters;
  readonly clock?: Clock;
  /** onVerifyWorkerFailure hears about a verify worker that stopped while serving (main exits). */
  readonly onVerifyWorkerFailure?: (error: Error) => void;
}

/** WiredVerification is the verification side as the composition root needs it. */
export interface WiredVerification {
  readonly service: ServiceImpl<typeof KeyVerifyService>;
  /** runtime holds the shared notifier and authenticator for the other services. */
  readonly runtime: VerificationRuntime;
  /** verifyWorker serves the gRPC port from its own thread (VERIFY_WORKER=on); undefined when off. */
  readonly verifyWorker?: VerifyWorkerHost;
  readonly indexes: readonly IndexDeclaration[];
  readonly startHooks: readonly StartHook[];
  readonly closeHooks: readonly CloseHook[];
}

// Feed polls fail every poll interval while the database is down: log the first and then every 50th.
const POLL_FAILURE_LOG_EVERY = 50;

/** wireVerification builds the verification side on `deps`. */
export function wireVerification(deps: VerificationWiringDeps): WiredVerification {
  const { config, db } = deps;
  const log = deps.logger.child({ component: "verify" });
  const clock: Clock = deps.clock ?? { now: () => new Date() };
  const keys = createMongoKeyRepository(db);
  const groups = createMongoGroupRepository(db);
  // The worker is built once the runtime exists; the metrics read it at scrape time only.
  let verifyWorker: VerifyWorkerHost | undefined;
  const workerSnapshot = () => verifyWorker?.snapshot() ?? Promise.resolve(null);
  const verifyMetrics = createVerifyMetrics(deps.metrics, {
    more: async () => (await workerSnapshot())?.worker.verify ?? null,
  });
  const dbCommands = countDbCommands(deps.mongoClient);
  const runtime = createVerificationRuntime({
    format: deps.keyFormat,
    hasher: deps.hasher,
    clock,
    keys,
    groups,
    feed: createMongoChangeFeed(db),
    sink: deps.sink,
    replica: config.replicaId,
    settings: {
      ...keyCacheSettingsOf(config),
      invalidationPollMs: config.cache.invalidationPollMs,
      lastUsedWriteIntervalMs: config.usage.lastUsedWriteIntervalMs,
    },
    observer: verifyMetrics,
    // The same peppers the hasher holds, as precomputed HMAC state for the hot path.
    matcher: keyDigestMatcherOf(config),
    onInvalidationLag: verifyMetrics.invalidationLag,
    log: {
      lookupFailed: (error, what) => log.warn({ err: error, what }, "verification lookup failed"),
      pollFailed: (error, consecutiveFailures) => {
        if (consecutiveFailures === 1 || consecutiveFailures % POLL_FAILURE_LOG_EVERY === 0) {
          log.warn({ err: error, consecutiveFailures }, "invalidation feed poll failed");
        }
      },
      publishFailed: (error, notice) =>
        log.warn({ err: error, kind: notice.kind, id: notice.id }, "change notice publish failed; retrying"),
      lastUsedWriteFailed: (error, keys) =>
        log.warn({ err: error, keys }, "last-used write failed; retrying"),
    },
  });
  if (config.verifyWorker) {
    verifyWorker = createVerifyWorkerHost({
      config,
      logger: deps.logger,
      keys,
      groups,
      sink: deps.sink,
      ...(deps.auditCounters === undefined ? {} : { sinkCounters: deps.auditCounters }),
      replica: config.replicaId,
      runtime,
      ...(deps.onVerifyWorkerFailure === undefined ? {} : { onFailure: deps.onVerifyWorkerFailure }),
    });
  }
  const auditCounters = deps.auditCounters;
  registerVerificationRuntimeMetrics(deps.metrics, {
    cache: async () => addCounts(runtime.cache.stats(), (await workerSnapshot())?.worker.cache),
    follower: runtime.follower.stats,
    notifier: runtime.notifier.stats,
    usage: async () => addCounts(runtime.usage.stats(), (await workerSnapshot())?.worker.lastUsed),
    dbCommands: dbCommands.total,
    ...(auditCounters === undefined
      ? {}
      : { audit: async () => processAuditCounters(auditCounters(), await workerSnapshot()) }),
  });
  return {
    service: createKeyVerifyHandler(runtime.verifier),
    runtime,
    ...(verifyWorker === undefined ? {} : { verifyWorker }),
    indexes: [...keyIndexes, ...groupIndexes, ...changeFeedIndexes],
    startHooks: [{ name: "verification", start: () => runtime.start() }],
    closeHooks: [
      {
        name: "verification",
        close: async () => {
          await runtime.stop();
          dbCommands.detach();
        },
      },
    ],
  };
}
