/**
 * UsageRecorder for VerifyKey: counts every verdict for the usage statistics, emits one usage event per
 * verdict (refused ones at most `refusedPerSecond` a second, the rest counted as sampled out), and coalesces
 * "last used" timestamps into one bulk write per interval. Never blocks or fails a verification; no
 * credential is ever part of an event. See docs/audit.md and docs/architecture.md ("Usage recording").
 */
import type { KeyVerification, UsageRecorder, VerifyKeyInput } from "../domain/key-verifier.js";
import type { AuditSink, KeyRepository } from "../domain/ports.js";
import type { VerdictCounter } from "../domain/usage-stats.js";
import { createEventIdSource, type EventIdSource } from "./event-ids.js";
import { createPeriodicFlush, type FlushControl } from "./periodic-flush.js";
import { UsageEvent, type UsageEventOrigin } from "./usage-event.js";

/** VerifyUsageRecorderOptions configure the recorder. */
export interface VerifyUsageRecorderOptions {
  readonly sink: AuditSink;
  readonly keys: Pick<KeyRepository, "recordLastUsed">;
  /** replica names this process in usage events. */
  readonly replica: string;
  /** lastUsedIntervalMs is the coalescing interval of last-used writes. */
  readonly lastUsedIntervalMs: number;
  /** refusedPerSecond bounds the usage events of non-VALID verdicts recorded per second (0 records none). */
  readonly refusedPerSecond: number;
  /** maxTrackedKeys bounds the keys remembered between flushes (default 100,000). */
  readonly maxTrackedKeys?: number;
  /** onError hears about failed last-used writes (for logging); it must not throw. */
  readonly onError?: (error: unknown, keys: number) => void;
  /** eventIds mints usage-event ids (default: a per-process random prefix and a counter). */
  readonly eventIds?: EventIdSource;
  /** statistics counts every verdict of an identified key, before any sampling (exact usage statistics). */
  readonly statistics?: VerdictCounter;
}

/** VerifyUsageRecorderStats count last-used work for the metrics. */
export interface VerifyUsageRecorderStats {
  /** lastUsedPending is the number of keys waiting for the next write. */
  readonly lastUsedPending: number;
  /** lastUsedWrites counts bulk writes that succeeded. */
  readonly lastUsedWrites: number;
  /** lastUsedKeysWritten counts key timestamps written. */
  readonly lastUsedKeysWritten: number;
  readonly lastUsedFailures: number;
  /** lastUsedDropped counts uses not queued because the tracking maps were full. */
  readonly lastUsedDropped: number;
  /** refusedSampledOut counts usage events of non-VALID verdicts not recorded (over refusedPerSecond). */
  readonly refusedSampledOut: number;
}

/** VerifyUsageRecorder is the UsageRecorder with control of its last-used flush. */
export interface VerifyUsageRecorder extends UsageRecorder, FlushControl<VerifyUsageRecorderStats> {}

/** createVerifyUsageRecorder builds the recorder. */
export function createVerifyUsageRecorder(options: VerifyUsageRecorderOptions): VerifyUsageRecorder {
  const { sink, keys, replica } = options;
  const intervalMs = Math.max(options.lastUsedIntervalMs, 1);
  const maxTracked = Math.max(options.maxTrackedKeys ?? 100_000, 1);
  const onError = options.onError;
  const statistics = options.statistics;
  const origin: UsageEventOrigin = { replica, ids: options.eventIds ?? createEventIdSource() };

  // When each key was last queued (ms since epoch); pruned at every flush to the current interval.
  const queuedAt = new Map<string, number>();
  let pending = new Map<string, Date>();
  let lastUsedWrites = 0;
  let lastUsedKeysWritten = 0;
  let lastUsedFailures = 0;
  let lastUsedDropped = 0;
  const refusedPerSecond = options.refusedPerSecond;
  let refusedSecond = 0;
  let refusedInSecond = 0;
  let refusedSampledOut = 0;
  // The newest use seen, on the injected clock the uses are stamped with (not the wall clock).
  let newestUse = Number.NEGATIVE_INFINITY;

  function used(keyId: string, at: Date): void {
    const time = at.getTime();
    if (time > newestUse) {
      newestUse = time;
    }
    const previous = queuedAt.get(keyId);
    if (previous !== undefined && time - previous < intervalMs) {
      return;
    }
    if (previous === undefined && (queuedAt.size >= maxTracked || pending.size >= maxTracked)) {
      lastUsedDropped += 1;
      return;
    }
    queuedAt.set(keyId, time);
    pending.set(keyId, at);
  }

  async function write(): Promise<void> {
    const horizon = newestUse - intervalMs;
    for (const [keyId, time] of queuedAt) {
      if (time < horizon && !pending.has(keyId)) {
        queuedAt.delete(keyId);
      }
    }
    if (pending.size === 0) {
      return;
    }
    const batch = pending;
    pending = new Map();
    const entries = [...batch].map(([id, at]) => ({ id, at }));
    try {
      await keys.recordLastUsed(entries);
      lastUsedWrites += 1;
      lastUsedKeysWritten += entries.length;
    } catch (error) {
      lastUsedFailures += 1;
      // Put them back unless a newer use was queued meanwhile; the next flush retries.
      for (const [keyId, at] of batch) {
        if (!pending.has(keyId) && pending.size < maxTracked) {
          pending.set(keyId, at);
        }
      }
      if (onError !== undefined) {
        try {
          onError(error, entries.length);
        } catch {
          // Logging must not stop the recorder.
        }
      }
    }
  }

  const loop = createPeriodicFlush(write, intervalMs);

  return {
    verified(result: KeyVerification, input: VerifyKeyInput, at: Date): void {
      const key = result.key;
      if (statistics !== undefined && key !== null) {
        statistics.count(key.tenantId, key.keyId, result.code, at);
      }
      if (!result.valid) {
        const second = Math.floor(at.getTime() / 1_000);
        if (second !== refusedSecond) {
          refusedSecond = second;
          refusedInSecond = 0;
        }
        if (refusedInSecond >= refusedPerSecond) {
          refusedSampledOut += 1;
          return;
        }
        refusedInSecond += 1;
      }
      sink.emit(
        new UsageEvent(
          origin,
          at,
          key === null ? "" : key.tenantId,
          key === null ? "" : key.keyId,
          input.endpoint,
          input.clientIp,
          result.code,
          result.httpStatus,
        ),
      );
      if (result.valid && key !== null) {
        used(key.keyId, at);
      }
    },
    used,
    start: loop.start,
    flush: loop.flush,
    async close() {
      loop.stop();
      await loop.flush();
    },
    stats() {
      return {
        lastUsedPending: pending.size,
        lastUsedWrites,
        lastUsedKeysWritten,
        lastUsedFailures,
        lastUsedDropped,
        refusedSampledOut,
      };
    },
  };
}
