/**
 * The verify worker's figures in the process's metrics: counts and sizes of the worker's cache, last-used
 * recorder and usage relay are added to the main thread's own, read at scrape time (one snapshot per scrape,
 * see VerifyWorkerHost.snapshot).
 */
import type { AuditBufferCounters } from "../metrics/verify-metrics.js";
import type { VerifyWorkerSnapshot } from "./verify-worker-host.js";

/** addCounts adds every numeric field of `other` to `own`'s (the two are the same kind of stats). */
export function addCounts<T extends object>(own: T, other: T | undefined): T {
  if (other === undefined) {
    return own;
  }
  const sum = { ...own } as Record<string, unknown>;
  for (const [name, value] of Object.entries(other)) {
    const mine = sum[name];
    if (typeof value === "number" && typeof mine === "number") {
      sum[name] = mine + value;
    }
  }
  return sum as T;
}

/**
 * processAuditCounters is the accounting of the whole process: the sink's, plus the usage events the worker
 * still holds (pending) or refused (dropped). Every event the worker posted before the snapshot is in the
 * sink's counts already, so emitted = persisted + dropped + buffered holds for the sum.
 */
export function processAuditCounters(
  sink: AuditBufferCounters,
  snapshot: VerifyWorkerSnapshot | null,
): AuditBufferCounters {
  if (snapshot === null) {
    return sink;
  }
  const atSnapshot = snapshot.sink ?? sink;
  const { pending, dropped } = snapshot.worker.usage;
  return {
    emitted: atSnapshot.emitted + pending + dropped,
    persisted: atSnapshot.persisted,
    dropped: atSnapshot.dropped + dropped,
    buffered: atSnapshot.buffered + pending,
  };
}
