/**
 * The key forms' text → request fields, checked the way the API checks them where a person benefits from
 * knowing before sending (required name, expiry in the future, expiry only earlier on edit). Everything else
 * (permission syntax, CIDR rules) is left to the server, whose field errors are shown next to the field.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CreateKeyRequestSchema } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Key } from "../../src/gen/apikeys/v1/key_pb.js";

/** KeyFormValues are the form's inputs as typed. */
export interface KeyFormValues {
  readonly name: string;
  readonly description: string;
  readonly userId: string;
  readonly groupId: string;
  /** permissions separated by spaces, commas or line breaks. */
  readonly permissions: string;
  /** expires is a datetime-local value ("2030-01-31T17:00") in the browser's time zone, or "" for never. */
  readonly expires: string;
  /** ipAllowlist has one address or CIDR range per line. */
  readonly ipAllowlist: string;
  /** labels has one "key=value" per line. */
  readonly labels: string;
}

/** KeyFormField names a form input. */
export type KeyFormField = keyof KeyFormValues;

/** FieldErrors are messages per form input. */
export type FieldErrors = Partial<Record<KeyFormField, string>>;

/** EMPTY_KEY_FORM is a new key's form. */
export const EMPTY_KEY_FORM: KeyFormValues = {
  name: "",
  description: "",
  userId: "",
  groupId: "",
  permissions: "",
  expires: "",
  ipAllowlist: "",
  labels: "",
};

/** The API refuses an expiry less than a minute ahead. */
const MIN_EXPIRY_AHEAD_MS = 60_000;

/** formFieldOf maps a request field (as the server names it) to the form input that edits it. */
export function formFieldOf(requestField: string): KeyFormField | null {
  switch (requestField) {
    case "name":
    case "description":
      return requestField;
    case "user_id":
      return "userId";
    case "group_id":
      return "groupId";
    case "permissions":
      return "permissions";
    case "ip_allowlist":
      return "ipAllowlist";
    case "expire_time":
      return "expires";
    case "labels":
      return "labels";
    default:
      return null;
  }
}

/** parsePermissions splits permissions typed with spaces, commas or line breaks; duplicates dropped. */
export function parsePermissions(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((entry) => entry !== ""))];
}

/** parseAllowlist reads one entry per line (blank lines ignored, surrounding spaces trimmed). */
export function parseAllowlist(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * parseLabels reads one "key=value" per line (blank lines ignored, spaces around key and value trimmed). The
 * value may be empty ("tier="); the key's alphabet and the sizes are the server's to check. A line without "="
 * or a key given twice is named by its line number.
 */
export function parseLabels(text: string): ParsedForm<Record<string, string>> {
  const labels: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") {
      continue;
    }
    const at = line.indexOf("=");
    const key = at < 0 ? "" : line.slice(0, at).trim();
    if (key === "") {
      return { ok: false, errors: { labels: `Line ${index + 1}: write each label as key=value.` } };
    }
    if (Object.hasOwn(labels, key)) {
      return { ok: false, errors: { labels: `Line ${index + 1}: the label “${key}” is given twice.` } };
    }
    labels[key] = line.slice(at + 1).trim();
  }
  return { ok: true, value: labels };
}

/** labelsText shows labels one "key=value" a line, sorted by key (the form's text and the chips' order). */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return labelEntries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

/** labelEntries are a label map's entries sorted by key. */
export function labelEntries(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  labelsText(a) === labelsText(b) && Object.keys(a).length === Object.keys(b).length;

/** parseLocalDateTime reads a datetime-local value: null for "", "invalid" when it is not a date. */
export function parseLocalDateTime(value: string): Date | null | "invalid" {
  if (value.trim() === "") {
    return null;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value.trim())) {
    return "invalid";
  }
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? "invalid" : date;
}

/** toLocalDateTime formats a date as a datetime-local value in the browser's time zone (minutes). */
export function toLocalDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function checkName(name: string, errors: FieldErrors): void {
  const length = [...name.trim()].length;
  if (length < 2 || length > 200) {
    errors.name = "Enter a name of 2 to 200 characters.";
  }
}

type CreateKeyInit = MessageInitShape<typeof CreateKeyRequestSchema>;

/** ParsedForm is either a request or the errors that keep it from being sent. */
export type ParsedForm<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: FieldErrors };

