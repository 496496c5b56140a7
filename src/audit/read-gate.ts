/**
 * A read gate: at most `maxConcurrent` database reads run at once, the rest wait in arrival order. The
 * stream hub sends every catch-up read and start-position lookup of every stream through one gate, so
 * however many streams open at once they hold a fixed handful of the MongoDB pool's connections and never
 * queue on the pool itself (where a wait beyond the driver's waitQueueTimeoutMS fails as UNAVAILABLE).
 * The number waiting is bounded by the caller (the hub: one pending read per open stream, and open streams
 * are limited).
 */

/** ReadGate runs reads with bounded concurrency. */
export interface ReadGate {
  /**
   * run starts `read` once fewer than maxConcurrent reads are running. If `signal` aborted while the read
   * was waiting, it is never started and run rejects with the signal's reason.
   */
  run<T>(read: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** running counts reads in progress; waiting those queued behind them. */
  running(): number;
  waiting(): number;
}

/** createReadGate builds a gate letting `maxConcurrent` (>= 1) reads run at once. */
export function createReadGate(maxConcurrent: number): ReadGate {
  if (!(Number.isInteger(maxConcurrent) && maxConcurrent >= 1)) {
    throw new RangeError("a read gate needs at least one concurrent read");
  }
  let running = 0;
  const queue: Array<() => void> = [];

  const release = () => {
    running -= 1;
    const next = queue.shift();
    if (next !== undefined) {
      next();
    }
  };

  return {
    run<T>(read: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const start = (): Promise<T> => {
        running += 1;
        let reading: Promise<T>;
        try {
          reading = read();
        } catch (error) {
          reading = Promise.reject(error);
        }
        return reading.finally(release);
      };
      if (running < maxConcurrent && queue.length === 0) {
        return start();
      }
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          if (signal?.aborted) {
            // Pass the turn on: nobody waits for this read any more.
            running += 1;
            release();
            reject(signal.reason);
            return;
          }
          start().then(resolve, reject);
        });
      });
    },
    running: () => running,
    waiting: () => queue.length,
  };
}
