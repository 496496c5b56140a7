/**
 * The flush loop of the writers that batch in memory (last-used timestamps, usage statistics): `write` runs
 * every interval and on demand, one run at a time — a flush asked for while one runs shares it.
 */

/** FlushControl is what such a writer offers its owner. */
export interface FlushControl<Stats, Closed = void> {
  /** start arms the periodic flush. */
  start(): void;
  /** flush writes what is pending now. Never rejects. */
  flush(): Promise<void>;
  /** close stops the periodic flush and flushes what is pending. */
  close(): Promise<Closed>;
  stats(): Stats;
}

/** PeriodicFlush runs one writer's `write`; stop() ends the interval without flushing. */
export interface PeriodicFlush {
  start(): void;
  flush(): Promise<void>;
  stop(): void;
}

/** createPeriodicFlush runs `write` (which must never reject) every `intervalMs` once started. */
export function createPeriodicFlush(write: () => Promise<void>, intervalMs: number): PeriodicFlush {
  let timer: ReturnType<typeof setInterval> | null = null;
  let flushing: Promise<void> | null = null;
  const flush = (): Promise<void> => {
    if (flushing === null) {
      flushing = write().finally(() => {
        flushing = null;
      });
    }
    return flushing;
  };
  return {
    start() {
      if (timer === null) {
        timer = setInterval(flush, Math.max(intervalMs, 1));
        timer.unref();
      }
    },
    flush,
    stop() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    },
  };
}
