import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { isCalendarDateTime } from "../domain/validation.js";
import { usageError } from "./cli-error.js";

const durationPattern = /^(\d+)(ms|s|m|h|d|w)$/;
const unitMs: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
// A date, or a date and time with an optional offset; Date.parse alone accepts far too much ("1", "May").
const isoPattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** parseDurationMs parses "0", "90s", "15m", "24h", "7d", "2w" or "500ms" into milliseconds. */
export function parseDurationMs(value: string, option: string): number {
  const trimmed = value.trim();
  if (trimmed === "0") {
    return 0;
  }
  const match = durationPattern.exec(trimmed);
  if (match === null) {
    throw usageError(`invalid ${option} '${value}': use a duration like 90s, 15m, 24h or 7d`);
  }
  return Number(match[1]) * (unitMs[match[2] ?? "ms"] ?? 1);
}

/**
 * parseTimeInput parses an ISO 8601 time ("2025-12-31", "2025-12-31T23:00:00Z") or a duration relative to
 * now: in the future for "future" options like --expires ("30d" or "+30d"), in the past for "past" options
 * like --since ("1h" means one hour ago). A date or time without offset is read as UTC.
 */
export function parseTimeInput(value: string, option: string, now: Date, direction: "future" | "past"): Date {
  const trimmed = value.trim();
  const relative = trimmed.replace(/^[+]/, "");
  if (durationPattern.test(relative)) {
    const ms = parseDurationMs(relative, option);
    return new Date(now.getTime() + (direction === "future" ? ms : -ms));
  }
  if (isoPattern.test(trimmed)) {
    const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && trimmed.length > 10;
    const normalized = trimmed.replace(" ", "T");
    const parsed = Date.parse(
      hasOffset ? normalized : `${normalized}${normalized.length === 10 ? "T00:00:00" : ""}Z`,
    );
    if (!Number.isNaN(parsed) && isCalendarDateTime(trimmed)) {
      return new Date(parsed);
    }
  }
  const example = direction === "future" ? "30d" : "1h";
  throw usageError(
    `invalid ${option} '${value}': use an ISO 8601 time (2025-12-31T23:00:00Z) or a duration like ${example}`,
  );
}

/** timeRange reads --since and --until (ISO 8601, or a duration ago) as a request's start and end time. */
export function timeRange(
  options: { since?: string; until?: string },
  now: Date,
): { startTime?: Timestamp; endTime?: Timestamp } {
  const since =
    options.since === undefined ? undefined : parseTimeInput(options.since, "--since", now, "past");
  const until =
    options.until === undefined ? undefined : parseTimeInput(options.until, "--until", now, "past");
  return {
    ...(since === undefined ? {} : { startTime: timestampFromDate(since) }),
    ...(until === undefined ? {} : { endTime: timestampFromDate(until) }),
  };
}
