/**
 * Audit events: one per VerifyKey call (usage) and one per admin mutation (admin). They never carry a secret.
 */
import type { FieldChange } from "./admin-field-changes.js";

/** VERIFICATION_CODES lists every verification code, in a fixed order (the metrics index it). */
export const VERIFICATION_CODES = Object.freeze([
  "valid",
  "not_found",
  "expired",
  "revoked",
  "ip_not_allowed",
  "insufficient_permissions",
  "disabled",
] as const);

export type VerificationCode = (typeof VERIFICATION_CODES)[number];

export type AdminAction =
  | "key_created"
  | "key_updated"
  | "key_rotated"
  | "key_revoked"
  | "key_deleted"
  | "key_disabled"
  | "key_enabled"
  | "group_created"
  | "group_updated"
  | "group_deleted"
  | "tenant_created"
  | "tenant_updated";

export type AuditEventKind = "usage" | "admin";

export interface UsageDetail {
  readonly kind: "usage";
  /** keyId is "" when the credential could not be identified. */
  readonly keyId: string;
  readonly endpoint: string;
  readonly clientIp: string;
  readonly code: VerificationCode;
  readonly httpStatus: number;
  readonly replica: string;
}

export interface AdminDetail {
  readonly kind: "admin";
  readonly actorKeyId: string;
  readonly actorUserId: string;
  readonly action: AdminAction;
  readonly keyId: string;
  readonly groupId: string;
  readonly changedFields: readonly string[];
  /** changes give each changed field's previous and new value (absent on events stored before they existed). */
  readonly changes?: readonly FieldChange[];
  readonly requestId: string;
}

export interface NewAuditEvent {
  /** id is unique per event (for example a UUID); it never changes once read (a usage event mints it then). */
  readonly id: string;
  readonly time: Date;
  /** tenantId is "" for a usage event whose key was not identified. */
  readonly tenantId: string;
  readonly detail: UsageDetail | AdminDetail;
}

export interface AuditEventRecord extends NewAuditEvent {
  readonly seq: number;
}
