/**
 * The counter repair as a background task: a run at start, then one an interval after each run ended (never
 * overlapping); every replica runs it, and the repair's compare-and-set keeps them from fighting.
 */
import type { KeyCountRepair, KeyCountRepairRun } from "../domain/key-count-repair.js";

export interface KeyCountReconcilerOptions {
  readonly repair: KeyCountRepair;
  readonly intervalMs: number;
  /** failed hears about a run that could not finish (the database was unreachable, say). */
  readonly failed: (error: unknown) => void;
  /** ran hears about each finished run (tests wait on it). */
  readonly ran?: (run: KeyCountRepairRun) => void;
}

export interface KeyCountReconciler {
  /** stop cancels the next run and waits for the current one to end. */
  stop(): Promise<void>;
}

export function startKeyCountReconciler(options: KeyCountReconcilerOptions): KeyCountReconciler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const runNow = () => {
    current = options.repair.run().then(
      (run) => options.ran?.(run),
      (error: unknown) => options.failed(error),
    );
    void current.then(() => {
      if (!stopped) {
        timer = setTimeout(runNow, options.intervalMs);
        timer.unref();
      }
    });
  };
  runNow();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
