/** Mapping between the AuditService messages and the audit domain, and nothing more. */
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { encodeAuditCursor } from "../domain/audit-cursor.js";
import type {
  AuditEventRecord,
  AdminAction as DomainAdminAction,
  AuditEventKind as DomainAuditEventKind,
  VerificationCode as DomainVerificationCode,
} from "../domain/audit-event.js";
import {
  AuditCursorExpiredError,
  type AuditStreamItem,
  type AuditStreamStart,
} from "../domain/audit-stream.js";
import { DomainError } from "../domain/errors.js";
import type { Page } from "../domain/ports.js";
import {
  AdminAction,
  AdminEventSchema,
  type AuditEvent,
  AuditEventKind,
  AuditEventSchema,
  UsageEventSchema,
} from "../gen/apikeys/v1/audit_pb.js";
import type {
  StreamAuditEventsRequest,
  StreamAuditEventsResponse,
} from "../gen/apikeys/v1/audit_service_pb.js";
import { StreamAuditEventsResponseSchema } from "../gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { errorCodes } from "./error-codes.js";
import { errorWithInfo } from "./error-info.js";
import { dateOf, domainValueOf } from "./key-mappers.js";

/** AUDIT_CURSOR_EXPIRED is the ErrorInfo reason of OUT_OF_RANGE for a cursor older than the retention. */
export const AUDIT_CURSOR_EXPIRED = "AUDIT_CURSOR_EXPIRED";

/** EARLIEST_CURSOR_KEY is the ErrorInfo metadata key holding the cursor to re-sync from. */
export const EARLIEST_CURSOR_KEY = "earliest_cursor";

const CODES_OUT: Readonly<Record<DomainVerificationCode, VerificationCode>> = {
  valid: VerificationCode.VALID,
  not_found: VerificationCode.NOT_FOUND,
  expired: VerificationCode.EXPIRED,
  revoked: VerificationCode.REVOKED,
  ip_not_allowed: VerificationCode.IP_NOT_ALLOWED,
  insufficient_permissions: VerificationCode.INSUFFICIENT_PERMISSIONS,
  disabled: VerificationCode.DISABLED,
};

export function verificationCodeOf(code: DomainVerificationCode): VerificationCode {
  return CODES_OUT[code];
}

const KINDS: Readonly<Record<DomainAuditEventKind, AuditEventKind>> = {
  usage: AuditEventKind.USAGE,
  admin: AuditEventKind.ADMIN,
};

const ACTIONS_OUT: Readonly<Record<DomainAdminAction, AdminAction>> = {
  key_created: AdminAction.KEY_CREATED,
  key_updated: AdminAction.KEY_UPDATED,
  key_rotated: AdminAction.KEY_ROTATED,
  key_revoked: AdminAction.KEY_REVOKED,
  key_deleted: AdminAction.KEY_DELETED,
  key_disabled: AdminAction.KEY_DISABLED,
  key_enabled: AdminAction.KEY_ENABLED,
  group_created: AdminAction.GROUP_CREATED,
  group_updated: AdminAction.GROUP_UPDATED,
  group_deleted: AdminAction.GROUP_DELETED,
  tenant_created: AdminAction.TENANT_CREATED,
  tenant_updated: AdminAction.TENANT_UPDATED,
};

/** verificationCodesOf maps a verdict filter; UNSPECIFIED or an unknown number is INVALID_ARGUMENT. */
export function verificationCodesOf(
  codes: readonly VerificationCode[],
  field = "codes",
): DomainVerificationCode[] {
  return codes.map((code) => domainValueOf(CODES_OUT, code, field, "a verification code"));
}

/** eventKindsOf maps a kind filter; UNSPECIFIED means every kind, so a list holding it keeps everything. */
export function eventKindsOf(kinds: readonly AuditEventKind[], field = "kinds"): DomainAuditEventKind[] {
  const mapped: DomainAuditEventKind[] = [];
  for (const kind of kinds) {
    if (kind === AuditEventKind.UNSPECIFIED) {
      return [];
    }
    mapped.push(domainValueOf(KINDS, kind, field, "an audit event kind"));
  }
  return mapped;
}

