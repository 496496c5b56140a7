/** A bounded throttle of failed attempts per caller, for guessable secrets (the bootstrap token). */
import { DomainError } from "./errors.js";

/** ATTEMPTS_THROTTLED is the reason of the RESOURCE_EXHAUSTED refusal of a throttled caller. */
export const ATTEMPTS_THROTTLED = "TOO_MANY_FAILED_ATTEMPTS";

export interface FailedAttemptThrottleOptions {
  readonly maxFailures: number;
  /** windowMs is how long a window lasts from a caller's first failure in it. */
  readonly windowMs: number;
  readonly maxCallers: number;
}

export interface FailedAttemptThrottle {
  /** check refuses a caller over the limit, saying when to retry; `what` names the attempts. */
  check(caller: string, nowMs: number, what: string): void;
  failed(caller: string, nowMs: number): void;
  size(): number;
}

interface Window {
  readonly startedAt: number;
  failures: number;
}

/** createFailedAttemptThrottle builds a throttle; the defaults are 5 failures a minute, 10,000 callers. */
export function createFailedAttemptThrottle(
  options: FailedAttemptThrottleOptions = { maxFailures: 5, windowMs: 60_000, maxCallers: 10_000 },
): FailedAttemptThrottle {
  const { maxFailures, windowMs, maxCallers } = options;
  // Insertion order is window start order: a new window is deleted and re-inserted at the end.
  const windows = new Map<string, Window>();

  const current = (caller: string, nowMs: number): Window | undefined => {
    const window = windows.get(caller);
    if (window !== undefined && nowMs - window.startedAt >= windowMs) {
      windows.delete(caller);
      return undefined;
    }
    return window;
  };

  return {
    check(caller, nowMs, what) {
      const window = current(caller, nowMs);
      if (window !== undefined && window.failures >= maxFailures) {
        const retryInSeconds = Math.ceil((window.startedAt + windowMs - nowMs) / 1000);
        throw new DomainError(
          "resource_exhausted",
          `too many failed ${what} from this address; try again in ${retryInSeconds} s`,
          { reason: ATTEMPTS_THROTTLED },
        );
      }
    },
    failed(caller, nowMs) {
      const window = current(caller, nowMs);
      if (window !== undefined) {
        window.failures++;
        return;
      }
      if (windows.size >= maxCallers) {
        const oldest = windows.keys().next();
        if (oldest.done !== true) {
          windows.delete(oldest.value);
        }
      }
      windows.set(caller, { startedAt: nowMs, failures: 1 });
    },
    size: () => windows.size,
  };
}
