/**
 * within polls `check` until it holds, and fails the test when `deadlineMs` passes first: for bounds such as
 * "on every replica within 250 ms" — a correctness deadline, not a speed measurement.
 */
export async function within(
  deadlineMs: number,
  check: () => Promise<boolean>,
  intervalMs = 5,
): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > deadlineMs) {
      throw new Error(`not within ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
