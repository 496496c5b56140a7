/**
 * The service as `npm start` runs it (`node --import tsx src/server/main.ts`), as a child process on free
 * ports against a database of the test run's server.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** ServiceProcess is a started service and where it listens. */
export interface ServiceProcess {
  /** grpcAddress is "127.0.0.1:port" of the gRPC port. */
  readonly grpcAddress: string;
  /** httpUrl is "http://127.0.0.1:port" of the HTTP port. */
  readonly httpUrl: string;
  /** output is what the service logged so far. */
  output(): string;
  /** stop sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/** startServiceProcess starts main.ts with exactly `env` (plus PATH and HOME) and waits for both ports. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const portOf = (transport: string) =>
    new RegExp(`"port":(\\d+),[^\\n]*"msg":"${transport} listening"`).exec(output)?.[1];
  // Started in a hook, where expect.poll is not available: wait for the two `listening` lines or the exit.
  const deadline = Date.now() + 60_000;
  while (portOf("grpc") === undefined || portOf("http") === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the service did not start listening on both ports:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    grpcAddress: `127.0.0.1:${portOf("grpc")}`,
    httpUrl: `http://127.0.0.1:${portOf("http")}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}
