/**
 * The real server stack, in process, on port 0 with both transports, against a per-file test database —
 * for RPC tests over real sockets. It runs the production wiring (wireServices via bootServer); pass
 * `services` to replace an implementation (a slow or throwing handler).
 *
 *   const server = useTestServer("mytests", { env: { VERIFY_CALLER_TOKEN: "..." } });
 *   it("...", async () => { const client = createGrpcJsClient(Health, server.current.grpcAddress); ... });
 */
import type { Db, MongoClient } from "mongodb";
import type { DestinationStream } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll } from "vitest";
import { bootServer } from "../../src/server/boot.js";
import { type Config, loadConfig } from "../../src/server/config.js";
import { createLogger } from "../../src/server/logger.js";
import type { ServiceTracing } from "../../src/server/tracing.js";
import type { CallObserver } from "../../src/transport/interceptors/request-log.js";
import type {
  CloseHook,
  RunningServer,
  ServiceImpls,
  ShutdownResult,
} from "../../src/transport/start-server.js";
import { useTestDatabase } from "./mongo.js";

/** CapturedLogs are the log lines a test server wrote. */
export interface CapturedLogs {
  /** text is every line written so far, joined. */
  text(): string;
  /** records are the parsed lines. */
  records(): Record<string, unknown>[];
  /** clear forgets what was captured. */
  clear(): void;
}

/** createLogCapture returns a pino destination that keeps lines in memory, and a view of them. */
export function createLogCapture(): { destination: DestinationStream; logs: CapturedLogs } {
  let lines: string[] = [];
  return {
    destination: {
      write(chunk: string) {
        lines.push(chunk);
      },
    },
    logs: {
      text: () => lines.join(""),
      records: () =>
        lines
          .join("")
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      clear: () => {
        lines = [];
      },
    },
  };
}

/** TestServerOptions tune a test server. */
export interface TestServerOptions {
  /** env overrides configuration variables (ports, hosts, database and LOG_LEVEL=debug are preset). */
  readonly env?: Readonly<Record<string, string>>;
  /** services replace the wired service implementations. */
  readonly services?: ServiceImpls;
  /** observers are told about every finished call. */
  readonly observers?: readonly CallObserver[];
  /** closeHooks run at shutdown after the wired services' own hooks. */
  readonly closeHooks?: readonly CloseHook[];
  /** tracing replaces the tracing the configuration asks for (spans exported in memory). */
  readonly tracing?: ServiceTracing;
}

/** TestServer is a started server stack and what a test needs to reach it. */
export interface TestServer {
  readonly config: Config;
  readonly server: RunningServer;
  /** grpcAddress is "127.0.0.1:port" of the gRPC port. */
  readonly grpcAddress: string;
  /** httpBaseUrl is "http://127.0.0.1:port" of the HTTP port. */
  readonly httpBaseUrl: string;
  readonly db: Db;
  readonly metrics: Registry;
  readonly logs: CapturedLogs;
  /** shutdown runs the server's graceful shutdown (idempotent). */
  shutdown(): Promise<ShutdownResult>;
}

/** TestDatabase is what useTestDatabase returns. */
export interface TestDatabase {
  readonly client: MongoClient;
  readonly db: Db;
  readonly dbName: string;
  readonly uri: string;
}

/** testEnv is the configuration a test server starts from, before `overrides`. */
export function testEnv(
  database: TestDatabase,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    NODE_ENV: "test",
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: "0",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: "0",
    MONGODB_URI: database.uri,
    MONGODB_DB: database.dbName,
    LOG_LEVEL: "debug",
    SHUTDOWN_DRAIN_MS: "5000",
    // The shared test database answers slowly while other suites load the machine: a cache-miss lookup gets
    // a budget that a loaded stand-in meets, so only the tests about the budget (which set their own) see
    // UNAVAILABLE.
    KEY_LOOKUP_TIMEOUT_MS: "2000",
    ...overrides,
  };
}

/** startTestServer starts the stack against `database` (its client stays open: the caller owns it). */
export async function startTestServer(
  database: TestDatabase,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const config = loadConfig(testEnv(database, options.env));
  const { destination, logs } = createLogCapture();
  const logger = createLogger(config, { destination });
  const metrics = new Registry();
  const server = await bootServer(config, {
    logger,
    mongoClient: database.client,
    db: database.db,
    metrics,
    readiness: async () => {
      await database.db.command({ ping: 1 });
      return true;
    },
    ...(options.services === undefined ? {} : { overrides: options.services }),
    ...(options.observers === undefined ? {} : { observers: options.observers }),
    ...(options.closeHooks === undefined ? {} : { closeHooks: options.closeHooks }),
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  return {
    config,
    server,
    grpcAddress: `127.0.0.1:${server.grpcPort}`,
    httpBaseUrl: `http://127.0.0.1:${server.httpPort}`,
    db: database.db,
    metrics,
    logs,
    shutdown: () => server.shutdown("test finished"),
  };
}

/**
 * useTestServer gives the calling test file a server on its own database: started before the file's tests,
 * shut down after them. Read `.current` inside tests (it throws before the server started).
 */
export function useTestServer(
  label: string,
  options: TestServerOptions = {},
): { readonly current: TestServer } {
  const database = useTestDatabase(label);
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await startTestServer(database, options);
  });
  afterAll(async () => {
    await started?.shutdown();
  });
  return {
    get current(): TestServer {
      if (started === undefined) {
        throw new Error("the test server has not started yet (use it inside tests or hooks)");
      }
      return started;
    },
  };
}
