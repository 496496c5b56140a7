/** Admin audit events: one per successful admin mutation (who, what, on what, under which request id). */
import type { FieldChange } from "./admin-field-changes.js";
import type { Actor } from "./api-key.js";
import type { AdminAction, NewAuditEvent } from "./audit-event.js";
import { newEventId } from "./ids.js";
import type { AuditSink } from "./ports.js";

export interface AdminEventTarget {
  readonly tenantId: string;
  readonly keyId?: string;
  readonly groupId?: string;
  /** changedFields are proto field names ("name", "permissions"...), sorted by the caller's mask order. */
  readonly changedFields?: readonly string[];
  /** changes give the previous and new value of changed fields (see admin-field-changes.ts). */
  readonly changes?: readonly FieldChange[];
  /** requestId is the client request id, or null when the request had none (the actor's callId is used). */
  readonly requestId: string | null;
  /** eventId fixes the event's id (an effect a retry may record again, see request-fence.ts); default random. */
  readonly eventId?: string;
}

export function adminEvent(
  actor: Actor,
  action: AdminAction,
  time: Date,
  target: AdminEventTarget,
): NewAuditEvent {
  return {
    id: target.eventId ?? newEventId(),
    time,
    tenantId: target.tenantId,
    detail: {
      kind: "admin",
      actorKeyId: actor.keyId,
      actorUserId: actor.userId,
      action,
      keyId: target.keyId ?? "",
      groupId: target.groupId ?? "",
      changedFields: [...(target.changedFields ?? [])],
      changes: [...(target.changes ?? [])],
      requestId: target.requestId ?? actor.callId ?? "",
    },
  };
}

/** recordAdminEvent builds one admin event and resolves once it is stored (AuditSink.record). */
export function recordAdminEvent(
  sink: AuditSink,
  actor: Actor,
  action: AdminAction,
  time: Date,
  target: AdminEventTarget,
): Promise<void> {
  return sink.record(adminEvent(actor, action, time, target));
}
