/**
 * The audit stream hub behind StreamAuditEvents: one tail poller per process fans batches out to the live
 * followers; a follower that starts behind the tail catches up on its own first. Guarantees and bounds are
 * in docs/audit.md §6.
 */
import { decodeAuditCursor, encodeAuditCursor, RESUME_CURSOR_FIELD } from "../domain/audit-cursor.js";
import type { AuditEventRecord } from "../domain/audit-event.js";
import { type AuditLog, matchesAuditEventFilter } from "../domain/audit-log.js";
import {
  AuditCursorExpiredError,
  type AuditFollowRequest,
  type AuditStreamFollower,
  type AuditStreamItem,
  type AuditStreamStart,
  SLOW_CONSUMER_REASON,
} from "../domain/audit-stream.js";
import { DomainError, invalidArgument } from "../domain/errors.js";
import { createAuditStreamSlots } from "./audit-stream-slots.js";
import { createFifoQueue } from "./fifo-queue.js";
import { createReadGate } from "./read-gate.js";

export type AuditStreamSource = Pick<
  AuditLog,
  "after" | "latestSeq" | "oldestSeq" | "firstSeqAtOrAfter" | "scan"
>;

export interface AuditStreamHubOptions {
  readonly log: AuditStreamSource;
  /** pollIntervalMs is the pause between tail polls that found nothing new (default 250). */
  readonly pollIntervalMs?: number;
  /** heartbeatMs is the idle time after which a follower yields a heartbeat (default 5000). */
  readonly heartbeatMs?: number;
  /** maxBufferedEvents bounds each live follower's queue of matching events (default 10000, >= batchSize). */
  readonly maxBufferedEvents?: number;
  /** batchSize bounds each poll and catch-up read (default 1000). */
  readonly batchSize?: number;
  /** maxStreams bounds the streams open at once (default 256). */
  readonly maxStreams?: number;
  /** maxStreamsPerCaller bounds the streams one caller (follow's `caller`) has open at once (default 16). */
  readonly maxStreamsPerCaller?: number;
  /** maxConcurrentReads bounds the database reads of all streams' starts and catch-ups at once (default 4). */
  readonly maxConcurrentReads?: number;
  /** onPollError hears about failed tail polls (the hub retries with backoff); it must not throw. */
  readonly onPollError?: (error: unknown) => void;
}

export interface AuditStreamHub extends AuditStreamFollower {
  activeFollowers(): number;
  /** close ends every stream with an unavailable error (clients resume elsewhere) and stops polling. */
  close(): void;
}

interface Subscriber {
  offer(events: readonly AuditEventRecord[]): void;
  fail(error: DomainError): void;
}

