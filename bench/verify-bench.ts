/**
 * `npm run bench`: VerifyKey throughput against the transport's own ceiling (see docs/bench.md).
 *
 *  1. Needs h2load (Debian nghttp2-client); says how to install it otherwise and exits 1.
 *  2. Starts a local database (the npm MongoDB-wire server) and seeds a key pool (BENCH_KEYS, default
 *     10,000: plain keys, keys with IPv4/IPv6 allowlists, keys in groups, a few revoked and expired).
 *  3. Starts the real service as a child process (production mode, usage recording on, command
 *     monitoring on) and the ceiling server (bench/ceiling-server.ts: the same grpc-js transport answering a
 *     fixed response) as another.
 *  4. Cold run: BENCH_COLD_KEYS distinct keys verified once each on the fresh service (empty cache), by a
 *     grpc-js client (h2load posts one body per process, so it cannot send thousands of different keys).
 *  5. Warm rounds (BENCH_ROUNDS, default 11): each round draws new requests from the pool — one request body
 *     per h2load process, BENCH_PROCESSES processes in parallel (mostly valid calls of every credential form,
 *     one process of refusals) — and drives the service and the ceiling alternately with identical files
 *     and h2load settings. Medians over rounds.
 *  6. grpc.health.v1.Health/Check on both, for reference.
 *  7. Database commands during the measured verify runs come from the service's own metrics
 *     (apikeys_db_commands_total, driver command monitoring), divided by the verifications measured.
 *
 * Ends with exactly one line:
 *   RESULT verify_rps=<n> ceiling_rps=<n> ratio=<median verify/ceiling> p50_ms=<n> p99_ms=<n> db_cmds_per_verify=<n>
 *     stats_writes_per_verify=<n>
 *  db_cmds_per_verify counts every command the service sends (the usage statistics' writes included);
 *  stats_writes_per_verify is the statistics' share of it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, setPriority, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { Client, credentials, type ServiceError, status as Status } from "@grpc/grpc-js";
import { MongoClient } from "mongodb";
import { VERIFICATION_CODES } from "../src/domain/audit-event.js";
import {
  KeyVerifyService,
  VerificationCode,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import { loadConfig } from "../src/server/config.js";
import { type LocalMongo, startLocalMongo } from "../src/storage/local-mongo.js";
import { createGrpcDefinition } from "../src/transport/grpc-js-bridge.js";
import { BENCH_ENV } from "./bench-keys.js";
import {
  findH2load,
  type H2loadJob,
  type H2loadSettings,
  median,
  percentile,
  runParallel,
} from "./h2load-runner.js";
import {
  type BenchRequest,
  drawRequest,
  grpcFrame,
  type KeyPool,
  REFUSED_KINDS,
  requestFrame,
  seededRandom,
  seedKeyPool,
  VALID_KINDS,
} from "./key-pool.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const settings = {
  keys: intSetting("BENCH_KEYS", 10_000, 100, 200_000),
  coldKeys: intSetting("BENCH_COLD_KEYS", 1_000, 0, 200_000),
  rounds: intSetting("BENCH_ROUNDS", 11, 1, 50),
  processes: intSetting("BENCH_PROCESSES", 8, 1, 64),
  load: {
    clients: intSetting("BENCH_CLIENTS", 1, 1, 64),
    streams: intSetting("BENCH_STREAMS", 4, 1, 1_000),
    durationS: intSetting("BENCH_DURATION_S", 3, 1, 120),
    warmupS: intSetting("BENCH_WARMUP_S", 1, 0, 60),
  } satisfies H2loadSettings,
  /** pin puts the servers under test on CPU 0 and everything else on the other CPUs (see docs/bench.md). */
  pin: intSetting("BENCH_PIN", 1, 0, 1) === 1,
  /** dbNice is the CPU priority of the database stand-in (see docs/bench.md); -1 leaves it alone. */
  dbNice: intSetting("BENCH_DB_NICE", 10, -1, 19),
  seed: intSetting("BENCH_SEED", 20_240_601, 0, 2 ** 31),
};

/** CpuPlan says which CPUs the servers under test run on, and which the rest (database, h2load, this script). */
interface CpuPlan {
  readonly servers: string;
  readonly others: string;
}

/**
 * cpuPlan pins when asked, taskset (util-linux) exists and there are at least two CPUs: the service and
 * the ceiling on CPU 0 (never at the same time: they are driven alternately), everything else on the rest.
 */
