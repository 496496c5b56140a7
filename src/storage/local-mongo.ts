/**
 * Local MongoDB for development and tests, used only when MONGODB_URI is not set (never in production):
 * a real `mongod` found on PATH (data kept in a local directory), otherwise the npm-shipped MongoDB-wire
 * server from @jongodb/memory-server-bin-linux-x64-gnu (in memory: data is lost when it stops).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

/** LocalMongo is a running local database server owned by this process. */
export interface LocalMongo {
  /** uri connects to it. */
  readonly uri: string;
  /** kind tells which server runs: a real mongod, or the in-memory wire server. */
  readonly kind: "mongod" | "jongodb";
  /** pid of the server process (tests use it to pause the server with SIGSTOP). */
  readonly pid: number;
  /** stop ends the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** LocalMongoOptions tune where a real mongod keeps its data. */
export interface LocalMongoOptions {
  /** dataDir for a real mongod; ignored for the in-memory server. */
  readonly dataDir: string;
  /** startTimeoutMs bounds how long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
}

/** startLocalMongo starts the best local server available and resolves once it accepts connections. */
export async function startLocalMongo(options: LocalMongoOptions): Promise<LocalMongo> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  if (findOnPath("mongod") !== null) {
    return startMongod(options.dataDir, timeoutMs);
  }
  return startJongodb(timeoutMs);
}

function findOnPath(command: string): string | null {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  const found = result.stdout.trim();
  return result.status === 0 && found !== "" ? found : null;
}

/** jongodbBinaryPath resolves the wire server's executable inside its npm package. */
export function jongodbBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("@jongodb/memory-server-bin-linux-x64-gnu/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { jongodb?: { binary?: string } };
  return join(dirname(manifestPath), manifest.jongodb?.binary ?? "bin/jongodb");
}

async function startJongodb(timeoutMs: number): Promise<LocalMongo> {
  let binary: string;
  try {
    binary = jongodbBinaryPath();
  } catch (cause) {
    throw new Error(
      "no MONGODB_URI, no mongod on PATH, and @jongodb/memory-server-bin-linux-x64-gnu is not installed (run npm ci)",
      { cause },
    );
  }
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
