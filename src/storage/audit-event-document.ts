/** How an audit event is stored in `audit_events`: `_id` is its seq, so the primary index is the commit order. */
import type { FieldValue } from "../domain/admin-field-changes.js";
import type { AdminDetail, AuditEventRecord, NewAuditEvent, UsageDetail } from "../domain/audit-event.js";

/**
 * StoredFieldChange is a FieldChange with its values as JSON text: a label map may have keys with dots,
 * which MongoDB field names should not carry, and text keeps every value exactly as recorded.
 */
export interface StoredFieldChange {
  readonly field: string;
  readonly oldValue: string;
  readonly newValue: string;
}

export type StoredAdminDetail = Omit<AdminDetail, "changes"> & {
  readonly changes?: readonly StoredFieldChange[];
};

export interface AuditEventDocument {
  _id: number;
  /** eventId is the event's unique id (unique index: the same event is never stored twice). */
  eventId: string;
  /** time is when the event happened; the TTL index expires documents by it. */
  time: Date;
  tenantId: string;
  detail: UsageDetail | StoredAdminDetail;
}

export function toAuditEventDocument(event: NewAuditEvent, seq: number): AuditEventDocument {
  const detail = event.detail;
  return {
    _id: seq,
    eventId: event.id,
    time: event.time,
    tenantId: event.tenantId,
    detail: detail.kind === "usage" ? detail : storedAdminDetail(detail),
  };
}

function storedAdminDetail(detail: AdminDetail): StoredAdminDetail {
  const { changes, ...rest } = detail;
  if (changes === undefined) {
    return rest;
  }
  return {
    ...rest,
    changes: changes.map((change) => ({
      field: change.field,
      oldValue: JSON.stringify(change.oldValue),
      newValue: JSON.stringify(change.newValue),
    })),
  };
}

export function toAuditEventRecord(document: AuditEventDocument): AuditEventRecord {
  const detail = document.detail;
  return {
    seq: document._id,
    id: document.eventId,
    time: document.time,
    tenantId: document.tenantId,
    detail:
      detail.kind === "usage"
        ? {
            kind: "usage",
            keyId: detail.keyId,
            endpoint: detail.endpoint,
            clientIp: detail.clientIp,
            code: detail.code,
            httpStatus: detail.httpStatus,
            replica: detail.replica,
          }
        : {
            kind: "admin",
            actorKeyId: detail.actorKeyId,
            actorUserId: detail.actorUserId,
            action: detail.action,
            keyId: detail.keyId,
            groupId: detail.groupId,
            changedFields: [...detail.changedFields],
            ...(detail.changes === undefined
              ? {}
              : {
                  changes: detail.changes.map((change) => ({
                    field: change.field,
                    oldValue: JSON.parse(change.oldValue) as FieldValue,
                    newValue: JSON.parse(change.newValue) as FieldValue,
                  })),
                }),
            requestId: detail.requestId,
          },
  };
}
