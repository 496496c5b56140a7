/**
 * Opaque keyset cursors for storage listings. A cursor carries the sort key of the last item of a page, so
 * the next page starts strictly after it: items created or deleted meanwhile never shift the window (unlike
 * skip/offset), and no pre-existing item is returned twice or skipped.
 */
import { type DomainError, invalidArgument } from "../domain/errors.js";

/** PAGE_TOKEN_FIELD is the request field a bad cursor is reported against. */
export const PAGE_TOKEN_FIELD = "page_token";

/** MAX_CURSOR_LENGTH bounds what is decoded at all, so a huge token costs nothing. */
const MAX_CURSOR_LENGTH = 2048;

/** encodeCursor turns a JSON-compatible position into an opaque URL-safe string. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/**
 * decodeCursor reads a cursor made by encodeCursor, or rejects it with an invalid-argument error (page_token):
 * anything that is not exactly a base64url JSON object goes no further, so a cursor can never inject a
 * query operator.
 */
export function decodeCursor(cursor: string): Record<string, unknown> {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidCursor();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidCursor();
  }
  return parsed as Record<string, unknown>;
}

/** cursorString reads a required string member of a decoded cursor. */
export function cursorString(position: Record<string, unknown>, name: string): string {
  const value = position[name];
  if (typeof value !== "string") {
    throw invalidCursor();
  }
  return value;
}

/** cursorTime reads a required millisecond timestamp member of a decoded cursor. */
export function cursorTime(position: Record<string, unknown>, name: string): Date {
  const value = position[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || Number.isNaN(new Date(value).getTime())) {
    throw invalidCursor();
  }
  return new Date(value);
}

/**
 * assertPageLimit catches a caller bug: the driver reads a limit of 0 as "no limit" and a negative one as
 * "one batch", so an unvalidated page size must never reach it (use cases validate page_size first).
 */
export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`a page limit must be a positive integer, got ${limit}`);
  }
}

function invalidCursor(): DomainError {
  return invalidArgument(PAGE_TOKEN_FIELD, "is not a valid page token");
}
