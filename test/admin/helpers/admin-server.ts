/**
 * KeyAdminService over real sockets: the production server stack (useTestServer) and one client per
 * transport — a stock @grpc/grpc-js client on the gRPC port and a Connect (JSON, HTTP/1.1) client on the
 * HTTP port — behind one call shape, so every test runs on both. Every secret a response carries is
 * remembered, for the end-of-file scans of logs and database.
 */
import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, vi } from "vitest";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../../src/storage/audit-event-store.js";
import { CHANGES_COLLECTION } from "../../../src/storage/change-feed.js";
import { GROUPS_COLLECTION } from "../../../src/storage/group-repository.js";
import { IDEMPOTENCY_COLLECTION } from "../../../src/storage/idempotency-store.js";
import { KEYS_COLLECTION } from "../../../src/storage/key-document.js";
import { TENANTS_COLLECTION } from "../../../src/storage/tenant-repository.js";
import { createConnectClient } from "../../helpers/connect-client.js";
import { createGrpcJsClient } from "../../helpers/grpc-client.js";
import { useTestDatabase } from "../../helpers/mongo.js";

export { type RpcFailure, rpcFailure } from "../../helpers/rpc-failure.js";

import { startTestServer, type TestServer } from "../../helpers/start-server.js";

/** TRANSPORTS are the two ways tests reach KeyAdminService. */
export const TRANSPORTS = ["grpc-js", "connect"] as const;

/** TransportName names one of TRANSPORTS. */
export type TransportName = (typeof TRANSPORTS)[number];

type ConnectAdminClient = Client<typeof KeyAdminService>;

/** AdminMethod is a KeyAdminService method name (localName, as both clients spell it). */
export type AdminMethod = keyof ConnectAdminClient;