export function createAuditStreamHub(options: AuditStreamHubOptions): AuditStreamHub {
  const log = options.log;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const maxBufferedEvents = options.maxBufferedEvents ?? 10_000;
  const batchSize = options.batchSize ?? 1_000;
  const onPollError = options.onPollError;
  const slots = createAuditStreamSlots({
    maxStreams: options.maxStreams ?? 256,
    maxStreamsPerCaller: options.maxStreamsPerCaller ?? 16,
  });
  const reads = createReadGate(options.maxConcurrentReads ?? 4);
  if (!(heartbeatMs > 0) || !(batchSize >= 1) || !(pollIntervalMs >= 0)) {
    throw new RangeError("audit stream hub options must be positive");
  }
  if (!(maxBufferedEvents >= batchSize)) {
    // One poll offers up to batchSize events at once; a smaller bound would end every consumer.
    throw new RangeError("maxBufferedEvents must be at least batchSize");
  }

  const subscribers = new Set<Subscriber>();
  // position: every event with seq <= position has been offered to the live subscribers; null when idle.
  let position: number | null = null;
  // generation changes whenever the hub goes idle, so a poll that was in flight then is ignored.
  let generation = 0;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let pollScheduled = false;
  let pollFailures = 0;
  let active = 0;
  let closed = false;

  function schedulePoll(delayMs: number): void {
    if (pollScheduled) {
      clearTimeout(pollTimer);
    }
    pollScheduled = true;
    // unref: an idle poll never keeps the process alive.
    pollTimer = setTimeout(() => {
      pollScheduled = false;
      void poll();
    }, delayMs).unref();
  }

  async function poll(): Promise<void> {
    if (position === null || closed) {
      return;
    }
    const polledGeneration = generation;
    let events: AuditEventRecord[];
    try {
      events = await log.after(position, batchSize);
    } catch (error) {
      if (polledGeneration !== generation || closed) {
        return;
      }
      pollFailures += 1;
      if (onPollError !== undefined) {
        try {
          onPollError(error);
        } catch {
          // A failing hook must not stop the poller.
        }
      }
      schedulePoll(Math.min(5_000, Math.max(pollIntervalMs, 1) * 2 ** Math.min(pollFailures, 10)));
      return;
    }
    if (polledGeneration !== generation || closed) {
      return;
    }
    pollFailures = 0;
    const last = events[events.length - 1];
    if (last !== undefined) {
      // Advance first, then fan out in the same synchronous step: a follower that joins later compares its
      // own position with this one and can never fall between two deliveries.
      position = last.seq;
      for (const subscriber of subscribers) {
        subscriber.offer(events);
      }
    }
    schedulePoll(events.length === batchSize ? 0 : pollIntervalMs);
  }

  /** trySubscribe makes `subscriber` live if the hub has not moved past `from`; otherwise it must catch up. */
  function trySubscribe(subscriber: Subscriber, from: number): boolean {
    if (position === null) {
      position = from;
      subscribers.add(subscriber);
      schedulePoll(pollIntervalMs);
      return true;
    }
    if (from >= position) {
      subscribers.add(subscriber);
      return true;
    }
    return false;
  }

  function unsubscribe(subscriber: Subscriber): void {
    if (subscribers.delete(subscriber) && subscribers.size === 0) {
      position = null;
      generation += 1;
      pollFailures = 0;
      if (pollScheduled) {
        clearTimeout(pollTimer);
        pollScheduled = false;
      }
    }
  }

  async function resolveStart(start: AuditStreamStart, signal: AbortSignal | undefined): Promise<number> {
    const read = <T>(query: () => Promise<T>) => reads.run(query, signal);
    switch (start.kind) {
      case "now":
        return read(() => log.latestSeq());
      case "time": {
        // Latest first: if nothing is at/after the time yet, anything committed later is above it.
        const latest = await read(() => log.latestSeq());
        const first = await read(() => log.firstSeqAtOrAfter(start.time));
        return first === null ? latest : first - 1;
      }
      case "cursor": {
        const seq = decodeAuditCursor(start.cursor);
        const latest = await read(() => log.latestSeq());
        if (seq > latest) {
          throw invalidArgument(RESUME_CURSOR_FIELD, "is ahead of the newest audit event");
        }
        const earliest = earliestPosition(await read(() => log.oldestSeq()), latest);
        if (seq < earliest) {
          throw new AuditCursorExpiredError(earliest);
        }
        return seq;
      }
    }
  }

  async function* follow(request: AuditFollowRequest): AsyncGenerator<AuditStreamItem, void, undefined> {
    const { filter, signal } = request;
    const queue = createFifoQueue<AuditEventRecord>();
    let failure: DomainError | null = null;
    // enqueuedUpTo: every event with seq <= it has been queued (if it matched) or skipped.
    let enqueuedUpTo = 0;
    let wake: ((woken: boolean) => void) | null = null;
    let waitTimer: ReturnType<typeof setTimeout> | undefined;

    const wakeUp = () => {
      if (wake !== null) {
        const resolve = wake;
        wake = null;
        clearTimeout(waitTimer);
        resolve(true);
      }
    };
    const subscriber: Subscriber = {
      offer(events) {
        if (failure !== null) {
          return;
        }
        for (const event of events) {
          if (event.seq <= enqueuedUpTo) {
            continue;
          }
          enqueuedUpTo = event.seq;
          if (matchesAuditEventFilter(event, filter)) {
            if (queue.length() >= maxBufferedEvents) {
              const error = new DomainError(
                "resource_exhausted",
                `the audit stream consumer fell more than ${maxBufferedEvents} events behind; resume from the last cursor received`,
                { reason: SLOW_CONSUMER_REASON },
              );
              subscriber.fail(error);
              if (request.onSlowConsumer !== undefined) {
                try {
                  request.onSlowConsumer(error);
                } catch {
                  // The transport's hook must not break the hub's fan-out.
                }
              }
              return;
            }
            queue.push(event);
          }
        }
        wakeUp();
      },
      fail(error) {
        failure = error;
        queue.clear();
        unsubscribe(subscriber);
        wakeUp();
      },
    };
    const waitForOffer = (delayMs: number): Promise<boolean> =>
      new Promise((resolve) => {
        wake = resolve;
        waitTimer = setTimeout(
          () => {
            wake = null;
            resolve(false);
          },
          Math.max(0, delayMs),
        ).unref();
      });
    if (closed) {
      throw shuttingDown();
    }
    // Before anything is read: a refused stream costs the database nothing.
    const releaseSlot = slots.acquire(request.caller);
    const onAbort = () => wakeUp();
    signal?.addEventListener("abort", onAbort);
    active += 1;
    try {
      const read = <T>(query: () => Promise<T>) => reads.run(query, signal);
      let delivered = await resolveStart(request.start, signal);
      let lastYieldMs = Date.now();
      const heartbeat = (seq: number): AuditStreamItem => {
        lastYieldMs = Date.now();
        return { type: "heartbeat", seq, cursor: encodeAuditCursor(seq), time: new Date(lastYieldMs) };
      };

      // Catch up on our own (paced by the consumer) until we have read up to the newest seq, then join the
      // hub. Joining earlier would let the hub push a long backlog at once and end us as a slow consumer.
      enqueuedUpTo = delivered;
      let caughtUp = request.start.kind === "now";
      while (!(caughtUp && trySubscribe(subscriber, delivered))) {
        if (signal?.aborted) {
          return;
        }
        if (closed) {
          throw shuttingDown();
        }
        const upTo = await read(() => log.latestSeq());
        const from = delivered;
        const events = await read(() =>
          log.scan({ afterSeq: from, upToSeq: upTo, filter, limit: batchSize }),
        );
        // Retention check after the scan: deletion only moves the oldest seq up, so if the oldest retained
        // event is still at most delivered + 1 now, the scan saw everything after `delivered`. Otherwise
        // something may be gone: say so rather than skip it silently.
        const earliest = earliestPosition(await read(() => log.oldestSeq()), upTo);
        if (delivered < earliest) {
          throw new AuditCursorExpiredError(earliest);
        }
        for (const event of events) {
          delivered = event.seq;
          lastYieldMs = Date.now();
          yield { type: "event", event, cursor: encodeAuditCursor(event.seq) };
        }
        caughtUp = events.length < batchSize;
        if (caughtUp) {
          // Everything up to `upTo` was scanned; the rest did not match.
          delivered = Math.max(delivered, upTo);
        }
        enqueuedUpTo = delivered;
        if (Date.now() - lastYieldMs >= heartbeatMs) {
          yield heartbeat(delivered);
        }
      }

      // Live: the hub offers every new batch; we yield what matched.
      for (;;) {
        if (failure !== null) {
          throw failure;
        }
        const event = queue.shift();
        if (event !== undefined) {
          lastYieldMs = Date.now();
          yield { type: "event", event, cursor: encodeAuditCursor(event.seq) };
          continue;
        }
        if (signal?.aborted) {
          return;
        }
        const woken = await waitForOffer(heartbeatMs - (Date.now() - lastYieldMs));
        if (!woken && failure === null && queue.length() === 0 && !signal?.aborted) {
          yield heartbeat(enqueuedUpTo);
        }
      }
    } finally {
      active -= 1;
      releaseSlot();
      signal?.removeEventListener("abort", onAbort);
      if (wake !== null) {
        clearTimeout(waitTimer);
        wake = null;
      }
      unsubscribe(subscriber);
    }
  }

  return {
    follow,
    activeFollowers: () => active,
    close() {
      if (closed) {
        return;
      }
      closed = true;
      for (const subscriber of [...subscribers]) {
        subscriber.fail(shuttingDown());
      }
      if (pollScheduled) {
        clearTimeout(pollTimer);
        pollScheduled = false;
      }
    },
  };
}

/**
 * earliestPosition is the oldest position that misses no retained event: just before the oldest retained
 * seq, or the latest seq when retention removed everything.
 */
function earliestPosition(oldest: number | null, latest: number): number {
  return oldest === null ? latest : oldest - 1;
}

function shuttingDown(): DomainError {
  return new DomainError(
    "unavailable",
    "the audit stream is shutting down; resume from the last cursor received",
  );
}
