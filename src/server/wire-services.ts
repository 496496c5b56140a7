/**
 * The one place service implementations are put together (a new service is added here): their indexes,
 * background tasks and shutdown steps. main and the test server helper both run it (through bootServer).
 */
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createAdminAuthenticator } from "../domain/admin-access.js";
import { createAuditReader } from "../domain/audit-reader.js";
import { createAuditHandler } from "../rpc/audit-handler.js";
import type { IndexDeclaration } from "../storage/indexes.js";
import { createMongoKeyRepository } from "../storage/key-repository.js";
import type { CloseHook, ServiceImpls } from "../transport/start-server.js";
import { createAuditPipeline } from "./audit-pipeline.js";
import type { Config } from "./config.js";
import { keyFormatOf, keyHasherOf } from "./verification-config.js";
import { wireKeyAdmin } from "./wire-key-admin.js";
import { wireKeyCountRepair } from "./wire-key-count-repair.js";
import { wireUsageStats } from "./wire-usage-stats.js";
import { wireVerification } from "./wire-verification.js";

/** WireDeps are the process-wide resources service implementations are built from. */
export interface WireDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly mongoClient: MongoClient;
  readonly db: Db;
  /** metrics is the registry /metrics serves. */
  readonly metrics: Registry;
  /** devUsageRetention: see AuditPipelineDeps (set by the composition root for the local stand-in only). */
  readonly devUsageRetention?: number | null;
}

/** Wired is one part of the wiring: the indexes its storage needs, its background tasks, its shutdown steps. */
export interface Wired {
  /** indexes are created (awaited, fatal on failure) before anything starts. */
  readonly indexes: readonly IndexDeclaration[];
  readonly startHooks: readonly StartHook[];
  /** closeHooks run at shutdown after the transports stopped, before MongoDB closes. */
  readonly closeHooks: readonly CloseHook[];
}

/** StartHook starts a background task once indexes exist and before the ports open. */
export interface StartHook {
  readonly name: string;
  start(): Promise<void> | void;
}

/** wireServices builds every service implementation, all sharing one audit sink and one key cache. */
export async function wireServices(deps: WireDeps): Promise<Required<ServiceImpls> & Wired> {
  const keyFormat = keyFormatOf(deps.config);
  const hasher = keyHasherOf(deps.config);
  const audit = createAuditPipeline(deps);
  const usageStats = wireUsageStats(deps);
  const verification = wireVerification({
    ...deps,
    keyFormat,
    hasher,
    sink: audit.sink,
    statistics: usageStats.counter,
  });
  const { authenticator, notifier } = verification.runtime;
  const admin = wireKeyAdmin({
    ...deps,
    keyFormat,
    hasher,
    callers: authenticator,
    notifier,
    audit: audit.sink,
    usageStats: usageStats.reader,
  });
  const keyCountRepair = wireKeyCountRepair({ ...deps, audit: audit.sink });

  return {
    verify: verification.service,
    // Audit callers are authenticated exactly like admin callers (same metadata, roles and cache).
    audit: createAuditHandler({
      access: createAdminAuthenticator(authenticator),
      reader: createAuditReader({
        log: audit.store,
        hub: audit.hub,
        keys: createMongoKeyRepository(deps.db),
      }),
      usageStats: usageStats.reader,
    }),
    admin: admin.service,
    indexes: [
      ...verification.indexes,
      ...audit.indexes,
      ...admin.indexes,
      ...keyCountRepair.indexes,
      ...usageStats.indexes,
    ],
    // Existing tenants are registered first, so no call can meet a tenant that holds keys but does not exist.
    startHooks: [
      ...admin.startHooks,
      ...verification.startHooks,
      ...keyCountRepair.startHooks,
      ...usageStats.startHooks,
    ],
    // The repair's run first (it may emit events), verification (its last-used flush), the usage
    // statistics (counted until verification stopped), then the audit buffer, then MongoDB (main's hook).
    closeHooks: [
      ...keyCountRepair.closeHooks,
      ...verification.closeHooks,
      ...usageStats.closeHooks,
      ...audit.closeHooks,
    ],
  };
}