/** Auth is how a call authenticates: a key sent as "authorization: Bearer", or raw headers. */
export interface Auth {
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** AdminApi is KeyAdminService with a transport-neutral call shape. */
export type AdminApi = {
  readonly [M in AdminMethod]: (
    request: Parameters<ConnectAdminClient[M]>[0],
    auth?: Auth,
  ) => ReturnType<ConnectAdminClient[M]>;
};

function headersOf(auth: Auth | undefined): Record<string, string> {
  return {
    ...(auth?.key === undefined ? {} : { authorization: `Bearer ${auth.key}` }),
    ...auth?.headers,
  };
}

/** AdminServer is a started server with a client per transport and the secrets it issued. */
export interface AdminServer {
  readonly server: TestServer;
  /** api returns the client of a transport. */
  /** api calls the service; createKey and createGroup first create their tenant (tests not about tenants). */
  api(transport: TransportName): AdminApi;
  /** strictApi calls the service exactly as asked (tests about tenants). */
  strictApi(transport: TransportName): AdminApi;
  /** ensureTenant creates a tenant (as the super user) unless api() or this already did. */
  ensureTenant(tenantId: string): Promise<void>;
  /** secrets are every whole key and secret key any response carried so far. */
  readonly secrets: readonly string[];
  /** remember adds the secrets of a response the test received outside these clients (raw HTTP). */
  remember(response: unknown): void;
  /** superuserKey is a super-user key made by Bootstrap when the server started (needs BOOTSTRAP_TOKEN). */
  superuserKey(): string;
  /** expectNoSecretLeaks checks that the log output and every database document hold no issued secret. */
  expectNoSecretLeaks(): Promise<void>;
}

/** SERVICE_COLLECTIONS are the collections the service writes, scanned for leaked secrets. */
const SERVICE_COLLECTIONS = [
  KEYS_COLLECTION,
  GROUPS_COLLECTION,
  TENANTS_COLLECTION,
  IDEMPOTENCY_COLLECTION,
  CHANGES_COLLECTION,
  AUDIT_EVENTS_COLLECTION,
];

/** ADMIN_SERVER_BOOTSTRAP_TOKEN is the bootstrap token useAdminServer configures (unless told otherwise). */
export const ADMIN_SERVER_BOOTSTRAP_TOKEN = "admin-rpc-tests-bootstrap-token";

/**
 * useAdminServer starts the production stack for the calling test file, bootstraps a super-user key (when
 * a bootstrap token is configured) and gives clients on both transports.
 */
export function useAdminServer(label: string, env: Readonly<Record<string, string>> = {}): AdminServer {
  const merged = { BOOTSTRAP_TOKEN: ADMIN_SERVER_BOOTSTRAP_TOKEN, ...env };
  const database = useTestDatabase(label);
  let started: TestServer | undefined;
  const handle = {
    get current(): TestServer {
      if (started === undefined) {
        throw new Error("the admin server has not started yet");
      }
      return started;
    },
  };
  const secrets: string[] = [];
  const apis = new Map<TransportName, AdminApi>();
  const strictApis = new Map<TransportName, AdminApi>();
  // Tenants exist on purpose: tests not about tenants get the tenant of a key or group created first (as the
  // super user) through api(); strictApi() sends every call as it is.
  const createdTenants = new Set<string>();
  const ensureTenant = async (method: string, request: unknown): Promise<void> => {
    const tenantId = (request as { tenantId?: unknown } | undefined)?.tenantId;
    if (
      (method !== "createKey" && method !== "createGroup") ||
      typeof tenantId !== "string" ||
      !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(tenantId) ||
      createdTenants.has(tenantId) ||
      superuser === null
    ) {
      return;
    }
    createdTenants.add(tenantId);
    await strictApis
      .get("grpc-js")!
      .createTenant({ tenantId }, { key: superuser })
      .catch(() => undefined);
  };
  const closers: Array<() => void> = [];
  let superuser: string | null = null;

  const remember = (response: unknown): void => {
    if (typeof response === "object" && response !== null) {
      const { secret, secretKey } = response as { secret?: unknown; secretKey?: unknown };
      for (const value of [secret, secretKey]) {
        if (typeof value === "string" && value !== "") {
          secrets.push(value);
        }
      }
    }
  };

  const wrap = (
    call: (method: AdminMethod, request: unknown, headers: Record<string, string>) => Promise<unknown>,
    createsTenants = true,
  ) =>
    new Proxy({} as AdminApi, {
      get(_target, method: string) {
        return async (request: unknown, auth?: Auth) => {
          if (createsTenants) {
            await ensureTenant(method, request);
          }
          const response = await call(method as AdminMethod, request, headersOf(auth));
          remember(response);
          return response;
        };
      },
    });

  beforeAll(async () => {
    // The production wiring (wireServices), exactly as main runs it.
    started = await startTestServer(database, { env: merged });
    const server = handle.current;
    const grpc = createGrpcJsClient(KeyAdminService, server.grpcAddress);
    closers.push(() => grpc.close());
    const grpcMethods = grpc as unknown as Record<
      string,
      (request: unknown, options: { metadata: Record<string, string> }) => Promise<unknown>
    >;
    const grpcCall = (method: AdminMethod, request: unknown, headers: Record<string, string>) => {
      const invoke = grpcMethods[method];
      if (invoke === undefined) {
        throw new Error(`no such method ${method}`);
      }
      return invoke(request, { metadata: headers });
    };
    apis.set("grpc-js", wrap(grpcCall));
    strictApis.set("grpc-js", wrap(grpcCall, false));
    const connect = createConnectClient(KeyAdminService, server.httpBaseUrl) as unknown as Record<
      string,
      (request: unknown, options: { headers: Record<string, string> }) => Promise<unknown>
    >;
    const connectCall = (method: AdminMethod, request: unknown, headers: Record<string, string>) => {
      const invoke = connect[method];
      if (invoke === undefined) {
        throw new Error(`no such method ${method}`);
      }
      return invoke(request, { headers });
    };
    apis.set("connect", wrap(connectCall));
    strictApis.set("connect", wrap(connectCall, false));
    if (merged.BOOTSTRAP_TOKEN !== "") {
      const response = await apis.get("grpc-js")!.bootstrap({ bootstrapToken: merged.BOOTSTRAP_TOKEN });
      superuser = response.secret;
    }
  });

  afterAll(async () => {
    for (const close of closers) {
      close();
    }
    await started?.shutdown();
  });

  return {
    get server() {
      return handle.current;
    },
    api(transport) {
      const api = apis.get(transport);
      if (api === undefined) {
        throw new Error("the admin server has not started yet");
      }
      return api;
    },
    ensureTenant: (tenantId) => ensureTenant("createKey", { tenantId }),
    strictApi(transport) {
      const api = strictApis.get(transport);
      if (api === undefined) {
        throw new Error("the admin server has not started yet");
      }
      return api;
    },
    secrets,
    remember,
    superuserKey() {
      if (superuser === null) {
        throw new Error("no super-user key: the server was started without a bootstrap token");
      }
      return superuser;
    },
    async expectNoSecretLeaks() {
      const { db, logs } = handle.current;
      // Admin audit events are written in batches: wait until some are stored, so the scan covers them.
      await vi.waitFor(
        async () =>
          expect(await db.collection(AUDIT_EVENTS_COLLECTION).countDocuments({})).toBeGreaterThan(0),
        { timeout: 5_000, interval: 50 },
      );
      const haystacks: Array<[string, string]> = [["log output", logs.text()]];
      // Every collection the service writes (the wire server here has no listCollections).
      for (const name of SERVICE_COLLECTIONS) {
        const documents = await db.collection(name).find({}).toArray();
        haystacks.push([`collection ${name}`, JSON.stringify(documents)]);
      }
      expect(secrets.length, "the file should have issued secrets to look for").toBeGreaterThan(0);
      expect(logs.text(), "the request log should cover the admin calls").toContain(
        "apikeys.v1.KeyAdminService",
      );
      for (const secret of secrets) {
        for (const [where, text] of haystacks) {
          // The secret key's random body alone (without checksum) must not appear either.
          const body = secret.length > 38 ? secret.slice(-38, -6) : secret.slice(0, 32);
          expect(text.includes(secret), `${where} holds an issued secret`).toBe(false);
          expect(text.includes(body), `${where} holds the random part of an issued secret`).toBe(false);
        }
      }
    },
  };
}
