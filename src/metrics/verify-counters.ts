/**
 * VerifyCounters: the VerifyKey observer of the hot path — verdicts by code, RPC errors by kind and the
 * latency histogram, as plain numbers bumped in place. A snapshot copies them, so the verify worker's counts
 * can be added to the main thread's when /metrics is scraped (verify-metrics.ts). Loads nothing but this
 * file and collected-metric.ts (no prom-client at run time): the verify worker uses it.
 */
import { VERIFICATION_CODES, verificationCodeIndex } from "../domain/audit-event.js";
import type { KeyVerification, VerifyFailureKind, VerifyObserver } from "../domain/key-verifier.js";
import { createFastHistogram, type HistogramSnapshot } from "./collected-metric.js";

/** FAILURE_KINDS lists the RPC error kinds in the order of the counters. */
export const FAILURE_KINDS: readonly VerifyFailureKind[] = Object.freeze([
  "invalid_argument",
  "unavailable",
  "internal",
]);

/** LATENCY_BOUNDS_SECONDS are the latency histogram's buckets: 50 µs to 1 s. */
export const LATENCY_BOUNDS_SECONDS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
]);

/** VerifyCountersSnapshot is the counters' state as plain numbers (it crosses from the worker). */
export interface VerifyCountersSnapshot {
  /** verdicts by VERIFICATION_CODES index. */
  readonly verdicts: readonly number[];
  /** failures by FAILURE_KINDS index. */
  readonly failures: readonly number[];
  readonly latency: HistogramSnapshot;
}

/** VerifyCounters is the observer plus a snapshot of what it counted. */
export interface VerifyCounters extends VerifyObserver {
  snapshot(): VerifyCountersSnapshot;
}

/** createVerifyCounters starts counting from zero. */
export function createVerifyCounters(): VerifyCounters {
  const verdicts = new Float64Array(VERIFICATION_CODES.length);
  const failures = new Float64Array(FAILURE_KINDS.length);
  const latency = createFastHistogram(LATENCY_BOUNDS_SECONDS);
  return {
    verdict(result: KeyVerification, elapsedMs: number) {
      const index = verificationCodeIndex(result.code);
      verdicts[index] = (verdicts[index] as number) + 1;
      latency.observe(elapsedMs / 1000);
    },
    failure(kind: VerifyFailureKind, elapsedMs: number) {
      const index = FAILURE_KINDS.indexOf(kind);
      failures[index] = (failures[index] as number) + 1;
      latency.observe(elapsedMs / 1000);
    },
    snapshot() {
      return { verdicts: Array.from(verdicts), failures: Array.from(failures), latency: latency.snapshot() };
    },
  };
}
