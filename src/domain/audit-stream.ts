/** The audit stream port: what StreamAuditEvents asks of the process's stream hub (src/audit/). */
import { encodeAuditCursor, RESUME_CURSOR_FIELD } from "./audit-cursor.js";
import type { AuditEventRecord } from "./audit-event.js";
import type { AuditEventFilter } from "./audit-log.js";
import { DomainError } from "./errors.js";

/** AuditStreamStart says where a stream begins. */
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

/** AuditFollowRequest is one consumer's stream: where it starts and what it keeps. */
export interface AuditFollowRequest {
  readonly start: AuditStreamStart;
  readonly filter: AuditEventFilter;
  /** caller is the key id whose limit of open streams this counts against (unset: the process's only). */
  readonly caller?: string;
  /** signal ends the stream normally when aborted (the client went away). */
  readonly signal?: AbortSignal;
  /** onSlowConsumer hears at once that the consumer was cut off, for a transport whose writer is blocked. */
  readonly onSlowConsumer?: (error: DomainError) => void;
}

/** AuditStreamFollower is the process-wide source of audit streams, as the reading use cases see it. */
export interface AuditStreamFollower {
  /**
   * follow yields the stream. It throws invalidArgument("resume_cursor") for a malformed cursor or one
   * ahead of the newest event, AuditCursorExpiredError (OUT_OF_RANGE) when events after the start position
   * were removed by retention, a resource-exhausted error when the caller's or the process's limit of open
   * streams is reached (reason STREAM_LIMIT_PER_CALLER_REASON or STREAM_LIMIT_PER_PROCESS_REASON) or for a
   * slow consumer, an unavailable error when the process shuts down or the database cannot answer while
   * catching up.
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
