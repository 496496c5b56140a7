/**
 * Audit reading use cases, authorised like the admin API: the usage log of a key (one the caller may not see
 * answers NOT_FOUND), the admin history and the live stream (a super user may stream every tenant at once).
 */
import { adminVisibleKey, requireAdmin, resolveTenant } from "./admin-access.js";
import { type Actor, SYSTEM_TENANT } from "./api-key.js";
import type { AuditEventKind, AuditEventRecord } from "./audit-event.js";
import type { AuditEventFilter, AuditLog } from "./audit-log.js";
import {
  type AdminEventsRequest,
  type KeyUsageRequest,
  toAdminEventQuery,
  toKeyUsageQuery,
} from "./audit-query.js";
import type {
  AuditFollowRequest,
  AuditStreamFollower,
  AuditStreamItem,
  AuditStreamStart,
} from "./audit-stream.js";
import { DomainError, invalidArgument } from "./errors.js";
import type { KeyRepository, Page } from "./ports.js";
import { validateTenantId } from "./validation.js";

/** MAX_STREAM_KEY_ID_LENGTH bounds the key filter of a stream (real key ids are far shorter). */
const MAX_STREAM_KEY_ID_LENGTH = 256;

/** AuditStreamRequest is a StreamAuditEvents request in domain terms ("" means "not given" for the ids). */
export interface AuditStreamRequest {
  readonly tenantId: string;
  readonly keyId: string;
  /** kinds keeps only these kinds; empty keeps every kind. */
  readonly kinds: readonly AuditEventKind[];
  readonly start: AuditStreamStart;
}

export type AuditStreamOptions = Pick<AuditFollowRequest, "signal" | "onSlowConsumer">;

export interface AuditReaderDependencies {
  readonly log: Pick<AuditLog, "listKeyUsage" | "listAdminEvents">;
  readonly hub: AuditStreamFollower;
  readonly keys: Pick<KeyRepository, "findById">;
}

export interface AuditReader {
  listKeyUsage(actor: Actor, request: KeyUsageRequest): Promise<Page<AuditEventRecord>>;
  listAdminEvents(actor: Actor, request: AdminEventsRequest): Promise<Page<AuditEventRecord>>;
  /** streamFilter authorises a stream request before anything is read, so the call is refused at once. */
  streamFilter(actor: Actor, request: AuditStreamRequest): Pick<AuditFollowRequest, "start" | "filter">;
  /** follow authorises the request and yields the stream (see AuditStreamFollower.follow for its errors). */
  follow(
    actor: Actor,
    request: AuditStreamRequest,
    options?: AuditStreamOptions,
  ): AsyncGenerator<AuditStreamItem, void, undefined>;
}

export function createAuditReader(deps: AuditReaderDependencies): AuditReader {
  const streamFilter = (
    actor: Actor,
    request: AuditStreamRequest,
  ): Pick<AuditFollowRequest, "start" | "filter"> => {
    requireAdmin(actor);
    const filter: AuditEventFilter = {
      tenantId: streamTenant(actor, request.tenantId),
      keyId: optionalKeyId(request.keyId),
      kinds: [...new Set(request.kinds)],
    };
    return { start: request.start, filter };
  };

  return {
    async listKeyUsage(actor, request) {
      requireAdmin(actor);
      const query = toKeyUsageQuery(request, null);
      const key = await adminVisibleKey(deps.keys, actor, query.keyId);
      return deps.log.listKeyUsage({ ...query, tenantId: key.tenantId });
    },

    async listAdminEvents(actor, request) {
      requireAdmin(actor);
      const tenantId = resolveTenant(actor, request.tenantId, { field: "tenant_id", required: false });
      return deps.log.listAdminEvents(toAdminEventQuery({ ...request, tenantId }));
    },

    streamFilter,

    follow(actor, request, options = {}) {
      const { start, filter } = streamFilter(actor, request);
      return deps.hub.follow({ start, filter, caller: actor.keyId, ...options });
    },
  };
}

/** streamTenant: a tenant admin's own; for a super user the named one or, for "", every tenant (null). */
function streamTenant(actor: Actor, requested: string): string | null {
  if (actor.role === "superuser") {
    if (requested === "") {
      return null;
    }
    return requested === SYSTEM_TENANT ? requested : validateTenantId(requested, "tenant_id");
  }
  if (requested !== "" && requested !== actor.tenantId) {
    throw new DomainError(
      "permission_denied",
      `this key may only follow the audit events of its own tenant ${JSON.stringify(actor.tenantId)}`,
    );
  }
  return actor.tenantId;
}

function optionalKeyId(value: string): string | null {
  if (value === "") {
    return null;
  }
  if (value.length > MAX_STREAM_KEY_ID_LENGTH) {
    throw invalidArgument("key_id", `must be at most ${MAX_STREAM_KEY_ID_LENGTH} characters`);
  }
  return value;
}
