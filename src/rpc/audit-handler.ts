/** AuditService for both transports: authenticate like KeyAdminService, call the use case, map the answer. */
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminAuthenticator } from "../domain/admin-access.js";
import type { AuditReader } from "../domain/audit-reader.js";
import type { DomainError } from "../domain/errors.js";
import type { UsageStatsReader } from "../domain/usage-stats.js";
import type { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import { asAdminCaller, authenticateAdminCall } from "./admin-caller.js";
import {
  auditPageOf,
  eventKindsOf,
  resourceExhaustedOf,
  streamErrorOf,
  streamResponseOf,
  streamStartOf,
  verificationCodesOf,
} from "./audit-mappers.js";
import { kAbortCall } from "./context-keys.js";
import { dateOf } from "./key-mappers.js";
import { usageStatsRequestOf, usageStatsResponseOf } from "./usage-stats-mappers.js";

/** SLOW_CONSUMER_ABORT_MS is how long a cut-off stream may wait for its writer before the call is aborted. */
export const SLOW_CONSUMER_ABORT_MS = 1_000;

export interface AuditHandlerDependencies {
  readonly access: AdminAuthenticator;
  readonly reader: AuditReader;
  readonly usageStats: UsageStatsReader;
  readonly slowConsumerAbortMs?: number;
}

export function createAuditHandler(deps: AuditHandlerDependencies): ServiceImpl<typeof AuditService> {
  const { reader } = deps;
  const slowConsumerAbortMs = deps.slowConsumerAbortMs ?? SLOW_CONSUMER_ABORT_MS;
  const asActor = asAdminCaller(deps.access);

  return {
    listKeyUsage: asActor(async (actor, request) => {
      const page = await reader.listKeyUsage(actor, {
        keyId: request.keyId,
        startTime: dateOf(request.startTime, "start_time"),
        endTime: dateOf(request.endTime, "end_time"),
        codes: verificationCodesOf(request.codes),
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return auditPageOf(page);
    }),

    listAdminEvents: asActor(async (actor, request) =>
      auditPageOf(await reader.listAdminEvents(actor, request)),
    ),

    getUsageStats: asActor(async (actor, request) =>
      usageStatsResponseOf(await deps.usageStats.getUsageStats(actor, usageStatsRequestOf(request))),
    ),

    async *streamAuditEvents(request, context) {
      let abortTimer: NodeJS.Timeout | undefined;
      try {
        const actor = await authenticateAdminCall(deps.access, context);
        const streamRequest = {
          tenantId: request.tenantId,
          keyId: request.keyId,
          kinds: eventKindsOf(request.kinds),
          start: streamStartOf(request.start),
        };
        const abortCall = context.values.get(kAbortCall);
        const onSlowConsumer = (error: DomainError) => {
          abortTimer = setTimeout(() => abortCall(resourceExhaustedOf(error)), slowConsumerAbortMs);
        };
        const items = reader.follow(actor, streamRequest, { signal: context.signal, onSlowConsumer });
        for await (const item of items) {
          yield streamResponseOf(item);
        }
      } catch (error) {
        throw streamErrorOf(error);
      } finally {
        clearTimeout(abortTimer);
      }
    },
  };
}
