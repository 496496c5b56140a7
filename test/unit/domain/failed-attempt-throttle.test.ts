import { describe, expect, it } from "vitest";
import { createFailedAttemptThrottle } from "../../../src/domain/failed-attempt-throttle.js";

function refusal(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return null;
}

describe("failed-attempt throttle", () => {
  const options = { maxFailures: 3, windowMs: 1_000, maxCallers: 4 };

  it("refuses a caller with maxFailures failures until its window ends, saying when to retry", () => {
    const throttle = createFailedAttemptThrottle(options);
    for (let i = 0; i < 3; i++) {
      expect(refusal(() => throttle.check("a", 100 * i, "tries"))).toBeNull();
      throttle.failed("a", 100 * i);
    }
    const error = refusal(() => throttle.check("a", 300, "tries"));
    expect(error).toMatchObject({ kind: "resource_exhausted", reason: "TOO_MANY_FAILED_ATTEMPTS" });
    expect((error as Error).message).toBe("too many failed tries from this address; try again in 1 s");
    expect(refusal(() => throttle.check("b", 300, "tries"))).toBeNull();
    expect(refusal(() => throttle.check("a", 999, "tries"))).not.toBeNull();
    expect(refusal(() => throttle.check("a", 1_000, "tries"))).toBeNull();
  });

  it("remembers at most maxCallers callers, forgetting the oldest window first", () => {
    const throttle = createFailedAttemptThrottle(options);
    for (let i = 0; i < 3; i++) {
      throttle.failed("first", i);
    }
    for (const caller of ["c1", "c2", "c3", "c4"]) {
      throttle.failed(caller, 10);
    }
    expect(throttle.size()).toBe(4);
    expect(refusal(() => throttle.check("first", 20, "tries"))).toBeNull();
    for (let i = 0; i < 10_000; i++) {
      throttle.failed(`spray-${i}`, 30);
    }
    expect(throttle.size()).toBe(4);
  });
});