/** createKeyRequestOf turns the create form into a CreateKeyRequest for `tenantId`. */
export function createKeyRequestOf(
  values: KeyFormValues,
  tenantId: string,
  now: Date,
): ParsedForm<CreateKeyInit> {
  const errors: FieldErrors = {};
  checkName(values.name, errors);
  const expires = parseLocalDateTime(values.expires);
  if (expires === "invalid") {
    errors.expires = "Enter a date and time.";
  } else if (expires !== null && expires.getTime() < now.getTime() + MIN_EXPIRY_AHEAD_MS) {
    errors.expires = "Choose a time at least a minute from now.";
  }
  const labels = parseLabels(values.labels);
  if (!labels.ok) {
    Object.assign(errors, labels.errors);
  }
  if (!labels.ok || Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    value: {
      tenantId,
      name: values.name.trim(),
      description: values.description.trim(),
      userId: values.userId.trim(),
      groupId: values.groupId,
      permissions: parsePermissions(values.permissions),
      ipAllowlist: parseAllowlist(values.ipAllowlist),
      labels: labels.value,
      ...(expires instanceof Date ? { expireTime: timestampFromDate(expires) } : {}),
    },
  };
}

/** keyFormOf fills the edit form with a key's current configuration. */
export function keyFormOf(key: Key): KeyFormValues {
  return {
    name: key.name,
    description: key.description,
    userId: key.userId,
    groupId: key.groupId,
    permissions: key.permissions.join(" "),
    expires: key.expireTime === undefined ? "" : toLocalDateTime(timestampDate(key.expireTime)),
    ipAllowlist: key.ipAllowlist.join("\n"),
    labels: labelsText(key.labels),
  };
}

/** KeyUpdate is an UpdateKey request's changed values and the mask naming them. */
export interface KeyUpdate {
  readonly paths: string[];
  readonly name: string;
  readonly description: string;
  readonly userId: string;
  readonly groupId: string;
  readonly permissions: string[];
  readonly ipAllowlist: string[];
  readonly labels: Record<string, string>;
  readonly expireTime?: Timestamp;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((entry, i) => entry === b[i]);

/**
 * keyUpdateOf compares the edit form with the key and names only what changed. The expiry may only move
 * earlier (the API refuses an extension or a removal: a possibly leaked secret never lives longer than it was
 * issued for); the form says so and points to Rotate instead of sending a request bound to fail.
 */
export function keyUpdateOf(key: Key, values: KeyFormValues, now: Date): ParsedForm<KeyUpdate> {
  const errors: FieldErrors = {};
  const paths: string[] = [];
  const name = values.name.trim();
  if (name !== key.name) {
    checkName(values.name, errors);
    paths.push("name");
  }
  const description = values.description.trim();
  if (description !== key.description) {
    paths.push("description");
  }
  const userId = values.userId.trim();
  if (userId !== key.userId) {
    paths.push("user_id");
  }
  if (values.groupId !== key.groupId) {
    paths.push("group_id");
  }
  const permissions = parsePermissions(values.permissions);
  if (!sameList(permissions, key.permissions)) {
    paths.push("permissions");
  }
  const ipAllowlist = parseAllowlist(values.ipAllowlist);
  if (!sameList(ipAllowlist, key.ipAllowlist)) {
    paths.push("ip_allowlist");
  }
  const labels = parseLabels(values.labels);
  if (!labels.ok) {
    Object.assign(errors, labels.errors);
  } else if (!sameLabels(labels.value, key.labels)) {
    // The API replaces the whole map.
    paths.push("labels");
  }
  let expireTime: Timestamp | undefined;
  if (values.expires !== keyFormOf(key).expires) {
    const expires = parseLocalDateTime(values.expires);
    const current = key.expireTime === undefined ? null : timestampDate(key.expireTime);
    if (expires === "invalid") {
      errors.expires = "Enter a date and time.";
    } else if (expires === null || (current !== null && expires.getTime() > current.getTime())) {
      errors.expires = "The expiry can only move earlier. To extend it or remove it, rotate the key.";
    } else if (expires.getTime() < now.getTime() + MIN_EXPIRY_AHEAD_MS) {
      errors.expires = "Choose a time at least a minute from now.";
    } else {
      expireTime = timestampFromDate(expires);
      paths.push("expire_time");
    }
  }
  if (!labels.ok || Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    value: {
      paths,
      name,
      description,
      userId,
      groupId: values.groupId,
      permissions,
      ipAllowlist,
      labels: labels.value,
      ...(expireTime === undefined ? {} : { expireTime }),
    },
  };
}
