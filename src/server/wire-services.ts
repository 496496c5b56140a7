/**
 * THE WIRING POINT for service implementations. Later work adds a service by editing wireServices only:
 * build repositories and use cases from `deps`, return the ServiceImpl objects, the indexes their
 * repositories declare, background tasks to start, and what to close at shutdown. main.ts and the test
 * server helper both call it, so tests run exactly the wiring production runs.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import type { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import type { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import type { IndexDeclaration } from "../storage/indexes.js";
import type { CloseHook } from "../transport/start-server.js";
import { createAuditPipeline } from "./audit-pipeline.js";
import type { Config } from "./config.js";
import { keyFormatOf, keyHasherOf } from "./verification-config.js";
import { wireAuditService } from "./wire-audit.js";
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
  /** metrics is the registry /metrics serves; register service metrics here. */
  readonly metrics: Registry;
  /** devUsageRetention: see AuditPipelineDeps (set by the composition root for the local stand-in only). */
  readonly devUsageRetention?: number | null;
}

/** StartHook starts a background task once indexes exist and before the ports open. */
export interface StartHook {
  readonly name: string;
  start(): Promise<void> | void;
}

/** WiredServices are the service implementations plus what the composition root must do for them. */
export interface WiredServices {
  readonly verify?: Partial<ServiceImpl<typeof KeyVerifyService>>;
  readonly admin?: Partial<ServiceImpl<typeof KeyAdminService>>;
  readonly audit?: Partial<ServiceImpl<typeof AuditService>>;
  /** indexes are created (awaited, fatal on failure) before anything starts. */
  readonly indexes: readonly IndexDeclaration[];
  readonly startHooks: readonly StartHook[];
  /** closeHooks run at shutdown after the transports stopped, before MongoDB closes (flush buffers here). */
  readonly closeHooks: readonly CloseHook[];
}

/** wireServices builds every service implementation. Services not wired yet answer UNIMPLEMENTED. */
export async function wireServices(deps: WireDeps): Promise<WiredServices> {
  const { config, db } = deps;
  const keyFormat = keyFormatOf(config);
  const hasher = keyHasherOf(config);

  // --- Audit (owned by the audit wiring): ONE sink that VerifyKey and the admin use cases emit into, ONE
  // stream hub, the audit_events indexes; its close hook flushes the sink and closes the store and hub. ---
  const audit = createAuditPipeline({
    config,
    logger: deps.logger,
    db,
    metrics: deps.metrics,
    devUsageRetention: deps.devUsageRetention ?? null,
  });

  // --- Usage statistics: the counter VerifyKey counts every verdict into, GetUsageStats' reader. ---
  const usageStats = wireUsageStats({ config, logger: deps.logger, db, metrics: deps.metrics });

  // --- Verification: VerifyKey, and the shared cache's notifier and authenticator for the others. ---
  const verification = wireVerification({
    config,
    logger: deps.logger,
    db,
    mongoClient: deps.mongoClient,
    metrics: deps.metrics,
    keyFormat,
    hasher,
    sink: audit.sink,
    auditCounters: audit.sink.counters,
    statistics: usageStats.counter,
  });

  // --- KeyAdminService (owned by the admin wiring): use cases on the shared cache's authenticator and
  // notifier; one admin event per mutation into the shared audit sink. ---
  const admin = wireKeyAdmin({
    config,
    logger: deps.logger,
    db,
    keyFormat,
    hasher,
    callers: verification.runtime.authenticator,
    notifier: verification.runtime.notifier,
    audit: audit.sink,
    usageStats: usageStats.reader,
  });

  // --- The tenant key counter repair: recounts in the background, corrections as admin events. ---
  const keyCountRepair = wireKeyCountRepair({ config, logger: deps.logger, db, audit: audit.sink });

  // --- AuditService (owned by the audit wiring): audit callers are authenticated like admin callers. ---
  const auditService = wireAuditService(audit, {
    db,
    callers: verification.runtime.authenticator,
    usageStats: usageStats.reader,
  });

  return {
    verify: verification.service,
    audit: auditService,
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
