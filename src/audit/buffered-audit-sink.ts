/**
 * BufferedAuditSink: the AuditSink VerifyKey and the admin use cases emit into. It never blocks its caller:
 * `emit` stores the event in a fixed-size ring and returns; a background flusher writes batches of up to
 * `maxBatch` events with one `store.append` each.
 *
 * Accounting. Every emitted event is, at every observable moment, in exactly one of three states:
 * persisted (its batch's append resolved), dropped (the ring was full, or the sink closed, when it was
 * emitted), or buffered (in the ring, including the batch being written). So
 * `emitted = persisted + dropped + buffered` always holds; the counters change together in synchronous code.
 *
 * Failures. A batch whose append rejects stays at the head of the ring (still counted as buffered, still
 * using capacity) and is written again after an exponential backoff with jitter; meanwhile new events keep
 * queueing behind it, and are dropped (counted) once the ring is full. Only one append is in flight at a
 * time, so batches are written in emission order and a batch is re-sent only after its append failed: the
 * sink itself never persists an event twice. (A failure after the database committed, such as a lost
 * reply, is made harmless by the store: src/storage/audit-event-store.ts skips event ids already stored.)
 *
 * Cost per emit: a few integer operations and one array store; no allocation, no timer, no promise. A
 * timer is armed only when the ring goes from empty to non-empty, or once when a full batch is waiting.
 */
import type { NewAuditEvent } from "../domain/audit-event.js";
import type { AuditEventStore, AuditSink } from "../domain/ports.js";

/** AuditSinkCounters is a snapshot of the sink's accounting: emitted = persisted + dropped + buffered. */
export interface AuditSinkCounters {
  readonly emitted: number;
  readonly persisted: number;
  readonly dropped: number;
  readonly buffered: number;
  /** appendFailures counts rejected appends (each is retried; not a count of events). */
  readonly appendFailures: number;
}

/** AuditSinkErrorContext describes a failed append, for logging. */
export interface AuditSinkErrorContext {
  /** consecutiveFailures is how many appends in a row have failed, this one included. */
  readonly consecutiveFailures: number;
  readonly batchSize: number;
  /** retryInMs is the backoff before the next attempt. */
  readonly retryInMs: number;
}

/** BufferedAuditSinkOptions configure a BufferedAuditSink. */
export interface BufferedAuditSinkOptions {
  readonly store: AuditEventStore;
  /** maxBuffered bounds the events held (including the batch being written); beyond it emits are dropped. */
  readonly maxBuffered: number;
  /** maxBatch bounds the events of one append (one database write). */
  readonly maxBatch: number;
  /** flushIntervalMs is how long a partial batch may wait; a full batch is written at once. */
  readonly flushIntervalMs: number;
  /** retryBaseMs is the first backoff after a failed append (default 100), doubling up to retryMaxMs. */
  readonly retryBaseMs?: number;
  /** retryMaxMs caps the backoff (default 5000). */
  readonly retryMaxMs?: number;
  /** onError hears about every failed append (the events are kept and retried); it must not throw. */
  readonly onError?: (error: unknown, context: AuditSinkErrorContext) => void;
  /** random gives jitter in [0, 1); defaults to Math.random. */
  readonly random?: () => number;
}

/** AuditSinkFlushOptions bound how long flush/close wait. */
export interface AuditSinkFlushOptions {
  /** timeoutMs bounds the wait (default 5000); events still buffered then stay buffered and counted. */
  readonly timeoutMs?: number;
}

/** BufferedAuditSink is an AuditSink with counters and a bounded flush for shutdown. */
export interface BufferedAuditSink extends AuditSink {
  /** counters returns a snapshot of the accounting. */
  counters(): AuditSinkCounters;
  /** flush writes everything buffered now, resolving when the ring is empty or the timeout passed. */
  flush(options?: AuditSinkFlushOptions): Promise<AuditSinkCounters>;
  /**
   * close stops accepting events (later emits are dropped and counted) and flushes with the timeout. What is
   * still buffered then stays counted as buffered; the flusher keeps retrying it in the background (its
   * timers never keep the process alive).
   */
  close(options?: AuditSinkFlushOptions): Promise<AuditSinkCounters>;
}

const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

/** What the single pending timer is for: a partial batch's wait, an immediate write, or a backoff. */
enum TimerKind {
  None = 0,
  Interval = 1,
  Immediate = 2,
  Backoff = 3,
}

