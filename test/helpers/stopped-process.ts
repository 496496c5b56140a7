/**
 * SIGSTOP is asynchronous: a thread running on another CPU stops only at its next kernel entry, so a request
 * sent right after `process.kill(pid, "SIGSTOP")` can still be answered. Tests that freeze a server wait
 * until the kernel reports every thread of it stopped.
 */
import { readdirSync, readFileSync } from "node:fs";
import { vi } from "vitest";

function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map(
    (thread) => readFileSync(`/proc/${pid}/task/${thread}/stat`, "utf8").split(") ")[1]?.[0] ?? "",
  );
}

/** untilStopped waits until every thread of `pid` is stopped (state T or t), at most 2 s. */
export async function untilStopped(pid: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (!threadStates(pid).every((state) => state === "T" || state === "t")) {
        throw new Error(`process ${pid} did not stop`);
      }
    },
    { timeout: 2_000, interval: 5 },
  );
}
