/**
 * bootServer: the start sequence main and the test server helper share, so tests run exactly the wiring
 * production runs: wire services → create their indexes (fatal on failure) → start background tasks → ports.
 */
import { ensureIndexes } from "../storage/indexes.js";
import type { CallObserver } from "../transport/interceptors/request-log.js";
import {
  type CloseHook,
  type RunningServer,
  type ServiceImpls,
  startServer,
} from "../transport/start-server.js";
import type { Config } from "./config.js";
import type { ServiceTracing } from "./tracing.js";
import { type WireDeps, wireServices } from "./wire-services.js";

export interface BootDeps extends WireDeps {
  /** readiness answers /readyz. */
  readonly readiness: () => Promise<boolean>;
  /** closeHooks run after the wired services' own hooks (main closes MongoDB here). */
  readonly closeHooks?: readonly CloseHook[];
  /** overrides replace wired service implementations (tests inject slow or throwing handlers). */
  readonly overrides?: ServiceImpls;
  readonly observers?: readonly CallObserver[];
  /** tracing replaces the tracing the configuration asks for (tests export spans in memory). */
  readonly tracing?: ServiceTracing;
}

/** bootServer wires the services and starts the server; it resolves once both ports listen. */
export async function bootServer(config: Config, deps: Omit<BootDeps, "config">): Promise<RunningServer> {
  const wired = await wireServices({ ...deps, config });
  await ensureIndexes(deps.db, wired.indexes);
  for (const hook of wired.startHooks) {
    await hook.start();
  }
  const { verify, admin, audit } = wired;
  const services: ServiceImpls = { verify, admin, audit, ...deps.overrides };
  // The OpenTelemetry SDK and exporter (about 4 MB of heap) are loaded only when tracing is configured.
  const tracing =
    deps.tracing ??
    (config.tracing === null ? null : (await import("./tracing.js")).createOtlpTracing(config.tracing));
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