/** streamStartOf maps the `start` oneof: unset → now, start_time → that time, resume_cursor → that cursor. */
export function streamStartOf(start: StreamAuditEventsRequest["start"]): AuditStreamStart {
  switch (start.case) {
    case "startTime": {
      const time = dateOf(start.value, "start_time");
      return time === null ? { kind: "now" } : { kind: "time", time };
    }
    case "resumeCursor":
      return { kind: "cursor", cursor: start.value };
    default:
      return { kind: "now" };
  }
}

/** auditEventOf maps a persisted event; its cursor lets a listed event also start a stream after it. */
export function auditEventOf(record: AuditEventRecord): AuditEvent {
  const detail = record.detail;
  const base = {
    eventId: record.id,
    cursor: encodeAuditCursor(record.seq),
    time: timestampFromDate(record.time),
    tenantId: record.tenantId,
  };
  if (detail.kind === "usage") {
    return create(AuditEventSchema, {
      ...base,
      kind: AuditEventKind.USAGE,
      detail: {
        case: "usage",
        value: create(UsageEventSchema, {
          keyId: detail.keyId,
          endpoint: detail.endpoint,
          clientIp: detail.clientIp,
          code: CODES_OUT[detail.code],
          httpStatus: detail.httpStatus,
          replica: detail.replica,
        }),
      },
    });
  }
  return create(AuditEventSchema, {
    ...base,
    kind: AuditEventKind.ADMIN,
    detail: {
      case: "admin",
      value: create(AdminEventSchema, {
        actorKeyId: detail.actorKeyId,
        actorUserId: detail.actorUserId,
        action: ACTIONS_OUT[detail.action],
        keyId: detail.keyId,
        groupId: detail.groupId,
        changedFields: [...detail.changedFields],
        changes: (detail.changes ?? []).map((change) => ({
          field: change.field,
          oldValue: fromJson(ValueSchema, change.oldValue as JsonValue),
          newValue: fromJson(ValueSchema, change.newValue as JsonValue),
        })),
        requestId: detail.requestId,
      }),
    },
  });
}

export function auditPageOf(page: Page<AuditEventRecord>): { events: AuditEvent[]; nextPageToken: string } {
  return { events: page.items.map(auditEventOf), nextPageToken: page.nextCursor ?? "" };
}

export function streamResponseOf(item: AuditStreamItem): StreamAuditEventsResponse {
  if (item.type === "event") {
    return create(StreamAuditEventsResponseSchema, {
      message: { case: "event", value: auditEventOf(item.event) },
    });
  }
  return create(StreamAuditEventsResponseSchema, {
    message: { case: "heartbeat", value: { cursor: item.cursor, time: timestampFromDate(item.time) } },
  });
}

/**
 * streamErrorOf gives an expired cursor (with earliest_cursor) and a slow consumer their ErrorInfo; anything
 * else is returned unchanged for the shared error boundary.
 */
export function streamErrorOf(error: unknown): unknown {
  if (error instanceof AuditCursorExpiredError) {
    return errorWithInfo(
      `${error.message} (earliest_cursor ${error.earliestCursor})`,
      errorCodes[error.kind],
      AUDIT_CURSOR_EXPIRED,
      { [EARLIEST_CURSOR_KEY]: error.earliestCursor },
      error,
    );
  }
  if (error instanceof DomainError && error.kind === "resource_exhausted") {
    return resourceExhaustedOf(error);
  }
  return error;
}

/** resourceExhaustedOf is the ConnectError of a resource_exhausted DomainError, with its reason as ErrorInfo. */
export function resourceExhaustedOf(error: DomainError): ConnectError {
  return errorWithInfo(error.message, errorCodes[error.kind], error.reason, {}, error);
}
