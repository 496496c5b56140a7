/**
 * BufferedAuditSink: the AuditSink VerifyKey and the admin use cases write into. One ordered queue holds both
 * kinds of event and a background writer stores it in batches, one append in flight: usage events are
 * best-effort and bounded, admin events are durable before the mutation answers, and
 * `emitted = persisted + dropped + buffered` always holds (docs/audit.md §1).
 */
import type { NewAuditEvent } from "../domain/audit-event.js";
import { DomainError } from "../domain/errors.js";
import type { AuditEventStore, AuditSink } from "../domain/ports.js";
import { createFifoQueue } from "./fifo-queue.js";

/** AuditSinkCounters is a snapshot of the sink's accounting: emitted = persisted + dropped + buffered. */
export interface AuditSinkCounters {
  readonly emitted: number;
  readonly persisted: number;
  readonly dropped: number;
  readonly buffered: number;
  /** appendFailures counts rejected appends (each is retried; not a count of events). */
  readonly appendFailures: number;
  /** adminPending counts admin events waiting to be stored (part of `buffered`). */
  readonly adminPending: number;
  /** givenUp counts usage events dropped after failing alone maxEventAttempts times (part of `dropped`). */
  readonly givenUp: number;
  readonly batchLimit: number;
}

export interface AuditSinkErrorContext {
  readonly consecutiveFailures: number;
  readonly batchSize: number;
  readonly nextBatchLimit: number;
  readonly retryInMs: number;
}

export interface BufferedAuditSinkOptions {
  readonly store: AuditEventStore;
  /** maxBuffered bounds the usage events held (including those being written); beyond it emits are dropped. */
  readonly maxBuffered: number;
  /** maxBatch bounds the events of one append (one database write). */
  readonly maxBatch: number;
  /** flushIntervalMs is how long a partial batch of usage events may wait; admin events are written at once. */
  readonly flushIntervalMs: number;
  /** maxAdminPending bounds the admin events waiting to be stored (default 1000); see checkAdminBacklog. */
  readonly maxAdminPending?: number;
  /** maxEventAttempts is how often a usage event may fail alone before it is given up (default 8). */
  readonly maxEventAttempts?: number;
  /** retryBaseMs is the first backoff after a failed append (default 100), doubling up to retryMaxMs. */
  readonly retryBaseMs?: number;
  /** retryMaxMs caps the backoff (default 5000). */
  readonly retryMaxMs?: number;
  /** onError hears about every failed append (the events are kept and retried); it must not throw. */
  readonly onError?: (error: unknown, context: AuditSinkErrorContext) => void;
  readonly random?: () => number;
}

export interface AuditSinkFlushOptions {
  /** timeoutMs bounds the wait (default 5000); events still buffered then stay buffered and counted. */
  readonly timeoutMs?: number;
}

export interface BufferedAuditSink extends AuditSink {
  counters(): AuditSinkCounters;
  /** flush writes everything buffered now, resolving when the queue is empty or the timeout passed. */
  flush(options?: AuditSinkFlushOptions): Promise<AuditSinkCounters>;
  /**
   * close stops accepting usage events (later emits are dropped and counted) and flushes with the timeout.
   * What is still buffered then stays counted as buffered; the writer keeps retrying it in the background.
   */
  close(options?: AuditSinkFlushOptions): Promise<AuditSinkCounters>;
}

const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;
// How many appends in a row must succeed before a halved batch size doubles.
const GROW_AFTER_SUCCESSES = 8;
// What the single pending timer is for: a partial batch's wait, an immediate write, or a backoff.
enum TimerKind {
  None = 0,
  Interval = 1,
  Immediate = 2,
  Backoff = 3,
}

type Waiter = () => void;

