/**
 * Local MongoDB for development and tests when MONGODB_URI is not set (never in production): a `mongod` on
 * PATH, else the npm-shipped in-memory MongoDB-wire server (an optional dependency built for some platforms).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

export interface LocalMongo {
  readonly uri: string;
  /** kind tells which server runs: a real mongod, or the in-memory wire server. */
  readonly kind: "mongod" | "jongodb";
  /** pid of the server process (tests use it to pause the server with SIGSTOP). */
  readonly pid: number;
  stop(): Promise<void>;
}

export interface LocalMongoOptions {
  /** dataDir for a real mongod; ignored for the in-memory server. */
  readonly dataDir: string;
  readonly startTimeoutMs?: number;
}

/** The wire server's npm packages, one per platform built: optional dependencies, npm installs the fitting one. */
export const WIRE_SERVER_PACKAGES: readonly string[] = ["@jongodb/memory-server-bin-linux-x64-gnu"];

export interface Platform {
  readonly platform: string;
  readonly arch: string;
}

export class LocalDatabaseUnavailableError extends Error {
  constructor(target: Platform) {
    super(
      `no database: MONGODB_URI is not set, no mongod is on PATH, and no npm MongoDB-wire server is installed for ${target.platform}-${target.arch}; set MONGODB_URI to a MongoDB server (mongodb://host:27017/), or put mongod on PATH`,
    );
    this.name = "LocalDatabaseUnavailableError";
    // A setup problem, not a bug: the frames would only bury the one line that says what to do.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export async function startLocalMongo(options: LocalMongoOptions): Promise<LocalMongo> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  if (findOnPath("mongod") !== null) {
    return startMongod(options.dataDir, timeoutMs);
  }
  const binary = wireServerBinary(process);
  if (binary === null) {
    throw new LocalDatabaseUnavailableError(process);
  }
  return startJongodb(binary, timeoutMs);
}

function findOnPath(command: string): string | null {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  const found = result.stdout.trim();
  return result.status === 0 && found !== "" ? found : null;
}

/**
 * wireServerBinary is the executable of the installed wire server package built for `target`, or null when
 * none is installed (a node_modules copied from another machine may hold one built for another platform).
 */
export function wireServerBinary(target: Platform): string | null {
  const require = createRequire(import.meta.url);
  for (const name of WIRE_SERVER_PACKAGES) {
    let manifestPath: string;
    try {
      manifestPath = require.resolve(`${name}/package.json`);
    } catch {
      continue;
    }
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      os?: string[];
      cpu?: string[];
      jongodb?: { binary?: string };
    };
    const fitsOs = manifest.os === undefined || manifest.os.includes(target.platform);
    const fitsCpu = manifest.cpu === undefined || manifest.cpu.includes(target.arch);
    if (fitsOs && fitsCpu) {
      return join(dirname(manifestPath), manifest.jongodb?.binary ?? "bin/jongodb");
    }
  }
  return null;
}

async function startJongodb(binary: string, timeoutMs: number): Promise<LocalMongo> {
  const child = spawn(binary, ["--host=127.0.0.1", "--port=0"], { stdio: ["ignore", "pipe", "pipe"] });
  const uri = await waitForLine(child, /JONGODB_URI=(\S+)/, timeoutMs, "jongodb");
  return running(child, uri, "jongodb");
}

async function startMongod(dataDir: string, timeoutMs: number): Promise<LocalMongo> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn("mongod", ["--dbpath", dataDir, "--bind_ip", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForLine(child, /Waiting for connections|waiting for connections/, timeoutMs, "mongod");
  return running(child, `mongodb://127.0.0.1:${port}/`, "mongod");
}

function running(child: ChildProcess, uri: string, kind: LocalMongo["kind"]): LocalMongo {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
    } else {
      child.once("exit", () => resolve());
    }
  });
  // Keep draining output so the child never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    uri,
    kind,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGCONT");
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = pattern.exec(output);
      if (match) {
        done();
        resolve(match[1] ?? match[0]);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(
        new Error(`${what} exited with code ${code} before accepting connections: ${output.slice(-500)}`),
      );
    };
    const timer = setTimeout(() => {
      done();
      child.kill("SIGKILL");
      reject(new Error(`${what} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
