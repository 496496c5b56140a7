/**
 * AuditEventDocument: how an audit event is stored in `audit_events`, and the mapping to and from the domain
 * record. `_id` is the event's seq, so the primary index is the commit order.
 */
import type { AdminDetail, AuditEventRecord, NewAuditEvent, UsageDetail } from "../domain/audit-event.js";

/** AuditEventDocument is one stored event; the detail is kept as the domain shapes it. */
export interface AuditEventDocument {
  /** _id is the seq: the event's position in the global commit order. */
  _id: number;
  /** eventId is the event's unique id (unique index: the same event is never stored twice). */
  eventId: string;
  /** time is when the event happened; the TTL index expires documents by it. */
  time: Date;
  tenantId: string;
  detail: UsageDetail | AdminDetail;
}

/** toAuditEventDocument stores `event` at position `seq`. */
export function toAuditEventDocument(event: NewAuditEvent, seq: number): AuditEventDocument {
  return { _id: seq, eventId: event.id, time: event.time, tenantId: event.tenantId, detail: event.detail };
}

/** toAuditEventRecord reads a stored event back. */
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
            requestId: detail.requestId,
          },
  };
}