export function createBufferedAuditSink(options: BufferedAuditSinkOptions): BufferedAuditSink {
  const { store, maxBuffered, maxBatch, flushIntervalMs } = options;
  if (!Number.isSafeInteger(maxBuffered) || maxBuffered < 1) {
    throw new RangeError("maxBuffered must be a positive integer");
  }
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError("maxBatch must be a positive integer");
  }
  if (!(flushIntervalMs >= 0)) {
    throw new RangeError("flushIntervalMs must be >= 0");
  }
  const maxAdminPending = Math.max(1, options.maxAdminPending ?? 1_000);
  const maxEventAttempts = Math.max(1, options.maxEventAttempts ?? 8);
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = Math.max(options.retryMaxMs ?? 5_000, retryBaseMs);
  const random = options.random ?? Math.random;
  const onError = options.onError;

  // The queue, in decision order; an admin event's waiter stands beside it (undefined for usage events).
  const events = createFifoQueue<NewAuditEvent>();
  const waiters = createFifoQueue<Waiter | undefined>();
  let usageCount = 0;
  let adminCount = 0;
  let inFlight = 0;
  let batchLimit = maxBatch;
  let emitted = 0;
  let persisted = 0;
  let dropped = 0;
  let givenUp = 0;
  let appendFailures = 0;
  let consecutiveFailures = 0;
  let consecutiveSuccesses = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerKind = TimerKind.None;
  // Resolvers of pending flush() calls; while any exists, batches are written back to back.
  let drainWaiters: Array<() => void> = [];

  const buffered = () => events.length();

  function schedule(kind: TimerKind, delayMs: number): void {
    if (timerKind !== TimerKind.None) {
      clearTimeout(timer);
    }
    timerKind = kind;
    // unref: a pending write never keeps the process alive; shutdown flushes explicitly.
    timer = setTimeout(onTimer, delayMs).unref();
  }

  function onTimer(): void {
    timerKind = TimerKind.None;
    timer = undefined;
    writeNextBatch();
  }

  /**
   * scheduleWrite writes at once when a full batch, an admin event or a flush is waiting, otherwise after the
   * interval (unless a timer is already pending).
   */
  function scheduleWrite(): void {
    if (buffered() - inFlight >= batchLimit || adminCount > 0 || drainWaiters.length > 0) {
      schedule(TimerKind.Immediate, 0);
    } else if (timerKind === TimerKind.None) {
      schedule(TimerKind.Interval, flushIntervalMs);
    }
  }

  /** scheduleNext decides the next write once no append is in flight (and no backoff is pending). */
  function scheduleNext(): void {
    if (buffered() === 0) {
      if (timerKind !== TimerKind.None) {
        clearTimeout(timer);
        timerKind = TimerKind.None;
      }
      const resolvers = drainWaiters;
      drainWaiters = [];
      for (const resolve of resolvers) {
        resolve();
      }
      return;
    }
    scheduleWrite();
  }

  /** nudge starts a write soon after an enqueue, unless one is in flight or a backoff is running. */
  function nudge(): void {
    if (inFlight > 0 || timerKind === TimerKind.Backoff || timerKind === TimerKind.Immediate) {
      return;
    }
    scheduleWrite();
  }

  function writeNextBatch(): void {
    if (inFlight > 0 || buffered() === 0) {
      return;
    }
    const size = Math.min(buffered(), batchLimit);
    const batch = events.peek(size);
    inFlight = size;
    let pending: Promise<void>;
    try {
      pending = store.append(batch);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      () => onPersisted(size),
      (error: unknown) => onFailed(error, size),
    );
  }

  /** removeHead takes `size` events off the queue, releasing the waiters of admin events among them. */
  function removeHead(size: number, stored: boolean): void {
    for (let i = 0; i < size; i++) {
      events.shift();
      const waiter = waiters.shift();
      if (waiter === undefined) {
        usageCount -= 1;
      } else {
        adminCount -= 1;
        waiter();
      }
    }
    if (stored) {
      persisted += size;
    }
  }

  function onPersisted(size: number): void {
    inFlight = 0;
    removeHead(size, true);
    consecutiveFailures = 0;
    consecutiveSuccesses += 1;
    if (batchLimit < maxBatch && consecutiveSuccesses >= GROW_AFTER_SUCCESSES) {
      batchLimit = Math.min(maxBatch, batchLimit * 2);
      consecutiveSuccesses = 0;
    }
    scheduleNext();
  }

  function onFailed(error: unknown, size: number): void {
    inFlight = 0;
    appendFailures += 1;
    consecutiveFailures += 1;
    consecutiveSuccesses = 0;
    batchLimit = Math.max(1, Math.floor(size / 2));
    if (size === 1 && consecutiveFailures >= maxEventAttempts && waiters.peek(1)[0] === undefined) {
      // One usage event keeps failing on its own: give it up so the log behind it moves on.
      removeHead(1, false);
      dropped += 1;
      givenUp += 1;
      consecutiveFailures = 0;
    }
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(consecutiveFailures - 1, 30));
    // "Equal jitter": at least half the ceiling, so replicas that failed together do not retry together.
    const retryInMs = Math.max(0, Math.round(ceiling / 2 + (random() * ceiling) / 2));
    schedule(TimerKind.Backoff, retryInMs);
    if (onError !== undefined) {
      try {
        onError(error, { consecutiveFailures, batchSize: size, nextBatchLimit: batchLimit, retryInMs });
      } catch {
        // A failing error hook must not stop the writer.
      }
    }
  }

  function counters(): AuditSinkCounters {
    return {
      emitted,
      persisted,
      dropped,
      buffered: buffered(),
      appendFailures,
      adminPending: adminCount,
      givenUp,
      batchLimit,
    };
  }

  function waitForDrain(timeoutMs: number): Promise<AuditSinkCounters> {
    if (buffered() === 0) {
      return Promise.resolve(counters());
    }
    return new Promise((resolve) => {
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(deadline);
        drainWaiters = drainWaiters.filter((waiter) => waiter !== done);
        resolve(counters());
      };
      drainWaiters.push(done);
      deadline = setTimeout(done, timeoutMs).unref();
      nudge();
    });
  }

  return {
    emit(event: NewAuditEvent): void {
      emitted += 1;
      if (closed || usageCount >= maxBuffered) {
        dropped += 1;
        return;
      }
      events.push(event);
      waiters.push(undefined);
      usageCount += 1;
      nudge();
    },
    checkAdminBacklog(): void {
      if (adminCount >= maxAdminPending) {
        throw new DomainError(
          "unavailable",
          `the audit log is ${adminCount} admin events behind; the change was not applied, try again`,
        );
      }
    },
    record(event: NewAuditEvent): Promise<void> {
      emitted += 1;
      adminCount += 1;
      events.push(event);
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        nudge();
      });
    },
    counters,
    flush(flushOptions?: AuditSinkFlushOptions): Promise<AuditSinkCounters> {
      return waitForDrain(flushOptions?.timeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS);
    },
    close(flushOptions?: AuditSinkFlushOptions): Promise<AuditSinkCounters> {
      closed = true;
      return waitForDrain(flushOptions?.timeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS);
    },
  };
}
