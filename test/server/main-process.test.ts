/**
 * The real entry point as a child process (`tsx src/server/main.ts`): configuration errors, an unreachable
 * database, and a real start on a provisioned local database followed by SIGTERM during an open call.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient } from "../helpers/grpc-client.js";
import { mongoUri, uniqueDbName } from "../helpers/mongo.js";

const TSX = "node_modules/.bin/tsx";
const MAIN = "src/server/main.ts";

/**
 * Signal tests run main in `node --import tsx`, one process: the tsx CLI is a parent that relays SIGTERM
 * and SIGKILLs its child when the child does not acknowledge within 30 ms, which a loaded machine misses.
 */
const NODE_WITH_TSX = [process.execPath, "--import", "tsx", MAIN] as const;

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * startMain runs main.ts with exactly `env` (plus PATH/HOME), never the test run's own variables; through
 * the tsx CLI (as `npm start` does), or in one node process when the test sends signals.
 */
function startMain(env: Record<string, string>, how: "tsx-cli" | "node" = "tsx-cli"): Run {
  const [command, ...args] = how === "node" ? NODE_WITH_TSX : [TSX, MAIN];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return vi.waitFor(
    () => {
      const match = pattern.exec(run.output());
      if (match === null) {
        throw new Error(`no ${pattern} in output:\n${run.output()}`);
      }
      return match;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

describe("main (child process)", () => {
  const running: Run[] = [];
  afterAll(() => {
    for (const run of running) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill("SIGKILL");
      }
    }
  });

  it.each([
    [{ GRPC_PORT: "abc" }, ["GRPC_PORT"]],
    [{ HTTP_PORT: "99999", LOG_LEVEL: "loud" }, ["HTTP_PORT", "LOG_LEVEL"]],
    [{ NODE_ENV: "production" }, ["MONGODB_URI", "KEY_HASH_PEPPER"]],
  ])("exits non-zero with one line naming each bad variable for %j", async (env, names) => {
    const run = startMain(env);
    running.push(run);
    const { code } = await run.exited;
    expect(code).toBe(2);
    const lines = run.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    for (const name of names) {
      expect(lines[0]).toContain(`${name}: `);
    }
  });

  it("exits non-zero with a clear error when MongoDB cannot be reached, instead of hanging", async () => {
    const run = startMain({
      MONGODB_URI: "mongodb://app:pa55word@127.0.0.1:1/apikeys",
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: "500",
      GRPC_PORT: "0",
      HTTP_PORT: "0",
    });
    running.push(run);
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toContain("MONGODB_URI: cannot reach MongoDB at 127.0.0.1:1 within 500 ms");
    expect(run.output()).not.toContain("pa55word");
    expect(run.output()).not.toContain("listening");
  });

  it("honours a SIGTERM that arrives during startup: it stops the provisioned database and exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "apikeys-main-"));
    const run = startMain(
      {
        NODE_ENV: "development",
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: "0",
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: "0",
        LOCAL_MONGO_DATA_DIR: dataDir,
      },
      "node",
    );
    running.push(run);
    try {
      // The first line is logged after the signal handlers are installed.
      await waitForOutput(run, /KEY_HASH_PEPPER is not set/, 30_000);
      run.child.kill("SIGTERM");
      const { code } = await run.exited;
      expect(code).toBe(0);
      expect(run.output()).toContain("signal during startup");
      expect(run.output()).toContain('"msg":"shutdown complete"');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("starts on a provisioned local database, logs both ports, and exits 0 on SIGTERM after ending an open call", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "apikeys-main-"));
    const run = startMain(
      {
        NODE_ENV: "development",
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: "0",
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: "0",
        LOCAL_MONGO_DATA_DIR: dataDir,
      },
      "node",
    );
    running.push(run);
    try {
      const grpcPort = (await waitForOutput(run, /"port":(\d+),[^\n]*"msg":"grpc listening"/, 60_000))[1];
      const httpPort = (await waitForOutput(run, /"port":(\d+),[^\n]*"msg":"http listening"/, 10_000))[1];
      expect(run.output()).toMatch(/in-memory MongoDB-wire server|started a local mongod/);
      expect(run.output().match(/"msg":"grpc listening"/g)).toHaveLength(1);
      expect(run.output().match(/"msg":"http listening"/g)).toHaveLength(1);

      const http = createConnectClient(Health, `http://127.0.0.1:${httpPort}`);
      expect((await http.check({})).status).toBe(ServingStatus.SERVING);
      expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);

      // An open call across SIGTERM: the health watch sees NOT_SERVING and is then ended.
      const grpc = createGrpcJsClient(Health, `127.0.0.1:${grpcPort}`);
      const statuses: ServingStatus[] = [];
      const watch = grpc.watch({ service: "" });
      const watchEnded = new Promise<number>((resolve) => {
        watch.on("data", (message: { status: ServingStatus }) => statuses.push(message.status));
        watch.on("error", (error: { code: number }) => resolve(error.code));
        watch.on("end", () => resolve(status.OK));
      });
      await expect.poll(() => statuses.length).toBeGreaterThan(0);
      run.child.kill("SIGTERM");
      expect(await watchEnded).toBe(status.UNAVAILABLE);
      expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      grpc.close();
      const { code } = await run.exited;
      expect(code).toBe(0);
      expect(run.output()).toContain('"msg":"shutdown complete"');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it("restarts with the same pepper, and refuses to start with a changed one in one line saying what changed", async () => {
    const pepper = "first-deployment-pepper-0123456789abcdefghij";
    const changed = "changed-deployment-pepper-0123456789abcdefgh";
    const env = {
      MONGODB_URI: mongoUri(),
      MONGODB_DB: uniqueDbName("pepperrestart"),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
    };
    for (const check of ["recorded", "matches"]) {
      const run = startMain({ ...env, KEY_HASH_PEPPER: pepper }, "node");
      running.push(run);
      await waitForOutput(run, /"msg":"http listening"/, 60_000);
      expect(run.output()).toContain(`"check":"${check}"`);
      run.child.kill("SIGTERM");
      expect((await run.exited).code).toBe(0);
    }

    const refused = startMain({ ...env, KEY_HASH_PEPPER: changed }, "node");
    running.push(refused);
    expect((await refused.exited).code).toBe(1);
    const lines = refused.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("KEY_HASH_PEPPER: changed since this database's keys were hashed");
    expect(refused.output()).not.toContain(pepper);
    expect(refused.output()).not.toContain(changed);
    expect(refused.output()).not.toContain("listening");
  }, 90_000);
});
