import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";

/** formatTime prints an instant as "YYYY-MM-DD HH:MM UTC", or the placeholder when unset. */
export function formatTime(time: Timestamp | Date | undefined, placeholder = "never"): string {
  if (time === undefined) {
    return placeholder;
  }
  const date = time instanceof Date ? time : timestampDate(time);
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** formatInstant prints an instant in full ISO 8601 (milliseconds, UTC), for logs and event lines. */
export function formatInstant(time: Timestamp | undefined): string {
  return time === undefined ? "-" : timestampDate(time).toISOString();
}
