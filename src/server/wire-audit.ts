/**
 * The AuditService part of the wiring: the handler on the audit pipeline (src/server/audit-pipeline.ts),
 * built after the verification side, whose CallerAuthenticator authenticates audit callers exactly like
 * admin callers (same credential metadata, same roles, same cache).
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "mongodb";
import { createAdminAuthenticator } from "../domain/admin-access.js";
import { createAuditReader } from "../domain/audit-reader.js";
import type { CallerAuthenticator, KeyRepository } from "../domain/ports.js";
import type { UsageStatsReader } from "../domain/usage-stats.js";
import type { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import { createAuditHandler } from "../rpc/audit-handler.js";
import { createMongoKeyRepository } from "../storage/key-repository.js";
import type { AuditPipeline } from "./audit-pipeline.js";

/** AuditServiceDeps are what the AuditService handler needs besides the pipeline. */
export interface AuditServiceDeps {
  readonly db: Db;
  /** callers authenticates audit callers (the verification side's, as for admin callers). */
  readonly callers: CallerAuthenticator;
  /** keys finds the key of a usage-log request (defaults to the MongoDB key repository on `db`). */
  readonly keys?: Pick<KeyRepository, "findById">;
  /** usageStats answers GetUsageStats. */
  readonly usageStats: UsageStatsReader;
}

/** wireAuditService builds the AuditService implementation on the pipeline. */
export function wireAuditService(
  pipeline: AuditPipeline,
  deps: AuditServiceDeps,
): ServiceImpl<typeof AuditService> {
  return createAuditHandler({
    access: createAdminAuthenticator(deps.callers),
    reader: createAuditReader({
      log: pipeline.store,
      hub: pipeline.hub,
      keys: deps.keys ?? createMongoKeyRepository(deps.db),
    }),
    usageStats: deps.usageStats,
  });
}
