/**
 * The verification part of the wiring: the VerificationRuntime, KeyVerifyService on it, and its metrics. The
 * runtime's `notifier` and `authenticator` go to the admin and audit services, so all share one cache.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { BufferedAuditSink } from "../audit/buffered-audit-sink.js";
import type { KeyFormat } from "../domain/key-format.js";
import type { KeyHasher } from "../domain/key-hash.js";
import type { Clock } from "../domain/ports.js";
import type { VerdictCounter } from "../domain/usage-stats.js";
import type { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { countDbCommands } from "../metrics/db-command-counter.js";
import { createVerifyMetrics, registerVerificationRuntimeMetrics } from "../metrics/verify-metrics.js";
import { createKeyVerifyHandler } from "../rpc/key-verify-handler.js";
import { changeFeedIndexes, createMongoChangeFeed } from "../storage/change-feed.js";
import { createMongoGroupRepository, groupIndexes } from "../storage/group-repository.js";
import { createMongoKeyRepository, keyIndexes } from "../storage/key-repository.js";
import { createVerificationRuntime, type VerificationRuntime } from "../verify/verification-runtime.js";
import { verificationSettingsOf } from "./verification-config.js";
import type { WireDeps, Wired } from "./wire-services.js";

/** VerificationWiringDeps: the mongoClient must have been created with monitorCommands (db command metrics). */
export interface VerificationWiringDeps extends WireDeps {
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  /** sink receives one usage event per VerifyKey call; its counters are exposed as metrics. */
  readonly sink: BufferedAuditSink;
  /** statistics counts every verdict of an identified key (the usage statistics); its owner flushes it. */
  readonly statistics: VerdictCounter;
}

export interface WiredVerification extends Wired {
  readonly service: ServiceImpl<typeof KeyVerifyService>;
  readonly runtime: VerificationRuntime;
}

// Feed polls fail every poll interval while the database is down: log the first and then every 50th.
const POLL_FAILURE_LOG_EVERY = 50;

export function wireVerification(deps: VerificationWiringDeps): WiredVerification {
  const { config, db } = deps;
  const log = deps.logger.child({ component: "verify" });
  const clock: Clock = { now: () => new Date() };
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
    statistics: deps.statistics,
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
  registerVerificationRuntimeMetrics(deps.metrics, {
    cache: runtime.cache.stats,
    follower: runtime.follower.stats,
    notifier: runtime.notifier.stats,
    usage: runtime.usage.stats,
    dbCommands: dbCommands.total,
    audit: deps.sink.counters,
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
