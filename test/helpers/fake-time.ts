/**
 * Helpers over vitest's fake clock (`vi.useFakeTimers`) for code that schedules with Node's timers: timers
 * and Date are faked, setImmediate stays real so `settle()` can let pending promise callbacks run.
 */
import { vi } from "vitest";

/** useFakeTime fakes setTimeout, clearTimeout and Date, starting at a fixed instant. */
export function useFakeTime(startMs = 1_700_000_000_000): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: startMs });
}

/** fireNextTimer jumps to the earliest pending timer and fires it; false when none is pending. */
export function fireNextTimer(): boolean {
  if (vi.getTimerCount() === 0) {
    return false;
  }
  vi.advanceTimersToNextTimer();
  return true;
}

/** settle lets pending promise callbacks run (one real macrotask turn; the code under test uses fake timers). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
