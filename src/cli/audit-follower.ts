import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuditEvent, AuditEventKind } from "../gen/apikeys/v1/audit_pb.js";
import type {
  StreamAuditEventsRequest,
  StreamAuditEventsResponse,
} from "../gen/apikeys/v1/audit_service_pb.js";

/** AuditStreamFn opens StreamAuditEvents (the Connect client method, or a test double). */
export type AuditStreamFn = (
  request: Omit<StreamAuditEventsRequest, "$typeName" | "start"> & {
    start: StreamAuditEventsRequest["start"];
  },
  options: { signal: AbortSignal },
) => AsyncIterable<StreamAuditEventsResponse>;

export type AuditStart = { kind: "now" } | { kind: "time"; time: Date } | { kind: "cursor"; cursor: string };

/** ReconnectNotice tells the user why and when the follower reconnects. */
export interface ReconnectNotice {
  /** reason is a short description ("unavailable: …", "stream ended by the server", "no message for 30 s"). */
  readonly reason: string;
  readonly delayMs: number;
  /** cursor is where the next attempt resumes; null when nothing has been received yet. */
  readonly cursor: string | null;
  /** attempt counts consecutive failed attempts (1 for the first retry). */
  readonly attempt: number;
}

export interface AuditFollowOptions {
  readonly open: AuditStreamFn;
  readonly tenantId: string;
  readonly keyId: string;
  readonly kinds: readonly AuditEventKind[];
  readonly start: AuditStart;
  readonly onEvent: (event: AuditEvent) => void;
  /** onReconnect is told before every backoff wait. */
  readonly onReconnect: (notice: ReconnectNotice) => void;
  /** maxEvents stops after this many events (undefined: follow until interrupted). */
  readonly maxEvents?: number;
  readonly signal: AbortSignal;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now: () => Date;
  /** idleTimeoutMs reconnects when neither an event nor a heartbeat arrives for this long; default 30 s. */
  readonly idleTimeoutMs?: number;
  /** initialBackoffMs (default 250) doubles per failed attempt up to maxBackoffMs (default 10 s), with jitter. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly random?: () => number;
}

export interface AuditFollowResult {
  /** cursor resumes right after the last event or heartbeat received; null if none was. */
  readonly cursor: string | null;
  readonly events: number;
}

// Codes that end a stream for reasons a reconnect can cure: the server going away or restarting, a slow
// consumer cut off (RESOURCE_EXHAUSTED), a broken connection. Anything else (bad cursor, OUT_OF_RANGE,
// auth) would fail the same way again.
const retryableCodes: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.ResourceExhausted,
  Code.DeadlineExceeded,
  Code.Aborted,
  Code.Internal,
  Code.Unknown,
  Code.Canceled,
]);

/**
 * followAuditEvents follows StreamAuditEvents and keeps following: it remembers the cursor of the last event
 * or heartbeat, and when the stream fails with a retryable code, ends, or goes silent, it reconnects with
 * exponential backoff and resumes from that cursor — so nothing is missed (an event may repeat around a
 * reconnect, as the stream is at-least-once). Before any cursor is known, a reconnect restarts at the time
 * following began. Non-retryable errors are thrown as ConnectError.
 */
export async function followAuditEvents(options: AuditFollowOptions): Promise<AuditFollowResult> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const random = options.random ?? Math.random;
  let cursor: string | null = options.start.kind === "cursor" ? options.start.cursor : null;
  const startedAt = options.now();
  let delivered = 0;
  let attempt = 0;

  const startOf = (): StreamAuditEventsRequest["start"] => {
    if (cursor !== null) {
      return { case: "resumeCursor", value: cursor };
    }
    if (options.start.kind === "time") {
      return { case: "startTime", value: timestampFromDate(options.start.time) };
    }
    // "now" was asked for; on a reconnect before any cursor, "now" would skip what happened meanwhile.
    return attempt === 0 ? { case: undefined } : { case: "startTime", value: timestampFromDate(startedAt) };
  };

  while (!options.signal.aborted) {
    const attemptAbort = new AbortController();
    const stopAttempt = (): void => attemptAbort.abort();
    options.signal.addEventListener("abort", stopAttempt, { once: true });
    let idle = false;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        idle = true;
        attemptAbort.abort();
      }, idleTimeoutMs);
    };
    let reason: string;
    try {
      arm();
      const stream = options.open(
        { tenantId: options.tenantId, keyId: options.keyId, kinds: [...options.kinds], start: startOf() },
        { signal: attemptAbort.signal },
      );
      for await (const message of stream) {
        arm();
        if (message.message.case === "event") {
          const event = message.message.value;
          attempt = 0;
          if (event.cursor !== "") {
            cursor = event.cursor;
          }
          options.onEvent(event);
          delivered += 1;
          if (options.maxEvents !== undefined && delivered >= options.maxEvents) {
            return { cursor, events: delivered };
          }
        } else if (message.message.case === "heartbeat") {
          attempt = 0;
          if (message.message.value.cursor !== "") {
            cursor = message.message.value.cursor;
          }
        }
      }
      reason = "stream ended by the server";
    } catch (error) {
      if (options.signal.aborted) {
        break;
      }
      if (idle) {
        reason = `no event or heartbeat for ${idleTimeoutMs / 1000} s`;
      } else {
        const connectError = ConnectError.from(error);
        if (!retryableCodes.has(connectError.code)) {
          throw connectError;
        }
        reason = `${Code[connectError.code]?.toLowerCase() ?? "error"}: ${connectError.rawMessage}`;
      }
    } finally {
      clearTimeout(watchdog);
      options.signal.removeEventListener("abort", stopAttempt);
    }
    if (options.signal.aborted) {
      break;
    }
    attempt += 1;
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt - 1, 20));
    // Equal jitter: at least half the backoff, so many consumers do not reconnect in lockstep.
    const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
    options.onReconnect({ reason, delayMs, cursor, attempt });
    await options.sleep(delayMs, options.signal);
  }
  return { cursor, events: delivered };
}
