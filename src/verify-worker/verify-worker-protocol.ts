/**
 * What the main thread and the verify worker say to each other (over one PortChannel, port-channel.ts), and
 * what the worker starts from; the shared-memory layout; the clock both sides can convert to.
 */
import type { GroupRepository, KeyRepository } from "../domain/ports.js";
import type { VerifyCountersSnapshot } from "../metrics/verify-counters.js";
import type { Config } from "../server/config.js";
import type { KeyCacheStats } from "../verify/key-cache.js";
import type { VerifyUsageRecorderStats } from "../verify/usage-recorder.js";
import type { UsageBatch } from "./usage-batch.js";
import type { UsageRelayStats } from "./usage-relay.js";

/** VerifyWorkerData is the worker's workerData. */
export interface VerifyWorkerData {
  readonly config: Config;
  /** relaySocket is the main thread's internal gRPC server for the relayed services (a Unix socket path). */
  readonly relaySocket: string;
  /** shared holds the Int32 counters of SHARED_SLOTS. */
  readonly shared: SharedArrayBuffer;
}

/** SHARED_SLOTS are the Int32Array slots of VerifyWorkerData.shared. */
export const SHARED_SLOTS = Object.freeze({
  /**
   * invalidationEpoch is bumped by the main thread after it posts invalidations; the worker compares it on
   * every verification and, when it moved, handles the messages waiting on its port first.
   */
  invalidationEpoch: 0,
  /** usageEventsTaken counts (wrapping) the usage events the main thread has taken from batches. */
  usageEventsTaken: 1,
});

/** SHARED_BYTES is the size of VerifyWorkerData.shared. */
export const SHARED_BYTES = 2 * Int32Array.BYTES_PER_ELEMENT;

/** MainCalls are what the worker asks the main thread. */
export type MainCalls = {
  /** findKey is KeyRepository.findById. */
  findKey: KeyRepository["findById"];
  /** findGroup is GroupRepository.findById. */
  findGroup: GroupRepository["findById"];
  /** recordLastUsed is KeyRepository.recordLastUsed. */
  recordLastUsed: KeyRepository["recordLastUsed"];
};

/** MainNotes are what the worker tells the main thread. */
export type MainNotes = {
  /** usage hands over a batch of usage events for the audit sink. */
  usage(batch: UsageBatch): void;
  /** log hands over one log line (pino JSON), written by the main thread's logger destination. */
  log(line: string): void;
};

/** VerifyWorkerStats are the worker's figures for /metrics. */
export interface VerifyWorkerStats {
  readonly verify: VerifyCountersSnapshot;
  readonly cache: KeyCacheStats;
  readonly lastUsed: VerifyUsageRecorderStats;
  readonly usage: UsageRelayStats;
  /** inFlight is the number of calls the worker's gRPC port is serving. */
  readonly inFlight: number;
}

/** WorkerCalls are what the main thread asks the worker. */
export type WorkerCalls = {
  /** listen binds the gRPC port and resolves with the bound port. */
  listen(): Promise<number>;
  /** whenIdle resolves true once no call is in flight, false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /**
   * close closes the gRPC port (open calls get `graceMs`, 0: cancelled at once), then writes what the worker
   * still holds: pending last-used times (through recordLastUsed) and the last usage batch.
   */
  close(graceMs: number): Promise<void>;
  stats(): VerifyWorkerStats;
};

/** InvalidationNotice names one changed key or group. */
export interface InvalidationNotice {
  readonly kind: "key" | "group";
  readonly id: string;
}

/** WorkerNotes are what the main thread tells the worker. */
export type WorkerNotes = {
  invalidate(notice: InvalidationNotice): void;
  invalidateAll(): void;
  /**
   * fresh reports that every change published before `asOf` (toProcessClock of the main thread's
   * performance.now()) has been applied.
   */
  fresh(asOf: number): void;
  /** health sets the serving status of every service on the gRPC port. */
  health(status: number): void;
  /** drain starts shutdown: health NOT_SERVING, new calls refused with UNAVAILABLE. */
  drain(): void;
};

// performance.now() counts from each thread's own start; process.hrtime does not. Both read the same
// monotonic clock, so one offset per thread converts between them (no wall clock, which may be stepped).
const hrtimeOffsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** toProcessClock converts this thread's performance.now() reading to the process-wide monotonic clock. */
export function toProcessClock(threadMs: number): number {
  return threadMs + hrtimeOffsetMs;
}

/** fromProcessClock converts a process-wide monotonic reading to this thread's performance.now() clock. */
export function fromProcessClock(processMs: number): number {
  return processMs - hrtimeOffsetMs;
}