function cpuPlan(): CpuPlan | null {
  const cpus = availableParallelism();
  if (!settings.pin || cpus < 2 || spawnSync("taskset", ["--version"], { stdio: "ignore" }).status !== 0) {
    return null;
  }
  return { servers: "0", others: cpus === 2 ? "1" : `1-${cpus - 1}` };
}

const cpus = cpuPlan();

/** pinProcess moves every thread of `pid` to `cpuList`; threads it starts later inherit the setting. */
function pinProcess(pid: number | undefined, cpuList: string): void {
  if (pid !== undefined) {
    spawnSync("taskset", ["-a", "-cp", cpuList, String(pid)], { stdio: "ignore" });
  }
}

function profileDir(name: string): string | null {
  const base = process.env.BENCH_PROFILE;
  return base === undefined || base === "" ? null : resolve(base, name);
}

/** COLD_CONCURRENCY is the cold run's calls in flight: enough to overlap lookups, not to queue them. */
const COLD_CONCURRENCY = 8;

const VERIFY_PATH = "/apikeys.v1.KeyVerifyService/VerifyKey";
const HEALTH_PATH = "/grpc.health.v1.Health/Check";

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Child is a process the benchmark started and must stop. */
interface Child {
  readonly process: ChildProcess;
  output(): string;
}

const children: Child[] = [];

function startChild(script: string, env: Record<string, string>, profileDir: string | null = null): Child {
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the child at exit (node --cpu-prof), for `node --cpu-prof`
  // style hot-path work without changing the product.
  const profile = profileDir === null ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const handle = { process: child, output: () => output };
  children.push(handle);
  return handle;
}

/** threadsOf lists the thread ids of a process (just the process on systems without /proc). */
function threadsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [pid];
  }
}

