/**
 * Running h2load for the benchmark: gRPC over h2c (prior knowledge), one request body per process, several
 * processes in parallel so one round can draw many different requests. Each run is bounded in time (killed
 * 30 s after its planned end) and its output parsed: throughput from h2load's summary, per-request latency
 * from its --log-file (measurement period only).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** H2LOAD_PATH is where Debian's nghttp2-client installs h2load. */
export const H2LOAD_PATH = "/usr/bin/h2load";

/** findH2load returns the h2load executable, or null when it is not installed. */
export function findH2load(): string | null {
  if (existsSync(H2LOAD_PATH)) {
    return H2LOAD_PATH;
  }
  const found = spawnSync("sh", ["-c", "command -v h2load"], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path !== "" ? path : null;
}

/** H2loadSettings are the load shape, identical for every target of a comparison. */
export interface H2loadSettings {
  /** clients is the number of connections of one process (-c). */
  readonly clients: number;
  /** streams is the concurrent streams per connection (-m). */
  readonly streams: number;
  /** durationS is the measured duration (-D). */
  readonly durationS: number;
  /** warmupS precedes the measurement (--warm-up-time); its requests are not counted. */
  readonly warmupS: number;
}

/** H2loadJob is one h2load process: a URL (host:port and gRPC method path) and the body it posts. */
export interface H2loadJob {
  readonly url: string;
  readonly dataFile: string;
  /** logFile receives per-request timings. */
  readonly logFile: string;
}

/** H2loadResult is what one process measured. */
export interface H2loadResult {
  readonly requestsPerSecond: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  /** latenciesUs are the per-request latencies of the measurement period, in microseconds. */
  readonly latenciesUs: Float64Array;
}

/** GRPC_HEADERS are the request headers of a gRPC call (with a deadline, as real clients send). */
const GRPC_HEADERS = ["content-type: application/grpc", "te: trailers", "grpc-timeout: 5S"];

function parse(output: string, logFile: string): H2loadResult {
  const finished = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(output);
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
      output,
    );
  if (finished === null || requests === null) {
    throw new Error(`cannot read h2load's summary:\n${output.slice(-2_000)}`);
  }
  const lines = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n") : [];
  const latencies = new Float64Array(lines.length);
  let count = 0;
  for (const line of lines) {
    const fields = line.split("\t");
    if (fields.length >= 3) {
      latencies[count++] = Number(fields[2]);
    }
  }
  return {
    requestsPerSecond: Number(finished[1]),
    succeeded: Number(requests[4]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
    latenciesUs: latencies.slice(0, count),
  };
}

/** runH2load runs one process and resolves with its measurements. */
export function runH2load(h2load: string, job: H2loadJob, settings: H2loadSettings): Promise<H2loadResult> {
  const args = [
    "-t",
    "1",
    "-c",
    String(settings.clients),
    "-m",
    String(settings.streams),
    "-D",
    String(settings.durationS),
    "--warm-up-time",
    String(settings.warmupS),
    "-d",
    job.dataFile,
    "--log-file",
    job.logFile,
    ...GRPC_HEADERS.flatMap((header) => ["-H", header]),
    job.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(h2load, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const limit = setTimeout(
      () => child.kill("SIGKILL"),
      (settings.durationS + settings.warmupS + 30) * 1_000,
    );
    child.once("error", (error) => {
      clearTimeout(limit);
      reject(error);
    });
    // "close", not "exit": only then has all of its output been read.
    child.once("close", (code, signal) => {
      clearTimeout(limit);
      if (code !== 0) {
        reject(new Error(`h2load exited with ${signal ?? code}:\n${output.slice(-2_000)}`));
        return;
      }
      try {
        resolve(parse(output, job.logFile));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** ParallelResult sums the processes of one run. */
export interface ParallelResult {
  readonly requestsPerSecond: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly latenciesUs: Float64Array;
}

/** runParallel runs every job at once with the same settings and sums their results. */
export async function runParallel(
  h2load: string,
  jobs: readonly H2loadJob[],
  settings: H2loadSettings,
): Promise<ParallelResult> {
  const results = await Promise.all(jobs.map((job) => runH2load(h2load, job, settings)));
  const latencies = new Float64Array(results.reduce((sum, result) => sum + result.latenciesUs.length, 0));
  let offset = 0;
  for (const result of results) {
    latencies.set(result.latenciesUs, offset);
    offset += result.latenciesUs.length;
  }
  return {
    requestsPerSecond: results.reduce((sum, result) => sum + result.requestsPerSecond, 0),
    succeeded: results.reduce((sum, result) => sum + result.succeeded, 0),
    failed: results.reduce((sum, result) => sum + result.failed, 0),
    errored: results.reduce((sum, result) => sum + result.errored, 0),
    latenciesUs: latencies,
  };
}

/** percentile returns the p-th percentile (0-100) of `values` (sorted in place). */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  values.sort();
  const index = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[index] as number;
}

/** median returns the median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
