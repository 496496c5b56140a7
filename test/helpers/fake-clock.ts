/**
 * The one fake Clock of the tests: it moves only when told to, so expiry and windows can be tested at their
 * exact boundaries. (Code that schedules with Node's timers uses vitest's fake timers instead: fake-time.ts.)
 */
import type { Clock } from "../../src/domain/ports.js";

/** ManualClock is a Clock that moves only when told to. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | number = Date.now()) {
    this.current = typeof start === "number" ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  /** set moves the clock to `at`. */
  set(at: Date | number): void {
    this.current = typeof at === "number" ? at : at.getTime();
  }
  /** advance moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }
}
