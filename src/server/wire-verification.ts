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
import type { VerdictCounter } from "../domain/usage-stats.js";
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
import type { CloseHook } from "../transport/start-server.js";
import { createVerificationRuntime, type VerificationRuntime } from "../verify/verification-runtime.js";
import type { Config } from "./config.js";
import { verificationSettingsOf } from "./verification-config.js";
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
  /** statistics counts every verdict of an identified key (the usage statistics); its owner flushes it. */
  readonly statistics?: VerdictCounter;
}

/** WiredVerification is the verification side as the composition root needs it. */
export interface WiredVerification {
  readonly service: ServiceImpl<typeof KeyVerifyService>;
  /** runtime holds the shared notifier and authenticator for the other services. */
  readonly runtime: VerificationRuntime;
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
  const verifyMetrics = createVerifyMetrics(deps.metrics);
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
    settings: verificationSettingsOf(config),
    ...(deps.statistics === undefined ? {} : { statistics: deps.statistics }),
    observer: verifyMetrics,
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
  const auditCounters = deps.auditCounters;
  registerVerificationRuntimeMetrics(deps.metrics, {
    cache: runtime.cache.stats,
    follower: runtime.follower.stats,
    notifier: runtime.notifier.stats,
    usage: runtime.usage.stats,
    dbCommands: dbCommands.total,
    ...(auditCounters === undefined ? {} : { audit: auditCounters }),
  });
  return {
    service: createKeyVerifyHandler(runtime.verifier),
    runtime,
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
