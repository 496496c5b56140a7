/**
 * UsageRelay: the verify worker's UsageEventWriter. Each usage event becomes a row of the batch being
 * filled (usage-batch.ts); a batch is posted to the main thread when it is full or `flushIntervalMs` after
 * its first event, and the main thread emits its events into the process's one audit sink.
 *
 * Bounded like the sink itself: the events held here (the batch being filled) plus those posted but not yet
 * taken by the main thread (a counter the main thread advances in shared memory) never exceed
 * `maxBufferedEvents`; beyond that an event is dropped and counted. So for the process as a whole
 * emitted = persisted + dropped + buffered still holds, with this relay's dropped and pending events added
 * to the sink's counts (src/verify-worker/verify-worker-host.ts reads both at one instant).
 *
 * Cost per event: a few typed-array stores and three map lookups; no allocation, no timer (a timer is armed
 * once per batch).
 */
import type { VerificationCode } from "../domain/audit-event.js";
import { type AuditTimerHandle, type AuditTimers, systemAuditTimers } from "../domain/audit-timers.js";
import type { UsageEventWriter } from "../verify/usage-recorder.js";
import { createUsageBatchEncoder, type UsageBatch } from "./usage-batch.js";

/** UsageRelayOptions configure the relay. */
export interface UsageRelayOptions {
  /** post hands a full or due batch to the main thread; `transfer` lists the buffers to move, not copy. */
  readonly post: (batch: UsageBatch, transfer: readonly ArrayBuffer[]) => void;
  /** taken reads how many events the main thread has taken so far (wrapping 32-bit counter). */
  readonly taken: () => number;
  /** batchSize is the most events in one batch. */
  readonly batchSize: number;
  /** maxBufferedEvents bounds the events held here and in transit. */
  readonly maxBufferedEvents: number;
  /** flushIntervalMs is how long a partial batch may wait. */
  readonly flushIntervalMs: number;
  /** maxTableEntries bounds each table shared with the main thread (default 65,536). */
  readonly maxTableEntries?: number;
  readonly timers?: AuditTimers;
}

/** UsageRelayStats count the relay's events. */
export interface UsageRelayStats {
  readonly emitted: number;
  /** dropped counts events refused because the bound was reached (or the relay was closed). */
  readonly dropped: number;
  /** pending is the number of events in the batch being filled. */
  readonly pending: number;
  /** posted counts events handed to the main thread. */
  readonly posted: number;
}

/** UsageRelay is the writer plus flush control. */
export interface UsageRelay extends UsageEventWriter {
  /** flush posts the batch being filled now, if any. */
  flush(): void;
  /** close flushes and refuses (drops) later events. */
  close(): void;
  stats(): UsageRelayStats;
}

/** createUsageRelay builds the relay. */
export function createUsageRelay(options: UsageRelayOptions): UsageRelay {
  const { post, taken, batchSize, maxBufferedEvents, flushIntervalMs } = options;
  const timers = options.timers ?? systemAuditTimers;
  const encoder = createUsageBatchEncoder(batchSize, options.maxTableEntries ?? 65_536);
  let emitted = 0;
  let dropped = 0;
  let posted = 0;
  // The same 32-bit wrapping arithmetic as the main thread's counter.
  let postedWrapped = 0;
  let closed = false;
  let timer: AuditTimerHandle = null;

  function flush(): void {
    if (timer !== null) {
      timers.clearTimeout(timer);
      timer = null;
    }
    const taking = encoder.take();
    if (taking === null) {
      return;
    }
    posted += taking.batch.count;
    postedWrapped = (postedWrapped + taking.batch.count) | 0;
    post(taking.batch, taking.transfer);
  }

  function onTimer(): void {
    timer = null;
    flush();
  }

  return {
    write(at: Date, key, endpoint, clientIp, code: VerificationCode, httpStatus) {
      emitted += 1;
      const inTransit = (postedWrapped - taken()) | 0;
      if (closed || encoder.size + inTransit >= maxBufferedEvents) {
        dropped += 1;
        return;
      }
      const size = encoder.add(at, key, endpoint, clientIp, code, httpStatus);
      if (size >= batchSize) {
        flush();
      } else if (timer === null) {
        timer = timers.setTimeout(onTimer, flushIntervalMs);
      }
    },
    flush,
    close() {
      flush();
      closed = true;
    },
    stats() {
      return { emitted, dropped, pending: encoder.size, posted };
    },
  };
}
