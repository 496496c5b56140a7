/**
 * The admin and audit services without a server or a database: the real handlers on the real use cases,
 * over the in-memory ports (test/helpers/memory-ports.ts), reached through connect's router transport with
 * the production error boundary, so a test sees exactly the code, message and ErrorInfo a client would.
 * The transports' per-call values are set the way both ports set them: the peer address (x-test-peer,
 * default 127.0.0.1:5000) and the request id (the caller's x-request-id).
 */
import type { DescService } from "@bufbuild/protobuf";
import {
  type Client,
  type ConnectRouter,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import { createAdminAuthenticator } from "../../../src/domain/admin-access.js";
import { SUPERUSER_PERMISSION, SYSTEM_TENANT } from "../../../src/domain/api-key.js";
import type { AuditReader } from "../../../src/domain/audit-reader.js";
import { createBootstrapper } from "../../../src/domain/bootstrap.js";
import { createGroupAdmin } from "../../../src/domain/group-admin.js";
import { createKeyAdmin } from "../../../src/domain/key-admin.js";
import { createTenantAdmin } from "../../../src/domain/tenant-admin.js";
import { createUsageStatsReader } from "../../../src/domain/usage-stats.js";
import { AuditService } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { createAuditHandler } from "../../../src/rpc/audit-handler.js";
import { kPeerAddress, kRequestId } from "../../../src/rpc/context-keys.js";
import { createKeyAdminHandler } from "../../../src/rpc/key-admin-handler.js";
import { errorBoundaryInterceptor } from "../../../src/transport/interceptors/error-boundary.js";
import { createSimpleCallerAuthenticator } from "../../admin/helpers/simple-caller-authenticator.js";
import { ManualClock } from "../../helpers/fake-clock.js";
import { type IssueKeyOptions, issueKey, testFormat, testHasher } from "../../helpers/key-fixtures.js";
import {
  createMemoryGroupRepository,
  createMemoryIdempotencyStore,
  createMemoryKeyRepository,
  createMemoryTenantRepository,
  memoryAdminDeps,
} from "../../helpers/memory-ports.js";

/** TEST_PEER_HEADER sets the peer address of an in-memory call (what the socket would say). */
export const TEST_PEER_HEADER = "x-test-peer";

/** DEFAULT_KEY_LIMIT is the in-memory service's default tenant key limit. */
export const DEFAULT_KEY_LIMIT = 10;

/** IN_MEMORY_BOOTSTRAP_TOKEN is the bootstrap token of the in-memory service. */
export const IN_MEMORY_BOOTSTRAP_TOKEN = "in-memory-bootstrap-token-0123456789";

/** callValues plays the transport's part: the peer address and request id of the call. */
const callValues: Interceptor = (next) => (req) => {
  req.contextValues.set(kPeerAddress, req.header.get(TEST_PEER_HEADER) ?? "127.0.0.1:5000");
  const requestId = req.header.get("x-request-id");
  if (requestId !== null) {
    req.contextValues.set(kRequestId, requestId);
  }
  return next(req);
};

/** routerClient serves `routes` in memory behind the production error boundary and returns a client of `service`. */
export function routerClient<S extends DescService>(
  service: S,
  routes: (router: ConnectRouter) => void,
): Client<S> {
  const transport = createRouterTransport(routes, {
    router: { interceptors: [callValues, errorBoundaryInterceptor()] },
  });
  return createClient(service, transport);
}

/** bearer is the call option that authenticates with `key`. */
export function bearer(key: string, headers: Readonly<Record<string, string>> = {}) {
  return { headers: { authorization: `Bearer ${key}`, ...headers } };
}

/** createInMemoryService wires KeyAdminService (and AuditService, given a reader) on fresh in-memory ports. */
export function createInMemoryService() {
  const clock = new ManualClock();
  const keys = createMemoryKeyRepository();
  const groups = createMemoryGroupRepository();
  const tenants = createMemoryTenantRepository({ keys, groups });
  const shared = memoryAdminDeps({
    clock,
    keys,
    groups,
    tenants,
    idempotency: createMemoryIdempotencyStore(),
    defaultKeyLimit: DEFAULT_KEY_LIMIT,
  });
  const { notifier, audit } = shared;
  const access = createAdminAuthenticator(
    createSimpleCallerAuthenticator({ keys, groups, keyFormat: testFormat, hasher: testHasher, clock }),
  );
  const handler = createKeyAdminHandler({
    access,
    keys: createKeyAdmin(shared),
    groups: createGroupAdmin(shared),
    tenants: createTenantAdmin(shared),
    bootstrapper: createBootstrapper({ ...shared, bootstrapToken: IN_MEMORY_BOOTSTRAP_TOKEN }),
    // No statistics are counted in memory: every key had no request.
    usageStats: { requestsLast24h: async () => new Map() },
  });
  const admin = routerClient(KeyAdminService, (router) => router.service(KeyAdminService, handler));
  return {
    clock,
    keys,
    groups,
    tenants,
    notifier,
    audit,
    access,
    admin,
    /** auditClient serves AuditService on `reader`, authenticated like the admin calls. */
    auditClient(reader: AuditReader): Client<typeof AuditService> {
      return routerClient(AuditService, (router) =>
        router.service(
          AuditService,
          createAuditHandler({
            access,
            reader,
            // No statistics are counted in memory: every series is empty.
            usageStats: createUsageStatsReader({
              store: { series: async () => [], requestsSince: async () => new Map() },
              keys,
              clock,
            }),
          }),
        ),
      );
    },
    /** tenant creates the tenants named (keys and groups are only created in a tenant that exists). */
    async tenant(...tenantIds: string[]): Promise<void> {
      for (const id of tenantIds) {
        await tenants.create({ id, displayName: "", keyLimit: null, createdAt: clock.now() });
      }
    },
    /** issue stores a key straight through the key repository (no admin call) and returns its secret. */
    async issue(options: IssueKeyOptions = {}): Promise<string> {
      return (await issueKey(keys, { createdAt: clock.now(), ...options })).key;
    },
    /** superuser stores a super-user key of the system tenant (made as Bootstrap makes it) and returns its secret. */
    async superuser(): Promise<string> {
      if ((await tenants.get(SYSTEM_TENANT)).createdAt === null) {
        await this.tenant(SYSTEM_TENANT);
      }
      return this.issue({ tenantId: SYSTEM_TENANT, permissions: [SUPERUSER_PERMISSION] });
    },
  };
}

/** InMemoryService is what createInMemoryService returns. */
export type InMemoryService = ReturnType<typeof createInMemoryService>;
