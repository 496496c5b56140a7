/**
 * The clock the main thread and the verify worker exchange instants on: process.hrtime's, which both
 * threads share, converted to and from each thread's performance.now().
 */
import { describe, expect, it } from "vitest";
import { fromProcessClock, toProcessClock } from "../../../src/verify-worker/verify-worker-protocol.js";

describe("process clock", () => {
  it("converts this thread's performance.now() to process.hrtime milliseconds and back", () => {
    const threadNow = performance.now();
    const processNow = Number(process.hrtime.bigint()) / 1e6;
    expect(Math.abs(toProcessClock(threadNow) - processNow)).toBeLessThan(5);
    expect(fromProcessClock(toProcessClock(threadNow))).toBeCloseTo(threadNow, 6);
  });
});
