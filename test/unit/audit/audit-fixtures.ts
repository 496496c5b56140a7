/**
 * Audit event factories for tests: realistic usage and admin events with unique ids.
 */
import { randomUUID } from "node:crypto";
import type { AdminAction, NewAuditEvent, VerificationCode } from "../../../src/domain/audit-event.js";

/** UsageEventFields overrides the defaults of usageEvent. */
export interface UsageEventFields {
  readonly tenantId?: string;
  readonly keyId?: string;
  readonly time?: Date;
  readonly code?: VerificationCode;
  readonly endpoint?: string;
  readonly replica?: string;
}

const HTTP_STATUS: Record<VerificationCode, number> = {
  valid: 200,
  not_found: 401,
  expired: 401,
  revoked: 401,
  ip_not_allowed: 403,
  insufficient_permissions: 403,
  disabled: 401,
};

/** usageEvent makes a usage event (one VerifyKey call). */
export function usageEvent(fields: UsageEventFields = {}): NewAuditEvent {
  const code = fields.code ?? "valid";
  return {
    id: randomUUID(),
    time: fields.time ?? new Date(),
    tenantId: fields.tenantId ?? "tenant_a",
    detail: {
      kind: "usage",
      keyId: fields.keyId ?? "ak_test_key1",
      endpoint: fields.endpoint ?? "GET /v1/orders",
      clientIp: "203.0.113.7",
      code,
      httpStatus: HTTP_STATUS[code],
      replica: fields.replica ?? "replica-1",
    },
  };
}

/** AdminEventFields overrides the defaults of adminEvent. */
export interface AdminEventFields {
  readonly tenantId?: string;
  readonly keyId?: string;
  readonly groupId?: string;
  readonly action?: AdminAction;
  readonly time?: Date;
}

/** adminEvent makes an admin event (one mutation). */
export function adminEvent(fields: AdminEventFields = {}): NewAuditEvent {
  return {
    id: randomUUID(),
    time: fields.time ?? new Date(),
    tenantId: fields.tenantId ?? "tenant_a",
    detail: {
      kind: "admin",
      actorKeyId: "ak_test_admin",
      actorUserId: "user_1",
      action: fields.action ?? "key_updated",
      keyId: fields.keyId ?? "",
      groupId: fields.groupId ?? "",
      changedFields: ["name"],
      requestId: randomUUID(),
    },
  };
}
