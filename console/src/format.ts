/** How values read on the page: times in the browser's time zone, enums as words. */
import { toJson } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { AdminAction, AuditEventKind, type FieldChange } from "../../src/gen/apikeys/v1/audit_pb.js";
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

const counts = new Intl.NumberFormat();

/** formatCount shows a count with the browser's digit grouping ("1,234"). */
export function formatCount(count: bigint | number): string {
  return counts.format(count);
}

/** isoTime is the machine-readable form for <time dateTime>. */
export function isoTime(timestamp: Timestamp | undefined): string | undefined {
  return timestamp === undefined ? undefined : timestampDate(timestamp).toISOString();
}

const STATUS_LABELS: Readonly<Partial<Record<KeyStatus, string>>> = {
  [KeyStatus.UNSPECIFIED]: "Any status",
  [KeyStatus.ACTIVE]: "Active",
  [KeyStatus.EXPIRED]: "Expired",
  [KeyStatus.REVOKED]: "Revoked",
  [KeyStatus.DISABLED]: "Disabled",
};

const EXPIRATION_LABELS: Readonly<Partial<Record<ExpirationState, string>>> = {
  [ExpirationState.UNSPECIFIED]: "Any expiration",
  [ExpirationState.VALID]: "Valid",
  [ExpirationState.EXPIRING_SOON]: "Expiring soon",
  [ExpirationState.EXPIRED]: "Expired",
};

const ROLE_LABELS: Readonly<Partial<Record<CallerRole, string>>> = {
  [CallerRole.UNSPECIFIED]: "Unknown role",
  [CallerRole.SUPERUSER]: "Super user",
  [CallerRole.TENANT_ADMIN]: "Tenant admin",
  [CallerRole.KEY_HOLDER]: "Key holder (read-only)",
};

const ACTION_LABELS: Readonly<Partial<Record<AdminAction, string>>> = {
  [AdminAction.UNSPECIFIED]: "Unknown",
  [AdminAction.KEY_CREATED]: "Key created",
  [AdminAction.KEY_UPDATED]: "Key updated",
  [AdminAction.KEY_ROTATED]: "Key rotated",
  [AdminAction.KEY_REVOKED]: "Key revoked",
  [AdminAction.KEY_DELETED]: "Key deleted",
  [AdminAction.KEY_DISABLED]: "Key disabled",
  [AdminAction.KEY_ENABLED]: "Key enabled",
  [AdminAction.GROUP_CREATED]: "Group created",
  [AdminAction.GROUP_UPDATED]: "Group updated",
  [AdminAction.GROUP_DELETED]: "Group deleted",
  [AdminAction.TENANT_CREATED]: "Tenant created",
  [AdminAction.TENANT_UPDATED]: "Tenant updated",
};

const KIND_LABELS: Readonly<Partial<Record<AuditEventKind, string>>> = {
  [AuditEventKind.UNSPECIFIED]: "All kinds",
  [AuditEventKind.USAGE]: "Usage",
  [AuditEventKind.ADMIN]: "Admin",
};

const CODE_LABELS: Readonly<Partial<Record<VerificationCode, string>>> = {
  [VerificationCode.UNSPECIFIED]: "Unknown",
  [VerificationCode.VALID]: "Allowed",
  [VerificationCode.NOT_FOUND]: "Unknown key",
  [VerificationCode.EXPIRED]: "Expired",
  [VerificationCode.REVOKED]: "Revoked",
  [VerificationCode.IP_NOT_ALLOWED]: "IP not allowed",
  [VerificationCode.INSUFFICIENT_PERMISSIONS]: "Missing permission",
  [VerificationCode.DISABLED]: "Disabled",
};

/** humanize turns an enum value's name into words ("KEY_DISABLED" → "Key disabled") for values added later. */
function humanize(name: string | undefined): string {
  if (name === undefined) {
    return "Unknown";
  }
  const words = name.toLowerCase().replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Labels of enum values; a value this console does not know yet reads as its name in words. */
export const statusLabel = (value: KeyStatus) => STATUS_LABELS[value] ?? humanize(KeyStatus[value]);
export const expirationLabel = (value: ExpirationState) =>
  EXPIRATION_LABELS[value] ?? humanize(ExpirationState[value]);
export const roleLabel = (value: CallerRole) => ROLE_LABELS[value] ?? humanize(CallerRole[value]);
export const actionLabel = (value: AdminAction) => ACTION_LABELS[value] ?? humanize(AdminAction[value]);
export const kindLabel = (value: AuditEventKind) => KIND_LABELS[value] ?? humanize(AuditEventKind[value]);
export const codeLabel = (value: VerificationCode) => CODE_LABELS[value] ?? humanize(VerificationCode[value]);

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
  labels: "labels",
  display_name: "display name",
};

/** changedFieldsText lists changed fields in words ("name, IP allowlist"), or "—". */
export function changedFieldsText(fields: readonly string[]): string {
  return fields.length === 0 ? "—" : fields.map((field) => FIELD_LABELS[field] ?? field).join(", ");
}

/** FieldChangeView is one changed field of the history: its name in words, its value before and after. */
export interface FieldChangeView {
  readonly label: string;
  readonly before: string;
  readonly after: string;
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * valueText shows a history value: "—" when unset, text in quotes (so an empty name is visible), RFC 3339 times
 * in the browser's zone, lists as [a, b], labels and other objects as key=value.
 */
export function valueText(value: Value | undefined): string {
  const json = value === undefined ? null : toJson(ValueSchema, value);
  return jsonText(json);
}

function jsonText(json: unknown): string {
  if (json === null || json === undefined) {
    return "—";
  }
  if (typeof json === "string") {
    return RFC_3339.test(json) ? dateTimeSeconds.format(new Date(json)) : `“${json}”`;
  }
  if (Array.isArray(json)) {
    return `[${json.map(entryText).join(", ")}]`;
  }
  if (typeof json === "object") {
    const entries = Object.entries(json as Record<string, unknown>).map(
      ([key, entry]) => `${key}=${entryText(entry)}`,
    );
    return `{${entries.join(", ")}}`;
  }
  return String(json);
}

/** entryText shows a list entry or object member: text without quotes, times in the browser's zone. */
function entryText(json: unknown): string {
  if (typeof json === "string") {
    return RFC_3339.test(json) ? dateTimeSeconds.format(new Date(json)) : json;
  }
  return jsonText(json);
}

/** fieldChangeOf shows one change of the history: `IP allowlist`, `[10.0.0.0/8]`, `[]`. */
export function fieldChangeOf(change: FieldChange): FieldChangeView {
  return {
    label: FIELD_LABELS[change.field] ?? change.field,
    before: valueText(change.oldValue),
    after: valueText(change.newValue),
  };
}