/** createBufferedAuditSink creates a BufferedAuditSink writing into `options.store`. */
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
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = Math.max(options.retryMaxMs ?? 5_000, retryBaseMs);
  const random = options.random ?? Math.random;
  const onError = options.onError;

  const ring: Array<NewAuditEvent | undefined> = new Array(maxBuffered);
  let head = 0;
  let count = 0;
  let inFlight = 0;
  let emitted = 0;
  let persisted = 0;
  let dropped = 0;
  let appendFailures = 0;
  let consecutiveFailures = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerKind = TimerKind.None;
  // Resolvers of pending flush() calls; while any exists, batches are written back to back.
  let drainWaiters: Array<() => void> = [];

  function schedule(kind: TimerKind, delayMs: number): void {
    if (timerKind !== TimerKind.None) {
      clearTimeout(timer);
    }
    timerKind = kind;
    // unref: a pending write never keeps the process alive; shutdown flushes explicitly.
    timer = setTimeout(onTimer, delayMs).unref();
  }

  function cancelTimer(): void {
    if (timerKind !== TimerKind.None) {
      clearTimeout(timer);
      timerKind = TimerKind.None;
      timer = undefined;
    }
  }

  function onTimer(): void {
    timerKind = TimerKind.None;
    timer = undefined;
    writeNextBatch();
  }

  /** scheduleNext decides the next write once no append is in flight (and so no timer is pending). */
  function scheduleNext(): void {
    if (count === 0) {
      cancelTimer();
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
      return;
    }
    if (count >= maxBatch || drainWaiters.length > 0) {
      schedule(TimerKind.Immediate, 0);
    } else if (timerKind === TimerKind.None) {
      schedule(TimerKind.Interval, flushIntervalMs);
    }
  }

  function writeNextBatch(): void {
    if (inFlight > 0 || count === 0) {
      return;
    }
    const size = Math.min(count, maxBatch);
    const batch: NewAuditEvent[] = new Array(size);
    let index = head;
    for (let i = 0; i < size; i++) {
      batch[i] = ring[index] as NewAuditEvent;
      index = index + 1 === maxBuffered ? 0 : index + 1;
    }
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

  function onPersisted(size: number): void {
    for (let i = 0; i < size; i++) {
      ring[head] = undefined;
      head = head + 1 === maxBuffered ? 0 : head + 1;
    }
    count -= size;
    persisted += size;
    inFlight = 0;
    consecutiveFailures = 0;
    scheduleNext();
  }

  function onFailed(error: unknown, size: number): void {
    inFlight = 0;
    appendFailures += 1;
    consecutiveFailures += 1;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(consecutiveFailures - 1, 30));
    // "Equal jitter": at least half the ceiling, so replicas that failed together do not retry together.
    const retryInMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
    schedule(TimerKind.Backoff, retryInMs);
    if (onError !== undefined) {
      try {
        onError(error, { consecutiveFailures, batchSize: size, retryInMs });
      } catch {
        // A failing error hook must not stop the flusher.
      }
    }
  }

  function counters(): AuditSinkCounters {
    return { emitted, persisted, dropped, buffered: count, appendFailures };
  }

  function waitForDrain(timeoutMs: number): Promise<AuditSinkCounters> {
    if (count === 0) {
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
      // Write now unless an append is in flight (it reschedules when it settles) or we are backing off.
      if (inFlight === 0 && timerKind !== TimerKind.Backoff) {
        schedule(TimerKind.Immediate, 0);
      }
    });
  }

  return {
    emit(event: NewAuditEvent): void {
      emitted += 1;
      if (closed || count === maxBuffered) {
        dropped += 1;
        return;
      }
      let tail = head + count;
      if (tail >= maxBuffered) {
        tail -= maxBuffered;
      }
      ring[tail] = event;
      count += 1;
      if (timerKind === TimerKind.None) {
        if (inFlight === 0) {
          if (count >= maxBatch) {
            schedule(TimerKind.Immediate, 0);
          } else {
            schedule(TimerKind.Interval, flushIntervalMs);
          }
        }
      } else if (timerKind === TimerKind.Interval && count - inFlight === maxBatch) {
        schedule(TimerKind.Immediate, 0);
      }
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
