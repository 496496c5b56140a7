/** The audit stream port: what StreamAuditEvents asks of the process's stream hub (src/audit/). */
import { encodeAuditCursor, RESUME_CURSOR_FIELD } from "./audit-cursor.js";
import type { AuditEventRecord } from "./audit-event.js";
import type { AuditEventFilter } from "./audit-log.js";
import { DomainError } from "./errors.js";

export type AuditStreamStart =
  /** now: only events committed after the stream started. */
  | { readonly kind: "now" }
  /** time: the first event at or after `time` (positioned with the time index). */
  | { readonly kind: "time"; readonly time: Date }
  /** cursor: right after the event or heartbeat that carried `cursor`. */
  | { readonly kind: "cursor"; readonly cursor: string };

/** AuditStreamItem is one message of a stream: an event with its cursor, or a heartbeat. */
export type AuditStreamItem =
  | { readonly type: "event"; readonly event: AuditEventRecord; readonly cursor: string }
  | { readonly type: "heartbeat"; readonly seq: number; readonly cursor: string; readonly time: Date };

export interface AuditFollowRequest {
  readonly start: AuditStreamStart;
  readonly filter: AuditEventFilter;
  /** caller is the key id whose limit of open streams this counts against (unset: the process's only). */
  readonly caller?: string;
  readonly signal?: AbortSignal;
  /** onSlowConsumer hears at once that the consumer was cut off, for a transport whose writer is blocked. */
  readonly onSlowConsumer?: (error: DomainError) => void;
}

/** AuditStreamFollower is the process-wide source of audit streams, as the reading use cases see it. */
export interface AuditStreamFollower {
  /**
   * follow throws invalidArgument for a bad cursor, AuditCursorExpiredError past retention,
   * resource_exhausted at a stream limit or for a slow consumer, unavailable at shutdown or database outage.
   */
  follow(request: AuditFollowRequest): AsyncGenerator<AuditStreamItem, void, undefined>;
}

/** AuditCursorExpiredError means the resume position is older than the retained events (OUT_OF_RANGE). */
export class AuditCursorExpiredError extends DomainError {
  /** earliestCursor is the oldest position that misses no retained event; a client may re-sync from it. */
  readonly earliestCursor: string;
  constructor(earliestSeq: number) {
    super(
      "out_of_range",
      `${RESUME_CURSOR_FIELD}: events after this cursor were removed by retention; resume from earliest_cursor`,
    );
    this.name = "AuditCursorExpiredError";
    this.earliestCursor = encodeAuditCursor(earliestSeq);
  }
}

/** SLOW_CONSUMER_REASON is the resource_exhausted reason of a consumer that did not keep up. */
export const SLOW_CONSUMER_REASON = "AUDIT_STREAM_SLOW_CONSUMER";

/** STREAM_LIMIT_PER_CALLER_REASON: the caller (its key) already has as many streams open as it may. */
export const STREAM_LIMIT_PER_CALLER_REASON = "AUDIT_STREAM_LIMIT_PER_CALLER";

/** STREAM_LIMIT_PER_PROCESS_REASON: the replica already serves as many streams as it may. */
export const STREAM_LIMIT_PER_PROCESS_REASON = "AUDIT_STREAM_LIMIT_PER_PROCESS";
