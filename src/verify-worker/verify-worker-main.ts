/**
 * The verify worker thread's entry module (started by verify-worker-host.ts): everything else is in
 * verify-worker.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runVerifyWorker } from "./verify-worker.js";
import type { VerifyWorkerData } from "./verify-worker-protocol.js";

if (parentPort === null) {
  throw new Error("verify-worker-main.ts runs as a worker thread (see verify-worker-host.ts)");
}
runVerifyWorker(workerData as VerifyWorkerData, parentPort);
