/**
 * A read gate: at most `maxConcurrent` database reads at once, the rest wait in arrival order, so however many
 * audit streams open at once they never queue on the MongoDB pool itself (docs/audit.md §6).
 */

export interface ReadGate {
  /**
   * run starts `read` once fewer than maxConcurrent reads are running. If `signal` aborted while the read
   * was waiting, it is never started and run rejects with the signal's reason.
   */
  run<T>(read: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

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
  };
}
