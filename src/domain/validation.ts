/** Request field validation: each validator throws invalidArgument(field, …) or returns what to store. */
import { invalidArgument } from "./errors.js";
import { isGroupId } from "./ids.js";
import type { KeyFormat } from "./key-format.js";

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const PERMISSION_PATTERN = /^[a-z0-9]+(?:[.:_-][a-z0-9]+)*$/;
export const MAX_PERMISSION_LENGTH = 128;
export const MAX_PERMISSIONS = 100;
export const MAX_REQUIRED_PERMISSIONS = 32;
// Text lengths count code points (names after trimming).
export const MIN_NAME_LENGTH = 2;
export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 1000;
export const MAX_USER_ID_LENGTH = 128;
export const MAX_REQUEST_ID_LENGTH = 255;
export const MAX_NAME_QUERY_LENGTH = 200;
/** MAX_ENDPOINT_BYTES is the longest VerifyKey endpoint, in UTF-8 bytes. */
export const MAX_ENDPOINT_BYTES = 256;
/** DEFAULT_PAGE_SIZE is the page size used when a request asks for 0. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
// An expiry lies one minute to 10 years (3653 days) ahead; a rotation overlap lasts at most 7 days.
export const MIN_KEY_LIFETIME_MS = 60_000;
export const MAX_KEY_LIFETIME_MS = 3653 * 86_400_000;
export const MAX_ROTATION_OVERLAP_MS = 7 * 86_400_000;

// Protobuf Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;
// Protobuf Duration range: ±10,000 years.
const MAX_DURATION_SECONDS = 315_576_000_000n;

// Matches the first character a text field may not hold: \p{Cc} is exactly C0, DEL and C1; \p{Cf} every format
// character (bidi controls, zero-width characters, tags…); \p{Zl} and \p{Zp} U+2028 and U+2029. The `u` flag
// makes \p{Cs} match lone surrogates, which are not text and cannot be stored as UTF-8. The Hangul fillers
// render as blanks, so a name of them looks empty.
const FORBIDDEN_SINGLE_LINE = /\p{Cc}|\p{Cf}|\p{Cs}|\p{Zl}|\p{Zp}|[\u115f\u1160\u3164\uffa0\ufffe\uffff]/u;
const FORBIDDEN_MULTI_LINE =
  /(?![\t\n])\p{Cc}|\p{Cf}|\p{Cs}|\p{Zl}|\p{Zp}|[\u115f\u1160\u3164\uffa0\ufffe\uffff]/u;

const CHARACTER_NAMES: Readonly<Record<number, string>> = {
  0: "NUL",
  9: "tab",
  10: "line feed",
  13: "carriage return",
  173: "soft hyphen",
  1564: "arabic letter mark",
  8203: "zero width space",
  8204: "zero width non-joiner",
  8205: "zero width joiner",
  8206: "left-to-right mark",
  8207: "right-to-left mark",
  8232: "line separator",
  8233: "paragraph separator",
  8234: "left-to-right embedding",
  8235: "right-to-left embedding",
  8236: "pop directional formatting",
  8237: "left-to-right override",
  8238: "right-to-left override",
  8294: "left-to-right isolate",
  8295: "right-to-left isolate",
  8296: "first strong isolate",
  8297: "pop directional isolate",
  65279: "byte order mark",
};

function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = CHARACTER_NAMES[codePoint];
  return name === undefined ? hex : `${hex} (${name})`;
}

function rejectForbidden(value: string, field: string, pattern: RegExp): void {
  const match = pattern.exec(value);
  if (match !== null) {
    const codePoint = match[0].codePointAt(0) as number;
    throw invalidArgument(
      field,
      `contains ${describeCharacter(codePoint)} at position ${codePointLength(value.slice(0, match.index))}; control and invisible formatting characters are not allowed`,
    );
  }
}

export function codePointLength(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
      }
    }
    count++;
  }
  return count;
}

// A string this many times longer than its limit (in UTF-16 units) is refused before any scan or
// normalisation; NFC never shrinks text by more than a small factor, and code points take ≤ 2 units.
function rejectFarTooLong(value: string, field: string, max: number, unit: string): void {
  if (value.length > max * 4) {
    throw invalidArgument(field, `must be at most ${max} ${unit}`);
  }
}

export function requireString(value: unknown, field: string): asserts value is string {
  if (typeof value !== "string") {
    throw invalidArgument(field, "must be a string");
  }
}

/** validateTenantId checks a tenant id from a request; the system tenant can never be named by one. */
export function validateTenantId(value: string, field = "tenant_id"): string {
  requireString(value, field);
  if (value === "") {
    throw invalidArgument(field, "is required");
  }
  if (value.startsWith("_system")) {
    throw invalidArgument(field, `${JSON.stringify(value.slice(0, 64))} is reserved`);
  }
  if (!TENANT_ID_PATTERN.test(value)) {
    throw invalidArgument(
      field,
      "must be 1-64 characters of lowercase letters, digits, '-' and '_', starting with a letter or digit",
    );
  }
  return value;
}

