/**
 * The REAL apikeys service for end-to-end tests of the clients: the production stack (bootServer via
 * startTestServer) in process, on port 0, against the test file's own database, with a BOOTSTRAP_TOKEN in
 * its configuration. It can be stopped and started again on the SAME ports and database (a restart, as a
 * client sees it), and a second replica can join the same database. Admin calls go through the real
 * KeyAdminService (Connect JSON on the HTTP port), exactly like any other admin tool.
 *
 *   const service = useRealService("mytests");
 *   it("...", async () => { const root = await service.rootKey(); ... });
 */
import { randomBytes } from "node:crypto";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll } from "vitest";
import { createKeyFormat } from "../../../src/domain/key-format.js";
import { AuditService } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { cryptoRandom } from "../../helpers/random.js";
import { startTestServer, type TestDatabase, type TestServer } from "../../helpers/start-server.js";

/** E2E_BOOTSTRAP_TOKEN is the BOOTSTRAP_TOKEN of every real service these tests start. Test only. */
export const E2E_BOOTSTRAP_TOKEN = "e2e-bootstrap-token-0123456789abcdef";

/** RealServiceOptions tune the service. */
export interface RealServiceOptions {
  /** env overrides configuration variables (BOOTSTRAP_TOKEN and a 200 ms audit heartbeat are preset). */
  readonly env?: Readonly<Record<string, string>>;
}

/** RealService is a real server on a per-file database that can be stopped and restarted on its ports. */
export interface RealService {
  readonly database: TestDatabase;
  /** current is the running server; it throws while the service is stopped. */
  readonly current: TestServer;
  /** grpcAddress is "127.0.0.1:port" of the gRPC port; it stays the same across restarts. */
  readonly grpcAddress: string;
  /** httpBaseUrl is "http://127.0.0.1:port" of the HTTP port; it stays the same across restarts. */
  readonly httpBaseUrl: string;
  /** running tells whether the server is up. */
  readonly running: boolean;
  /** stop shuts the server down gracefully (connections are refused afterwards). */
  stop(): Promise<void>;
  /** start starts a new server on the same ports and database. */
  start(): Promise<void>;
  /** startReplica starts another server on the same database, on new ports; the caller shuts it down. */
  startReplica(): Promise<TestServer>;
  /** admin is a KeyAdminService client on the HTTP port, authenticated with `key` when given. */
  admin(key?: string, baseUrl?: string): Client<typeof KeyAdminService>;
  /** audit is an AuditService client on the HTTP port, authenticated with `key`. */
  audit(key: string): Client<typeof AuditService>;
  /** rootKey bootstraps the super-user key through the admin API (once) and returns its secret. */
  rootKey(): Promise<string>;
  /** tenant creates a tenant as the super user (once; tenants exist before their keys) and returns its id. */
  tenant(tenantId: string): Promise<string>;
}

/** useRealService starts the real service before the file's tests and shuts it down after them. */
export function useRealService(label: string, options: RealServiceOptions = {}): RealService {
  const database = useTestDatabase(label);
  const env: Record<string, string> = {
    BOOTSTRAP_TOKEN: E2E_BOOTSTRAP_TOKEN,
    AUDIT_HEARTBEAT_MS: "200",
    LOG_LEVEL: "info",
    ...options.env,
  };
  let server: TestServer | undefined;
  let ports: { grpc: number; http: number } | undefined;
  let root: Promise<string> | undefined;
  const tenants = new Map<string, Promise<string>>();

  const portsOf = (): { grpc: number; http: number } => {
    if (ports === undefined) {
      throw new Error("the real service has not started yet (use it inside tests or hooks)");
    }
    return ports;
  };
  const service: RealService = {
    database,
    get current(): TestServer {
      if (server === undefined) {
        throw new Error("the real service is stopped");
      }
      return server;
    },
    get grpcAddress() {
      return `127.0.0.1:${portsOf().grpc}`;
    },
    get httpBaseUrl() {
      return `http://127.0.0.1:${portsOf().http}`;
    },
    get running() {
      return server !== undefined;
    },
    async stop() {
      const running = server;
      server = undefined;
      await running?.shutdown();
    },
    async start() {
      if (server !== undefined) {
        return;
      }
      const bound = portsOf();
      server = await startTestServer(database, {
        env: { ...env, GRPC_PORT: String(bound.grpc), HTTP_PORT: String(bound.http) },
      });
    },
    startReplica() {
      return startTestServer(database, { env });
    },
    admin(key, baseUrl) {
      return createClient(KeyAdminService, transportFor(baseUrl ?? service.httpBaseUrl, key));
    },
    audit(key) {
      return createClient(AuditService, transportFor(service.httpBaseUrl, key));
    },
    rootKey() {
      root ??= service
        .admin()
        .bootstrap({ bootstrapToken: E2E_BOOTSTRAP_TOKEN, name: "e2e root" })
        .then((response) => response.secret);
      return root;
    },
    tenant(tenantId) {
      let created = tenants.get(tenantId);
      if (created === undefined) {
        created = service
          .rootKey()
          .then((key) => service.admin(key).createTenant({ tenantId }))
          .then(() => tenantId);
        tenants.set(tenantId, created);
      }
      return created;
    },
  };

  beforeAll(async () => {
    server = await startTestServer(database, { env });
    ports = { grpc: server.server.grpcPort, http: server.server.httpPort };
  });
  afterAll(async () => {
    await service.stop();
  });
  return service;
}

function transportFor(baseUrl: string, key: string | undefined) {
  return createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    interceptors:
      key === undefined
        ? []
        : [
            (next) => (request) => {
              request.header.set("authorization", `Bearer ${key}`);
              return next(request);
            },
          ],
  });
}

/** unknownKeyOf makes a well-formed key with `prefix` that no server ever issued. */
export function unknownKeyOf(prefix = "ak_live_"): string {
  return createKeyFormat(prefix).generate(cryptoRandom).key;
}

/** unknownKeyIdOf makes a well-formed key id with `prefix` that no server ever issued. */
export function unknownKeyIdOf(prefix = "ak_live_"): string {
  const key = unknownKeyOf(prefix);
  return key.slice(0, key.lastIndexOf("_"));
}

/** uniqueName makes a tenant or group name no other test uses. */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(3).toString("hex")}`;
}
