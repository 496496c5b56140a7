/** How values read on the page: times in the browser's time zone, enums as words. */
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { AdminAction, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import { CallerRole } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** formatTime shows a timestamp, or "—" when unset (never used, never expires…). */
export function formatTime(timestamp: Timestamp | undefined, seconds = false): string {
  if (timestamp === undefined) {
    return "—";
  }
  return (seconds ? dateTimeSeconds : dateTime).format(timestampDate(timestamp));
}

/** isoTime is the machine-readable form for <time dateTime>. */
export function isoTime(timestamp: Timestamp | undefined): string | undefined {
  return timestamp === undefined ? undefined : timestampDate(timestamp).toISOString();
}

export const STATUS_LABELS: Readonly<Record<KeyStatus, string>> = {
  [KeyStatus.UNSPECIFIED]: "Any status",
  [KeyStatus.ACTIVE]: "Active",
  [KeyStatus.EXPIRED]: "Expired",
  [KeyStatus.REVOKED]: "Revoked",
};

export const EXPIRATION_LABELS: Readonly<Record<ExpirationState, string>> = {
  [ExpirationState.UNSPECIFIED]: "Any expiration",
  [ExpirationState.VALID]: "Valid",
  [ExpirationState.EXPIRING_SOON]: "Expiring soon",
  [ExpirationState.EXPIRED]: "Expired",
};

export const ROLE_LABELS: Readonly<Record<CallerRole, string>> = {
  [CallerRole.UNSPECIFIED]: "Unknown role",
  [CallerRole.SUPERUSER]: "Super user",
  [CallerRole.TENANT_ADMIN]: "Tenant admin",
  [CallerRole.KEY_HOLDER]: "Key holder (read-only)",
};

export const ACTION_LABELS: Readonly<Record<AdminAction, string>> = {
  [AdminAction.UNSPECIFIED]: "Unknown",
  [AdminAction.KEY_CREATED]: "Key created",
  [AdminAction.KEY_UPDATED]: "Key updated",
  [AdminAction.KEY_ROTATED]: "Key rotated",
  [AdminAction.KEY_REVOKED]: "Key revoked",
  [AdminAction.KEY_DELETED]: "Key deleted",
  [AdminAction.GROUP_CREATED]: "Group created",
  [AdminAction.GROUP_UPDATED]: "Group updated",
  [AdminAction.GROUP_DELETED]: "Group deleted",
  [AdminAction.TENANT_UPDATED]: "Tenant updated",
};

export const KIND_LABELS: Readonly<Record<AuditEventKind, string>> = {
  [AuditEventKind.UNSPECIFIED]: "All kinds",
  [AuditEventKind.USAGE]: "Usage",
  [AuditEventKind.ADMIN]: "Admin",
};

export const CODE_LABELS: Readonly<Record<VerificationCode, string>> = {
  [VerificationCode.UNSPECIFIED]: "Unknown",
  [VerificationCode.VALID]: "Allowed",
  [VerificationCode.NOT_FOUND]: "Unknown key",
  [VerificationCode.EXPIRED]: "Expired",
  [VerificationCode.REVOKED]: "Revoked",
  [VerificationCode.IP_NOT_ALLOWED]: "IP not allowed",
  [VerificationCode.INSUFFICIENT_PERMISSIONS]: "Missing permission",
};

/** FIELD_LABELS name changed fields of the history the way the forms do. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  name: "name",
  description: "description",
  user_id: "associated user",
  group_id: "group",
  permissions: "permissions",
  ip_allowlist: "IP allowlist",
  expire_time: "expiry",
  key_limit: "key limit",
};

/** changedFieldsText lists changed fields in words ("name, IP allowlist"), or "—". */
export function changedFieldsText(fields: readonly string[]): string {
  return fields.length === 0 ? "—" : fields.map((field) => FIELD_LABELS[field] ?? field).join(", ");
}
