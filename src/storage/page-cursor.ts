/**
 * Opaque keyset cursors for storage listings: a cursor carries the sort key of a page's last item, so items
 * created or deleted meanwhile never shift the window.
 */
import { type DomainError, invalidArgument } from "../domain/errors.js";
import type { Page } from "../domain/ports.js";

export const PAGE_TOKEN_FIELD = "page_token";
const MAX_CURSOR_LENGTH = 2048;

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

/** decodeCursor accepts only a base64url JSON object (else page_token is invalid): no query operator gets in. */
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

export function cursorString(position: Record<string, unknown>, name: string): string {
  const value = position[name];
  if (typeof value !== "string") {
    throw invalidCursor();
  }
  return value;
}

export function cursorTime(position: Record<string, unknown>, name: string): Date {
  const value = position[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || Number.isNaN(new Date(value).getTime())) {
    throw invalidCursor();
  }
  return new Date(value);
}

/** assertNextVersion catches a caller bug: a replace must advance the version by exactly one. */
export function assertNextVersion(nextVersion: number, expectedVersion: number): void {
  if (nextVersion !== expectedVersion + 1) {
    throw new RangeError(`replace must write version ${expectedVersion + 1}, got ${nextVersion}`);
  }
}

/**
 * keysetPage reads a page of `limit` items through `query` (asked for one more, to learn whether more follow)
 * and gives the cursor of its last item when they do.
 */
export async function keysetPage<D, T>(
  limit: number,
  query: (limit: number) => Promise<D[]>,
  itemOf: (document: D) => T,
  positionOf: (last: T) => Record<string, string | number>,
): Promise<Page<T>> {
  assertPageLimit(limit);
  const documents = await query(limit + 1);
  const items = documents.slice(0, limit).map(itemOf);
  const last = items.at(-1);
  return {
    items,
    nextCursor: documents.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null,
  };
}

/** assertPageLimit catches a caller bug: the driver reads a limit of 0 as "no limit", a negative one as "one batch". */
function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`a page limit must be a positive integer, got ${limit}`);
  }
}

function invalidCursor(): DomainError {
  return invalidArgument(PAGE_TOKEN_FIELD, "is not a valid page token");
}