async function stopChild(child: Child): Promise<void> {
  const process = child.process;
  if (process.exitCode !== null || process.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((done) => process.once("exit", () => done()));
  process.kill("SIGTERM");
  // A profiled child writes its profile only if it exits by itself, after its (bounded) drain.
  const graceMs = process.spawnargs.includes("--cpu-prof") ? 60_000 : 10_000;
  const timer = setTimeout(() => process.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, child: Child, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(`${what} exited early:\n${child.output().slice(-3_000)}`);
    }
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms:\n${child.output().slice(-3_000)}`);
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** cpuSeconds reads the user + system CPU time a process has used so far (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) {
    return Number.NaN;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** threadCpuSeconds reads the user + system CPU time of each thread of a process (Linux /proc). */
function threadCpuSeconds(pid: number | undefined): Map<number, number> {
  const times = new Map<number, number>();
  if (pid === undefined) {
    return times;
  }
  for (const thread of threadsOf(pid)) {
    try {
      const fields =
        readFileSync(`/proc/${pid}/task/${thread}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      times.set(thread, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return times;
}

/**
 * ThreadSplit is a process's CPU over a run by thread: the main thread (the process id), the busiest other
 * thread (the service's verify worker), and the rest (V8's garbage collection helpers, libuv).
 */
interface ThreadSplit {
  readonly main: number;
  readonly busiest: number;
  readonly rest: number;
}

function threadSplit(pid: number | undefined, before: Map<number, number>): ThreadSplit {
  const after = threadCpuSeconds(pid);
  let main = 0;
  let busiest = 0;
  let total = 0;
  for (const [thread, seconds] of after) {
    const used = seconds - (before.get(thread) ?? 0);
    total += used;
    if (thread === pid) {
      main = used;
    } else if (used > busiest) {
      busiest = used;
    }
  }
  return { main, busiest, rest: total - main - busiest };
}

/** scrape reads the service's /metrics into "name{labels}" → value. */
async function scrape(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  // Prometheus text: "name{labels} value" per sample line.
  return new Map(
    [...text.matchAll(/^([^#\n].*) (\S+)$/gm)].map((match) => [match[1] as string, Number(match[2])]),
  );
}

function delta(after: Map<string, number>, before: Map<string, number>, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

const CODES = VERIFICATION_CODES;
const DB_COMMANDS = "apikeys_db_commands_total";
const ERROR_KINDS = ["invalid_argument", "unavailable", "internal"];
const OUTCOME_SAMPLES = [
  ...CODES.map((code) => `apikeys_verify_verdicts_total{code="${code}"}`),
  ...ERROR_KINDS.map((kind) => `apikeys_verify_errors_total{kind="${kind}"}`),
  DB_COMMANDS,
];

/** coldRun verifies distinct pool keys once each (a cache miss each) with a grpc-js client. */
async function coldRun(
  pool: KeyPool,
  grpcPort: number,
  count: number,
): Promise<{ rps: number; p50: number; p99: number; verified: number; errors: number; errorKinds: string }> {
  const definition = createGrpcDefinition(KeyVerifyService);
  const method = definition.verifyKey;
  if (method === undefined) {
    throw new Error("no VerifyKey in the client definition");
  }
  const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const keys = pool.all.filter((key) => key.kind !== "revoked" && key.kind !== "expired").slice(0, count);
  const latencies = new Float64Array(keys.length);
  let next = 0;
  let errors = 0;
  let verified = 0;
  // What the failures were: an RPC status (UNAVAILABLE when a lookup outlasts its budget) or a verdict.
  const errorKinds = new Map<string, number>();
  const started = performance.now();
  const deadline = started + 180_000;
  const worker = async () => {
    while (next < keys.length && performance.now() < deadline) {
      const index = next++;
      const key = keys[index];
      if (key === undefined) {
        return;
      }
      const callStarted = performance.now();
      await new Promise<void>((done) => {
        client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          { credential: { case: "key", value: key.issued.key }, clientIp: "10.1.2.3", endpoint: "GET /cold" },
          { deadline: Date.now() + 10_000 },
          (error: ServiceError | null, response?: VerifyKeyResponse) => {
            if (error !== null || response?.valid !== true) {
              errors += 1;
              const kind =
                error !== null
                  ? (Status[error.code] ?? String(error.code))
                  : (VerificationCode[response?.code ?? 0] ?? "?");
              errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
            } else {
              verified += 1;
            }
            latencies[index] = (performance.now() - callStarted) * 1_000;
            done();
          },
        );
      });
    }
  };
  await Promise.all(Array.from({ length: COLD_CONCURRENCY }, worker));
  const elapsedS = (performance.now() - started) / 1_000;
  client.close();
  const measured = latencies.slice(0, Math.min(next, keys.length));
  return {
    rps: (verified + errors) / elapsedS,
    p50: percentile(measured, 50) / 1_000,
    p99: percentile(measured, 99) / 1_000,
    verified,
    errors,
    errorKinds: [...errorKinds].map(([kind, count]) => `${kind} ${count}`).join(", "),
  };
}

const EXPECTED_CODES: Readonly<Record<BenchRequest["expected"], VerificationCode>> = {
  valid: VerificationCode.VALID,
  not_found: VerificationCode.NOT_FOUND,
  expired: VerificationCode.EXPIRED,
  revoked: VerificationCode.REVOKED,
  disabled: VerificationCode.DISABLED,
  ip_not_allowed: VerificationCode.IP_NOT_ALLOWED,
  insufficient_permissions: VerificationCode.INSUFFICIENT_PERMISSIONS,
};

/**
 * prepare sends each of a round's requests once through a grpc-js client until it gets the verdict it must
 * get: the round then measures warm verifications only (the cold path has its own run), and a wrong verdict
 * stops the benchmark. Bounded: 30 s per request.
 */
async function prepare(grpcPort: number, requests: readonly BenchRequest[]): Promise<VerifyKeyResponse[]> {
  const method = createGrpcDefinition(KeyVerifyService).verifyKey;
  if (method === undefined) {
    throw new Error("no VerifyKey in the client definition");
  }
  const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const responses: VerifyKeyResponse[] = [];
  try {
    for (const request of requests) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const outcome = await new Promise<VerifyKeyResponse | ServiceError>((done) => {
          client.makeUnaryRequest(
            method.path,
            method.requestSerialize,
            method.responseDeserialize,
            request.message,
            { deadline: Date.now() + 5_000 },
            (error: ServiceError | null, response?: VerifyKeyResponse) =>
              done(error ?? (response as VerifyKeyResponse)),
          );
        });
        if (!(outcome instanceof Error)) {
          if (outcome.code !== EXPECTED_CODES[request.expected]) {
            throw new Error(
              `a ${request.kind} request answered code ${outcome.code}, expected ${request.expected}`,
            );
          }
          responses.push(outcome);
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(`a ${request.kind} request kept failing: ${outcome.message}`);
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      }
    }
  } finally {
    client.close();
  }
  return responses;
}

/** roundRequests draws one request per h2load process: valid calls of every form, one refusal. */
function roundRequests(pool: KeyPool, round: number, random: () => number): BenchRequest[] {
  const requests: BenchRequest[] = [];
  for (let i = 0; i < settings.processes; i++) {
    const refusal = settings.processes > 1 && i === settings.processes - 1;
    const kind = refusal
      ? (REFUSED_KINDS[round % REFUSED_KINDS.length] as (typeof REFUSED_KINDS)[number])
      : (VALID_KINDS[(i + round) % VALID_KINDS.length] as (typeof VALID_KINDS)[number]);
    requests.push(drawRequest(pool, kind, random));
  }
  return requests;
}

function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

async function main(): Promise<number> {
  const h2load = findH2load();
  if (h2load === null) {
    process.stdout.write("h2load not found: install it: apt-get install nghttp2-client\n");
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), "apikeys-bench-"));
  let mongo: LocalMongo | null = null;
  try {
    log("starting the local database");
    mongo = await startLocalMongo({ dataDir: join(work, "mongo") });
    const seedClient = new MongoClient(mongo.uri);
    await seedClient.connect();
    log(`seeding ${settings.keys} keys`);
    const seedStarted = performance.now();
    const pool = await seedKeyPool(seedClient.db("bench"), settings.keys, loadConfig(BENCH_ENV));
    await seedClient.close();
    log(`seeded in ${fmt((performance.now() - seedStarted) / 1_000, 1)} s`);

    const [grpcPort, httpPort, ceilingPort] = [await freePort(), await freePort(), await freePort()];
    const common = { ...BENCH_ENV, LOG_LEVEL: "warn", GRPC_HOST: "127.0.0.1" };
    const service = startChild(
      "src/server/main.ts",
      {
        ...common,
        NODE_ENV: "production",
        MONGODB_URI: mongo.uri,
        MONGODB_DB: "bench",
        GRPC_PORT: String(grpcPort),
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(httpPort),
        REPLICA_ID: "bench-1",
      },
      profileDir("service"),
    );
    log("starting the service");
    await waitFor(
      "the service",
      service,
      async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200,
      120_000,
    );
    // setPriority(pid) renices one thread only (Linux priorities are per thread), and the wire server runs
    // worker threads: every thread is lowered, again before each run for threads started since.
    const databasePid = mongo.pid;
    const lowerDatabasePriority = () => {
      if (settings.dbNice >= 0) {
        for (const thread of threadsOf(databasePid)) {
          try {
            setPriority(thread, settings.dbNice);
          } catch {
            // The thread ended meanwhile.
          }
        }
      }
    };
    // Cold: the service has never seen these keys.
    const coldBefore = await scrape(httpPort);
    log(`cold run: ${settings.coldKeys} distinct keys`);
    const cold = settings.coldKeys > 0 ? await coldRun(pool, grpcPort, settings.coldKeys) : null;
    const coldAfter = await scrape(httpPort);
    // From here on every verification is warm: the database stand-in only has background work left (usage
    // events), and gets the CPU the service and the load generator leave (see docs/bench.md).
    lowerDatabasePriority();
    if (cpus !== null) {
      // After the cold run, which is bound by the database: it has both CPUs for it.
      pinProcess(service.process.pid, cpus.servers);
      pinProcess(databasePid, cpus.others);
      pinProcess(process.pid, cpus.others);
    }

    const random = seededRandom(settings.seed);
    const targets = {
      verify: `http://127.0.0.1:${grpcPort}`,
      ceiling: `http://127.0.0.1:${ceilingPort}`,
    } as const;
    const jobsFor = (base: string, path: string, label: string, files: readonly string[]): H2loadJob[] =>
      files.map((dataFile, i) => ({ url: base + path, dataFile, logFile: join(work, `${label}-${i}.log`) }));

    // Warm-up: let both processes reach steady state (JIT, connections) before anything is measured. One
    // draw per refusal kind, so that every kind of request the rounds send (each round has one refusal) has
    // been served and compiled for before round 1; with one draw, round 1 met its refusal kind for the first
    // time and both servers spent it recompiling (their helper threads ran three times their usual CPU).
    const warmDraws = REFUSED_KINDS.map((_, draw) => roundRequests(pool, draw, random));
    const warmResponses = (await Promise.all(warmDraws.map((draw) => prepare(grpcPort, draw)))).flat();
    const typical = warmResponses.find((response) => response.valid);
    if (typical === undefined) {
      throw new Error("no valid response to model the ceiling's answer on");
    }
    log("starting the ceiling server");
    const ceiling = startChild(
      "bench/ceiling-server.ts",
      {
        ...common,
        NODE_ENV: "production",
        MONGODB_URI: mongo.uri,
        GRPC_PORT: String(ceilingPort),
        HTTP_PORT: String(await freePort()),
        // The ceiling answers what the service itself answers to a typical request (same fields, same
        // size), so both transports encode the same response.
        CEILING_RESPONSE: Buffer.from(toBinary(VerifyKeyResponseSchema, typical)).toString("base64"),
      },
      profileDir("ceiling"),
    );
    await waitFor(
      "the ceiling server",
      ceiling,
      async () => ceiling.output().includes("CEILING_PORT="),
      60_000,
    );
    if (cpus !== null) {
      pinProcess(ceiling.process.pid, cpus.servers);
    }

    const warmFiles = warmDraws.map((draw, d) =>
      draw.map((request, i) => {
        const file = join(work, `warmup-${d}-${i}.bin`);
        writeFileSync(file, requestFrame(request));
        return file;
      }),
    );
    const warmupLoad = { ...settings.load, durationS: 1, warmupS: 1 };
    for (const [name, base] of Object.entries(targets)) {
      log(`warm-up: ${name}`);
      for (const [d, files] of warmFiles.entries()) {
        await runParallel(h2load, jobsFor(base, VERIFY_PATH, `warmup-${name}-${d}`, files), warmupLoad);
      }
    }

    const warmBefore = await scrape(httpPort);
    // Verdicts and errors during the measured verify runs only (not the rounds' key preparation).
    const measuredOutcomes = new Map<string, number>();
    const rounds: Array<{
      verify: number;
      ceiling: number;
      kinds: string;
      cpuVerify: number;
      cpuCeiling: number;
      threads: Record<"verify" | "ceiling", ThreadSplit>;
    }> = [];
    const pids = { verify: service.process.pid, ceiling: ceiling.process.pid };
    // Server CPU per request over a run (warm-up included, so requests are estimated from the rate): a
    // diagnostic that other load on the machine disturbs far less than throughput.
    const cpuPerRequestUs = (cpuDelta: number, rps: number) =>
      (cpuDelta * 1e6) / (rps * (settings.load.durationS + settings.load.warmupS));
    const verifyLatencies: Float64Array[] = [];
    let verifyRequests = 0;
    let failedRequests = 0;
    for (let round = 1; round <= settings.rounds; round++) {
      const requests = roundRequests(pool, round, random);
      const files = requests.map((request, i) => {
        const file = join(work, `round-${round}-${i}.bin`);
        writeFileSync(file, requestFrame(request));
        return file;
      });
      await prepare(grpcPort, requests);
      const order = round % 2 === 1 ? (["verify", "ceiling"] as const) : (["ceiling", "verify"] as const);
      const measured = { verify: 0, ceiling: 0 };
      const cpu = { verify: 0, ceiling: 0 };
      const unknownSplit: ThreadSplit = { main: Number.NaN, busiest: Number.NaN, rest: Number.NaN };
      const threads: Record<"verify" | "ceiling", ThreadSplit> = {
        verify: unknownSplit,
        ceiling: unknownSplit,
      };
      for (const target of order) {
        lowerDatabasePriority();
        const cpuBefore = cpuSeconds(pids[target]);
        const threadsBefore = threadCpuSeconds(pids[target]);
        const metricsBefore = target === "verify" ? await scrape(httpPort) : null;
        const result = await runParallel(
          h2load,
          jobsFor(targets[target], VERIFY_PATH, `round-${round}-${target}`, files),
          settings.load,
        );
        measured[target] = result.requestsPerSecond;
        cpu[target] = cpuPerRequestUs(cpuSeconds(pids[target]) - cpuBefore, result.requestsPerSecond);
        const split = threadSplit(pids[target], threadsBefore);
        const perRequest = (seconds: number) => cpuPerRequestUs(seconds, result.requestsPerSecond);
        threads[target] = {
          main: perRequest(split.main),
          busiest: perRequest(split.busiest),
          rest: perRequest(split.rest),
        };
        failedRequests += result.failed + result.errored;
        if (metricsBefore !== null) {
          verifyRequests += result.succeeded;
          verifyLatencies.push(result.latenciesUs);
          const metricsAfter = await scrape(httpPort);
          for (const name of OUTCOME_SAMPLES) {
            measuredOutcomes.set(
              name,
              (measuredOutcomes.get(name) ?? 0) + delta(metricsAfter, metricsBefore, name),
            );
          }
        }
      }
      const kinds = requests.map((request) => request.kind).join(",");
      rounds.push({ ...measured, kinds, cpuVerify: cpu.verify, cpuCeiling: cpu.ceiling, threads });
      log(
        `round ${round}: verify ${fmt(measured.verify)} rps, ceiling ${fmt(measured.ceiling)} rps, ratio ${fmt(measured.verify / measured.ceiling, 3)}; server CPU per request ${fmt(cpu.verify, 1)} vs ${fmt(cpu.ceiling, 1)} us (threads of the service: main ${fmt(threads.verify.main, 1)}, busiest other ${fmt(threads.verify.busiest, 1)}, rest ${fmt(threads.verify.rest, 1)}; of the ceiling: main ${fmt(threads.ceiling.main, 1)}, rest ${fmt(threads.ceiling.busiest + threads.ceiling.rest, 1)}) [${kinds}]`,
      );
    }
    const warmAfter = await scrape(httpPort);

    const healthFile = join(work, "health.bin");
    writeFileSync(healthFile, grpcFrame(new Uint8Array(0)));
    const healthFiles = Array.from({ length: settings.processes }, () => healthFile);
    const health: Record<string, number> = {};
    for (const [name, base] of Object.entries(targets)) {
      log(`health check: ${name}`);
      const result = await runParallel(
        h2load,
        jobsFor(base, HEALTH_PATH, `health-${name}`, healthFiles),
        settings.load,
      );
      health[name] = result.requestsPerSecond;
    }
    const final = await scrape(httpPort);

    const verifyRps = median(rounds.map((round) => round.verify));
    const ceilingRps = median(rounds.map((round) => round.ceiling));
    const ratio = median(rounds.map((round) => round.verify / round.ceiling));
    const allLatencies = new Float64Array(verifyLatencies.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of verifyLatencies) {
      allLatencies.set(part, offset);
      offset += part.length;
    }
    const p50 = percentile(allLatencies, 50) / 1_000;
    const p99 = percentile(allLatencies, 99) / 1_000;
    // Commands while the service was being driven, per verification it answered then. The whole warm window
    // also holds the ceiling's runs and the rounds' preparation, when the service only polls in the background.
    const dbCommands = measuredOutcomes.get(DB_COMMANDS) ?? 0;
    const dbPerVerify = verifyRequests > 0 ? dbCommands / verifyRequests : Number.NaN;
    const windowCommands = delta(warmAfter, warmBefore, DB_COMMANDS);
    // The usage statistics' batched writes, already part of dbCommands (same client), shown on their own.
    const statsWrites =
      delta(warmAfter, warmBefore, 'apikeys_usage_stats_writes_total{outcome="ok"}') +
      delta(warmAfter, warmBefore, 'apikeys_usage_stats_writes_total{outcome="failed"}');
    const statsPerVerify = verifyRequests > 0 ? statsWrites / verifyRequests : Number.NaN;
    const verdicts = CODES.map(
      (code) => `${code}=${measuredOutcomes.get(`apikeys_verify_verdicts_total{code="${code}"}`) ?? 0}`,
    ).join(" ");
    const errors = ERROR_KINDS.map(
      (kind) => `${kind}=${measuredOutcomes.get(`apikeys_verify_errors_total{kind="${kind}"}`) ?? 0}`,
    ).join(" ");

    const out = (line: string) => process.stdout.write(`${line}\n`);
    out("");
    out("VerifyKey benchmark");
    out(
      `  pool: ${settings.keys} keys (58% plain, 20% IPv4/IPv6 allowlists, 20% in ${pool.groups.length} groups, 1% revoked, 1% expired)`,
    );
    out(
      `  load: ${settings.processes} h2load processes x ${settings.load.clients} connection(s) x ${settings.load.streams} streams, ${settings.load.warmupS}s warm-up + ${settings.load.durationS}s per run, ${settings.rounds} rounds, verify and ceiling alternating`,
    );
    out(
      cpus === null
        ? "  cpus: not pinned (BENCH_PIN=0, one CPU, or no taskset)"
        : `  cpus: service and ceiling on CPU ${cpus.servers}; database, h2load and this script on CPU ${cpus.others}`,
    );
    if (cold !== null) {
      out(
        `  cold (empty cache, ${cold.verified + cold.errors} distinct keys, grpc-js client x${COLD_CONCURRENCY}): ${fmt(cold.rps)} rps, p50 ${fmt(cold.p50, 2)} ms, p99 ${fmt(cold.p99, 2)} ms, ${cold.errors} errors${cold.errors > 0 ? ` (${cold.errorKinds})` : ""}, db commands/verify ${fmt(delta(coldAfter, coldBefore, "apikeys_db_commands_total") / Math.max(1, cold.verified + cold.errors), 2)}`,
      );
    }
    for (const [i, round] of rounds.entries()) {
      out(
        `  round ${i + 1}: verify ${fmt(round.verify)} rps | ceiling ${fmt(round.ceiling)} rps | ratio ${fmt(round.verify / round.ceiling, 3)} | CPU/request ${fmt(round.cpuVerify, 1)} vs ${fmt(round.cpuCeiling, 1)} us`,
      );
    }
    out(
      `  medians: verify ${fmt(verifyRps)} rps, ceiling ${fmt(ceilingRps)} rps, ratio of medians ${fmt(verifyRps / ceilingRps, 3)}, median of ratios ${fmt(ratio, 3)}`,
    );
    out(`  verify latency (h2load, warm rounds): p50 ${fmt(p50, 3)} ms, p99 ${fmt(p99, 3)} ms`);
    out(
      `  grpc.health.v1.Health/Check: service ${fmt(health.verify ?? Number.NaN)} rps, ceiling ${fmt(health.ceiling ?? Number.NaN)} rps`,
    );
    out(
      `  measured verify runs: verdicts ${verdicts}; RPC errors ${errors}; h2load failures ${failedRequests}`,
    );
    out(
      `  database commands during the measured verify runs: ${dbCommands} for ${verifyRequests} verifications (the whole warm window, ceiling runs included: ${windowCommands})`,
    );
    out(
      `  usage statistics: ${statsWrites} batched writes during the warm rounds (${fmt(statsPerVerify, 6)} per verification, among the window's commands); counted ${final.get("apikeys_usage_stats_counted_total") ?? 0}, written ${final.get("apikeys_usage_stats_written_total") ?? 0}, pending ${final.get("apikeys_usage_stats_pending_verdicts") ?? 0}, dropped ${final.get("apikeys_usage_stats_dropped_total") ?? 0}`,
    );
    out(
      `  usage events: emitted ${final.get("apikeys_audit_events_emitted_total") ?? 0}, persisted ${final.get("apikeys_audit_events_persisted_total") ?? 0}, dropped ${final.get("apikeys_audit_events_dropped_total") ?? 0}, buffered ${final.get("apikeys_audit_buffer_events") ?? 0}`,
    );
    out(
      `  cache: ${final.get('apikeys_verify_cache_entries{cache="positive"}') ?? 0} keys, ${final.get('apikeys_verify_cache_entries{cache="negative"}') ?? 0} unknown ids, ${final.get('apikeys_verify_cache_entries{cache="group"}') ?? 0} groups`,
    );
    out(
      `RESULT verify_rps=${fmt(verifyRps)} ceiling_rps=${fmt(ceilingRps)} ratio=${fmt(ratio, 3)} p50_ms=${fmt(p50, 3)} p99_ms=${fmt(p99, 3)} db_cmds_per_verify=${fmt(dbPerVerify, 5)} stats_writes_per_verify=${fmt(statsPerVerify, 6)}`,
    );
    return 0;
  } catch (error) {
    for (const child of children) {
      const status = child.process.exitCode ?? child.process.signalCode ?? "running";
      log(
        `child ${child.process.spawnargs.at(-1)} (${status}) output tail:\n${child.output().slice(-4_000)}`,
      );
    }
    throw error;
  } finally {
    await Promise.all(children.map(stopChild));
    await mongo?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => {
  for (const child of children) {
    child.process.kill("SIGKILL");
  }
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
