/**
 * `npm start` under a supervisor: SIGTERM goes to the npm process, not to node. npm relays it to the shell
 * running the start script, and a shell that merely waits on node dies without passing it on, leaving node
 * serving as an orphan; the start script execs node, so the relayed signal reaches the service itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { mongoUri, uniqueDbName } from "../helpers/mongo.js";

/** How long the service may drain on SIGTERM; the exit deadline below is derived from it. */
const SHUTDOWN_DRAIN_MS = 5_000;

interface NpmStart {
  readonly npm: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** startNpm runs `npm start` as the leader of a process group of its own, so the test can see every descendant. */
function startNpm(env: Record<string, string>): NpmStart {
  const npm = spawn("npm", ["start"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  npm.stdout?.on("data", append);
  npm.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
  return { npm, output: () => output, exited };
}

/** groupAlive tells whether any process of the group led by `pgid` (npm, the shell, node) still runs. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") {
      return false;
    }
    throw error;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("npm start", () => {
  const groups: number[] = [];
  afterAll(() => {
    for (const pgid of groups) {
      if (groupAlive(pgid)) {
        process.kill(-pgid, "SIGKILL");
      }
    }
  });

  it("stops the service cleanly when SIGTERM is sent to the npm process, and releases both ports", async () => {
    const run = startNpm({
      MONGODB_URI: mongoUri(),
      MONGODB_DB: uniqueDbName("npmstart"),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      SHUTDOWN_DRAIN_MS: String(SHUTDOWN_DRAIN_MS),
    });
    const pgid = run.npm.pid ?? -1;
    groups.push(pgid);

    await expect
      .poll(() => /"port":(\d+),[^\n]*"msg":"http listening"/.exec(run.output()), { timeout: 60_000 })
      .not.toBeNull();
    const grpcPort = Number(/"port":(\d+),[^\n]*"msg":"grpc listening"/.exec(run.output())?.[1]);
    const httpPort = Number(/"port":(\d+),[^\n]*"msg":"http listening"/.exec(run.output())?.[1]);
    expect(await accepts(httpPort)).toBe(true);

    run.npm.kill("SIGTERM");

    // Every process npm started is gone — node above all — not merely npm itself.
    await expect.poll(() => groupAlive(pgid), { timeout: SHUTDOWN_DRAIN_MS + 10_000 }).toBe(false);
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('"reason":"received SIGTERM"');
    expect(run.output()).toContain('"msg":"shutdown complete"');
    expect(await accepts(httpPort)).toBe(false);
    expect(await canListen(grpcPort)).toBe(true);
    expect(await canListen(httpPort)).toBe(true);
  }, 90_000);
});