/** validateName refuses forbidden characters even at the ends ("name\n" is an error), then trims. */
export function validateName(value: string, field = "name"): string {
  requireString(value, field);
  rejectFarTooLong(value, field, MAX_NAME_LENGTH, "characters");
  rejectForbidden(value, field, FORBIDDEN_SINGLE_LINE);
  const name = value.trim().normalize("NFC");
  const length = codePointLength(name);
  if (length < MIN_NAME_LENGTH || length > MAX_NAME_LENGTH) {
    throw invalidArgument(
      field,
      length === 0
        ? "is required"
        : `must be ${MIN_NAME_LENGTH}-${MAX_NAME_LENGTH} characters after trimming, got ${length}`,
    );
  }
  return name;
}

function validateMultiLineText(value: string, field: string, max: number): string {
  requireString(value, field);
  rejectFarTooLong(value, field, max, "characters");
  // Text areas submit CRLF; storing LF keeps one representation. A lone CR stays and is refused below.
  const text = value.replaceAll("\r\n", "\n");
  rejectForbidden(text, field, FORBIDDEN_MULTI_LINE);
  const normalised = text.normalize("NFC");
  const length = codePointLength(normalised);
  if (length > max) {
    throw invalidArgument(field, `must be at most ${max} characters, got ${length}`);
  }
  return normalised;
}

export function validateDescription(value: string, field = "description"): string {
  return validateMultiLineText(value, field, MAX_DESCRIPTION_LENGTH);
}

/** validateReason checks a revoke or disable reason with the description rules. */
export function validateReason(value: string, field = "reason"): string {
  return validateMultiLineText(value, field, MAX_DESCRIPTION_LENGTH);
}

/** validateUserId checks an optional user id ("" = none), an identifier: never trimmed or normalised. */
export function validateUserId(value: string, field = "user_id"): string {
  requireString(value, field);
  if (value === "") {
    return value;
  }
  rejectFarTooLong(value, field, MAX_USER_ID_LENGTH, "characters");
  rejectForbidden(value, field, FORBIDDEN_SINGLE_LINE);
  const length = codePointLength(value);
  if (length > MAX_USER_ID_LENGTH) {
    throw invalidArgument(field, `must be at most ${MAX_USER_ID_LENGTH} characters, got ${length}`);
  }
  if (value.trim() !== value) {
    throw invalidArgument(field, "must not start or end with whitespace");
  }
  return value;
}

export function validatePermission(value: string, field = "permission"): string {
  const problem = permissionProblem(value);
  if (problem !== null) {
    throw invalidArgument(field, problem);
  }
  return value;
}

/** permissionProblem says what is wrong with a permission, or null when it is valid. */
function permissionProblem(value: string): string | null {
  if (typeof value !== "string") {
    return "must be a string";
  }
  if (value.length > MAX_PERMISSION_LENGTH) {
    return `must be at most ${MAX_PERMISSION_LENGTH} characters`;
  }
  if (!PERMISSION_PATTERN.test(value)) {
    return `${JSON.stringify(value)} must be lowercase letters and digits in segments joined by '.', ':', '-' or '_' (for example "orders:read")`;
  }
  return null;
}

