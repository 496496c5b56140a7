/**
 * bootServer: the start sequence shared by main and the test server helper, so tests run exactly the
 * wiring production runs: wire services → create their indexes (fatal on failure) → start background
 * tasks → open both ports.
 */
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ensureIndexes } from "../storage/indexes.js";
import type { CallObserver } from "../transport/interceptors/request-log.js";
import {
  type CloseHook,
  type RunningServer,
  type ServiceImpls,
  startServer,
} from "../transport/start-server.js";
import type { Config } from "./config.js";
import { createOtlpTracing, type ServiceTracing } from "./tracing.js";
import { wireServices } from "./wire-services.js";

/** BootDeps are the process resources bootServer starts from. */
export interface BootDeps {
  readonly logger: Logger;
  readonly mongoClient: MongoClient;
  readonly db: Db;
  readonly metrics: Registry;
  /** readiness answers /readyz. */
  readonly readiness: () => Promise<boolean>;
  /** closeHooks run after the wired services' own hooks (main closes MongoDB here). */
  readonly closeHooks?: readonly CloseHook[];
  /** overrides replace wired service implementations (tests inject slow or throwing handlers). */
  readonly overrides?: ServiceImpls;
  readonly observers?: readonly CallObserver[];
  /** tracing replaces the tracing the configuration asks for (tests export spans in memory). */
  readonly tracing?: ServiceTracing;
  /** devUsageRetention keeps the provisioned local stand-in small (see AuditPipelineDeps); main sets it. */
  readonly devUsageRetention?: number | null;
}

/** bootServer wires the services and starts the server; it resolves once both ports listen. */
export async function bootServer(config: Config, deps: BootDeps): Promise<RunningServer> {
  const wired = await wireServices({
    config,
    logger: deps.logger,
    mongoClient: deps.mongoClient,
    db: deps.db,
    metrics: deps.metrics,
    devUsageRetention: deps.devUsageRetention ?? null,
  });
  await ensureIndexes(deps.db, wired.indexes);
  for (const hook of wired.startHooks) {
    await hook.start();
  }
  const services: ServiceImpls = { ...pickServices(wired), ...deps.overrides };
  const tracing = deps.tracing ?? (config.tracing === null ? null : createOtlpTracing(config.tracing));
  return startServer(config, {
    logger: deps.logger,
    services,
    readiness: deps.readiness,
    metrics: deps.metrics,
    tracing: tracing?.tracing ?? null,
    // The last spans are sent after the transports stopped, before MongoDB closes.
    closeHooks: [
      ...wired.closeHooks,
      ...(tracing === null ? [] : [tracing.closeHook]),
      ...(deps.closeHooks ?? []),
    ],
    observers: deps.observers ?? [],
  });
}

function pickServices(wired: ServiceImpls): ServiceImpls {
  const services: { -readonly [K in keyof ServiceImpls]: ServiceImpls[K] } = {};
  if (wired.verify !== undefined) {
    services.verify = wired.verify;
  }
  if (wired.admin !== undefined) {
    services.admin = wired.admin;
  }
  if (wired.audit !== undefined) {
    services.audit = wired.audit;
  }
  return services;
}
