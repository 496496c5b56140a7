/**
 * Follows StreamAuditEvents and keeps following across dropped connections: every reconnect resumes right
 * after the last cursor received (an event's or a heartbeat's), so nothing is missed, and the events the
 * server may repeat around a reconnect (it delivers at least once) are dropped by event id, so nothing shows
 * twice. Errors a retry cannot fix (signed out, not allowed, bad request, cursor past retention) end it.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { AuditEvent, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import type { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";

/** FollowStatus is what the page shows about the connection. */
export type FollowStatus =
  | { readonly state: "connecting" }
  | { readonly state: "live" }
  | { readonly state: "reconnecting"; readonly error: ConnectError; readonly inMs: number }
  | { readonly state: "stopped"; readonly error: ConnectError };

/** AuditFollowOptions say what to follow and where to report. */
export interface AuditFollowOptions {
  readonly tenantId: string;
  readonly kinds: readonly AuditEventKind[];
  /** resumeCursor continues after a previous follow (a pause); "" starts with events from now on. */
  readonly resumeCursor: string;
  readonly signal: AbortSignal;
  onEvent(event: AuditEvent): void;
  onStatus(status: FollowStatus): void;
  /** onCursor reports every new resume position. */
  onCursor?(cursor: string): void;
  /** retryDelayMs is the wait before reconnect number `attempt` (1, 2…); default 0.5 s doubling to 10 s. */
  retryDelayMs?(attempt: number): number;
}

/** Codes that a reconnect cannot fix. */
const FINAL_CODES = new Set([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.InvalidArgument,
  Code.OutOfRange,
  Code.NotFound,
  Code.Unimplemented,
]);

/** How many recent event ids are remembered to drop repeats; repeats only happen around a reconnect. */
const REMEMBERED_EVENT_IDS = 5000;

const defaultDelay = (attempt: number) => Math.min(10_000, 500 * 2 ** (attempt - 1));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** followAuditEvents follows until `signal` aborts or a final error; resolves with the last cursor. */
export async function followAuditEvents(
  client: Client<typeof AuditService>,
  options: AuditFollowOptions,
): Promise<string> {
  const { signal } = options;
  const delay = options.retryDelayMs ?? defaultDelay;
  const seen = new Set<string>();
  let cursor = options.resumeCursor;
  let attempt = 0;
  const advance = (next: string) => {
    if (next !== "" && next !== cursor) {
      cursor = next;
      options.onCursor?.(cursor);
    }
  };
  while (!signal.aborted) {
    options.onStatus({ state: "connecting" });
    let failure: ConnectError;
    try {
      const stream = client.streamAuditEvents(
        {
          tenantId: options.tenantId,
          kinds: [...options.kinds],
          start: cursor === "" ? { case: undefined } : { case: "resumeCursor", value: cursor },
        },
        // The response headers say the server accepted the stream: it is live before the first event.
        { signal, onHeader: () => options.onStatus({ state: "live" }) },
      );
      for await (const message of stream) {
        attempt = 0;
        if (message.message.case === "event") {
          const event = message.message.value;
          if (!seen.has(event.eventId)) {
            seen.add(event.eventId);
            if (seen.size > REMEMBERED_EVENT_IDS) {
              const oldest = seen.values().next().value;
              if (oldest !== undefined) {
                seen.delete(oldest);
              }
            }
            options.onEvent(event);
          }
          advance(event.cursor);
        } else if (message.message.case === "heartbeat") {
          advance(message.message.value.cursor);
        }
      }
      // The server ended the stream (a restart, a drain): follow on from where it stopped.
      failure = new ConnectError("the stream ended", Code.Unavailable);
    } catch (error) {
      if (signal.aborted) {
        break;
      }
      failure = ConnectError.from(error);
    }
    if (FINAL_CODES.has(failure.code)) {
      options.onStatus({ state: "stopped", error: failure });
      return cursor;
    }
    attempt++;
    const inMs = delay(attempt);
    options.onStatus({ state: "reconnecting", error: failure, inMs });
    await sleep(inMs, signal);
  }
  return cursor;
}