function validatePermissionList(values: readonly string[], field: string, max: number): string[] {
  if (values.length > max) {
    throw invalidArgument(field, `has ${values.length} entries; at most ${max} are allowed`);
  }
  for (let i = 0; i < values.length; i++) {
    const problem = permissionProblem(values[i] as string);
    if (problem !== null) {
      throw invalidArgument(`${field}[${i}]`, problem);
    }
  }
  // VerifyKey calls mostly name none or one: nothing to deduplicate or sort.
  return values.length < 2 ? [...values] : [...new Set(values)].sort();
}

/** validatePermissions returns a key's or group's permissions deduplicated and sorted. */
export function validatePermissions(values: readonly string[], field = "permissions"): string[] {
  return validatePermissionList(values, field, MAX_PERMISSIONS);
}

/** validateRequiredPermissions returns a VerifyKey request's permissions deduplicated and sorted. */
export function validateRequiredPermissions(
  values: readonly string[],
  field = "required_permissions",
): string[] {
  return validatePermissionList(values, field, MAX_REQUIRED_PERMISSIONS);
}

const PRINTABLE_ASCII = /^[\u0020-\u007e]+$/;

/** validateRequestId checks an optional client request id ("" = none: null). */
export function validateRequestId(value: string, field = "request_id"): string | null {
  requireString(value, field);
  if (value === "") {
    return null;
  }
  if (value.length > MAX_REQUEST_ID_LENGTH) {
    throw invalidArgument(field, `must be at most ${MAX_REQUEST_ID_LENGTH} characters, got ${value.length}`);
  }
  if (!PRINTABLE_ASCII.test(value)) {
    throw invalidArgument(field, "must be printable ASCII characters only");
  }
  return value;
}

export function validateExpiry(value: Date, now: Date, field = "expire_time"): Date {
  const time = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(time)) {
    throw invalidArgument(field, "is not a valid timestamp");
  }
  if (time < now.getTime() + MIN_KEY_LIFETIME_MS) {
    throw invalidArgument(
      field,
      `must be at least one minute in the future (${new Date(now.getTime() + MIN_KEY_LIFETIME_MS).toISOString()} or later)`,
    );
  }
  if (time > now.getTime() + MAX_KEY_LIFETIME_MS) {
    throw invalidArgument(
      field,
      `must be at most 10 years in the future (${new Date(now.getTime() + MAX_KEY_LIFETIME_MS).toISOString()} or earlier)`,
    );
  }
  return new Date(time);
}

// The date and time-of-day fields at the start of ISO 8601 / RFC 3339 text ("2030-02-28", "2030-02-28T23:59",
// "2030-02-28 23:59:59.5+01:00").
const DATE_TIME_FIELDS = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2}))?)?/;

/**
 * isCalendarDateTime tells whether text starting with an ISO 8601 date (optionally followed by a time of day)
 * names a day the calendar has (month 1-12, a day the month has, leap years counted) and a time the day has
 * (hour 0-23, minute and second 0-59). Date.parse and protobuf-es's JSON Timestamp reader roll impossible
 * fields over instead — "2030-02-30" becomes 2030-03-02, "T24:00" the next day — so every parser of time
 * text checks this first. False for text that does not start with a date.
 */
export function isCalendarDateTime(text: string): boolean {
  const fields = DATE_TIME_FIELDS.exec(text);
  if (fields === null) {
    return false;
  }
  const [year, month, day, hour, minute, second] = fields.slice(1, 7).map((f) => Number(f ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days;
}

/** timestampToDate refuses the Timestamp parts the binary decoder lets through out of range; drops sub-ms. */
export function timestampToDate(seconds: bigint, nanos: number, field = "expire_time"): Date {
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    throw invalidArgument(field, "is outside the timestamp range 0001-01-01 to 9999-12-31");
  }
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw invalidArgument(field, "has nanos outside 0 to 999,999,999");
  }
  return new Date(Number(seconds) * 1000 + Math.floor(nanos / 1_000_000));
}

/** durationToMs refuses the Duration parts the binary decoder lets through out of range; drops sub-ms. */
export function durationToMs(seconds: bigint, nanos: number, field = "overlap"): number {
  if (seconds < -MAX_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    throw invalidArgument(field, "is outside the duration range of ±10,000 years");
  }
  if (!Number.isInteger(nanos) || nanos < -999_999_999 || nanos > 999_999_999) {
    throw invalidArgument(field, "has nanos outside ±999,999,999");
  }
  if ((seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0)) {
    throw invalidArgument(field, "has seconds and nanos of different signs");
  }
  return Number(seconds) * 1000 + Math.trunc(nanos / 1_000_000);
}

