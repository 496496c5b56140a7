/**
 * The composition root, and the only module with side effects at import: configuration → logger →
 * MongoDB (given or provisioned) → services → both ports; SIGTERM / SIGINT run the graceful shutdown.
 */
import { Registry } from "prom-client";
import { registerProcessMetrics } from "../metrics/process-metrics.js";
import { checkPepperFingerprint } from "../storage/pepper-fingerprint-store.js";
import type { RunningServer } from "../transport/start-server.js";
import { bootServer } from "./boot.js";
import { type Config, loadConfig } from "./config.js";
import { connectDatabase, type Database, devUsageRetentionOf } from "./database.js";
import { createLogger } from "./logger.js";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // No logger yet (its level is configuration too): one plain line on stderr.
    process.stderr.write(`apikeys: ${messageOf(error)}\n`);
    process.exit(2);
  }
  const logger = createLogger(config);
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    logger.fatal({ err: error }, "unhandled rejection");
    process.exit(1);
  });
  // A signal during startup (a local database may be starting) is honoured once startup settles, so the
  // provisioned server is stopped instead of being orphaned.
  let server: RunningServer | undefined;
  let startupSignal: NodeJS.Signals | undefined;
  let signals = 0;
  const shutDown = (running: RunningServer, signal: NodeJS.Signals) => {
    running.shutdown(`received ${signal}`).then(
      (result) => process.exit(result.forced || result.hookFailures > 0 ? 1 : 0),
      (error: unknown) => {
        logger.fatal({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal during shutdown: exiting now");
      process.exit(1);
    }
    if (server === undefined) {
      logger.info({ signal }, "signal during startup: stopping once startup settles");
      startupSignal = signal;
    } else {
      shutDown(server, signal);
    }
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // Logged only now: a supervisor that saw a line may rely on the signal handlers being in place.
  if (config.keys.usingDevPepper) {
    logger.warn("KEY_HASH_PEPPER is not set: using the built-in development pepper (not for production)");
  }
  // VerifyKey answers anyone who can reach the port unless a caller credential is required (docs/audit.md).
  if (
    config.nodeEnv === "production" &&
    config.verifyCallerToken === null &&
    (config.grpc.tls === null || config.grpc.tls.clientCaFile === null)
  ) {
    logger.warn(
      "VerifyKey needs no caller credential: set VERIFY_CALLER_TOKEN or GRPC_TLS_CLIENT_CA_FILE (mutual TLS) so only your services can call it; refused-key usage is recorded at most AUDIT_REFUSED_USAGE_PER_SECOND per second",
    );
  }

  let database: Database | undefined;
  try {
    database = await connectDatabase(config, logger);
    // Before anything serves: a changed pepper would fail every key as NOT_FOUND, so it stops the start.
    const pepper = await checkPepperFingerprint(database.db, config.keys.pepper, config.keys.previousPeppers);
    logger.info(
      { pepperVersion: config.keys.pepper.version, check: pepper },
      "key hash pepper checked against the database",
    );
    const connected = database;
    const metrics = new Registry();
    // Not prom-client's collectDefaultMetrics: its per-GC observer cost VerifyKey ~15% throughput (docs/bench.md).
    registerProcessMetrics(metrics);
    server = await bootServer(config, {
      logger,
      mongoClient: connected.client,
      db: connected.db,
      metrics,
      readiness: () => connected.ping(),
      devUsageRetention: devUsageRetentionOf(connected),
      closeHooks: [{ name: "mongodb", close: () => connected.close() }],
    });
  } catch (error) {
    logger.fatal({ err: error }, `startup failed: ${messageOf(error)}`);
    await database?.close().catch(() => undefined);
    process.exit(1);
  }
  if (startupSignal !== undefined) {
    shutDown(server, startupSignal);
  }
}

void main();
