/** Audit listing requests: validation and defaults; errors name the proto fields of the requests. */
import { decodeAuditPageToken } from "./audit-cursor.js";
import type { VerificationCode } from "./audit-event.js";
import type { AdminEventQuery, KeyUsageQuery } from "./audit-log.js";
import { invalidArgument } from "./errors.js";

export const DEFAULT_AUDIT_PAGE_SIZE = 50;

/** MAX_AUDIT_PAGE_SIZE bounds one page, so one call reads a bounded number of documents. */
export const MAX_AUDIT_PAGE_SIZE = 1000;

/** MAX_AUDIT_ID_LENGTH bounds key, group and tenant ids in audit filters (real ids are far shorter). */
const MAX_AUDIT_ID_LENGTH = 256;

/** KeyUsageRequest is a ListKeyUsage request in domain terms (absent timestamps are null, absent token ""). */
export interface KeyUsageRequest {
  readonly keyId: string;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly codes: readonly VerificationCode[];
  readonly pageSize: number;
  readonly pageToken: string;
}

/** AdminEventsRequest is a ListAdminEvents request in domain terms; "" means "not given" for the ids. */
export interface AdminEventsRequest {
  /** tenantId is the tenant to list: the caller's own for a tenant admin, the requested one for a super user. */
  readonly tenantId: string;
  readonly keyId: string;
  readonly groupId: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** toKeyUsageQuery validates a usage-log request and scopes it to `tenantScope` (null: a super user). */
export function toKeyUsageQuery(request: KeyUsageRequest, tenantScope: string | null): KeyUsageQuery {
  const keyId = requiredId(request.keyId, "key_id");
  if (request.startTime !== null && request.endTime !== null && request.endTime <= request.startTime) {
    throw invalidArgument("end_time", "must be after start_time");
  }
  return {
    keyId,
    tenantId: tenantScope,
    from: request.startTime,
    to: request.endTime,
    codes: [...new Set(request.codes)],
    limit: toPageSize(request.pageSize),
    after: request.pageToken === "" ? null : decodeAuditPageToken(request.pageToken),
  };
}

/** toAdminEventQuery validates an admin-history request. Throws an invalid-argument error naming the field. */
export function toAdminEventQuery(request: AdminEventsRequest): AdminEventQuery {
  return {
    tenantId: requiredId(request.tenantId, "tenant_id"),
    keyId: optionalId(request.keyId, "key_id"),
    groupId: optionalId(request.groupId, "group_id"),
    limit: toPageSize(request.pageSize),
    after: request.pageToken === "" ? null : decodeAuditPageToken(request.pageToken),
  };
}

/** toPageSize applies the default (0 → 50) and the bounds (1–1000) of every audit listing. */
export function toPageSize(pageSize: number): number {
  if (pageSize === 0) {
    return DEFAULT_AUDIT_PAGE_SIZE;
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_AUDIT_PAGE_SIZE) {
    throw invalidArgument("page_size", `must be between 1 and ${MAX_AUDIT_PAGE_SIZE} (0 means 50)`);
  }
  return pageSize;
}

function requiredId(value: string, field: string): string {
  if (value === "") {
    throw invalidArgument(field, "is required");
  }
  return checkedId(value, field);
}

function optionalId(value: string, field: string): string | null {
  return value === "" ? null : checkedId(value, field);
}

function checkedId(value: string, field: string): string {
  if (value.length > MAX_AUDIT_ID_LENGTH) {
    throw invalidArgument(field, `must be at most ${MAX_AUDIT_ID_LENGTH} characters`);
  }
  return value;
}