/**
 * validateRotationOverlap bounds how long a superseded secret keeps working, never past `keyExpiresAt`:
 * refused rather than clamped, so the caller learns it would not get the overlap it asked for.
 */
export function validateRotationOverlap(
  overlapMs: number,
  now: Date,
  keyExpiresAt: Date | null,
  field = "overlap",
): number {
  if (!Number.isFinite(overlapMs) || overlapMs < 0) {
    throw invalidArgument(field, "must not be negative");
  }
  if (overlapMs > MAX_ROTATION_OVERLAP_MS) {
    throw invalidArgument(field, `must be at most 7 days (${MAX_ROTATION_OVERLAP_MS / 1000} s)`);
  }
  if (overlapMs > 0 && keyExpiresAt !== null && now.getTime() + overlapMs > keyExpiresAt.getTime()) {
    const leftSeconds = Math.max(0, Math.floor((keyExpiresAt.getTime() - now.getTime()) / 1000));
    throw invalidArgument(
      field,
      `would last beyond the key's expiry at ${keyExpiresAt.toISOString()}; use at most ${leftSeconds} s or a later expire_time`,
    );
  }
  return overlapMs;
}

export function validatePageSize(value: number, field = "page_size"): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw invalidArgument(field, `must be between 1 and ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`);
  }
  return value === 0 ? DEFAULT_PAGE_SIZE : value;
}

/** validateNameQuery checks a name search text ("" = no filter: null), normalised like stored names. */
export function validateNameQuery(value: string, field = "name_query"): string | null {
  requireString(value, field);
  if (value === "") {
    return null;
  }
  rejectFarTooLong(value, field, MAX_NAME_QUERY_LENGTH, "characters");
  rejectForbidden(value, field, FORBIDDEN_SINGLE_LINE);
  const query = value.normalize("NFC");
  const length = codePointLength(query);
  if (length > MAX_NAME_QUERY_LENGTH) {
    throw invalidArgument(field, `must be at most ${MAX_NAME_QUERY_LENGTH} characters, got ${length}`);
  }
  return query;
}

/** validateEndpoint checks a VerifyKey endpoint ("GET /api/products"); hot path: length comes first. */
export function validateEndpoint(value: string, field = "endpoint"): string {
  requireString(value, field);
  // UTF-8 needs at least one byte per UTF-16 unit, so a longer string is over the limit without counting.
  if (value.length > MAX_ENDPOINT_BYTES || Buffer.byteLength(value, "utf8") > MAX_ENDPOINT_BYTES) {
    throw invalidArgument(field, `must be at most ${MAX_ENDPOINT_BYTES} bytes`);
  }
  rejectForbidden(value, field, FORBIDDEN_SINGLE_LINE);
  return value;
}

export function validateKeyId(
  value: string,
  format: Pick<KeyFormat, "isKeyId" | "prefix">,
  field = "key_id",
): string {
  requireString(value, field);
  if (value === "") {
    throw invalidArgument(field, "is required");
  }
  if (!format.isKeyId(value)) {
    throw invalidArgument(
      field,
      `is not a key id of this service (${format.prefix} followed by 16 letters and digits)`,
    );
  }
  return value;
}

export function validateGroupId(value: string, field = "group_id"): string {
  requireString(value, field);
  if (value === "") {
    throw invalidArgument(field, "is required");
  }
  if (!isGroupId(value)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(value.slice(0, 40))} is not a group id (grp_ followed by 16 letters and digits)`,
    );
  }
  return value;
}

/** validateSingleLineText checks free single-line text such as a label value: NFC, untrimmed, "" allowed. */
export function validateSingleLineText(value: string, field: string, maxBytes: number): string {
  requireString(value, field);
  rejectFarTooLong(value, field, maxBytes, "bytes");
  rejectForbidden(value, field, FORBIDDEN_SINGLE_LINE);
  const text = value.normalize("NFC");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    throw invalidArgument(field, `must be at most ${maxBytes} UTF-8 bytes, got ${bytes}`);
  }
  return text;
}
