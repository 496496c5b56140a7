/**
 * The gRPC port served by the verify worker (VERIFY_WORKER=on, the default) and by the main thread (off),
 * through the public API on real sockets: what the worker must get right beyond what every RPC test already
 * checks through it — a change made on this replica reaches the worker's cache before the admin RPC
 * answers (with the invalidation feed's polls out of the picture), relayed admin calls are authenticated
 * with the caller's own address, the worker's counts and usage events reach /metrics and the audit log, its
 * log lines reach the process log, and shutdown drains it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, type GrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import { scrapeMetrics } from "../helpers/metrics-scrape.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer, type TestServer } from "../helpers/start-server.js";
import { within } from "../helpers/within.js";

const BOOTSTRAP_TOKEN = "verify-worker-bootstrap-token";
const database = useTestDatabase("verifyworker");

/** The status codes the tests expect, by name (grpc-js reports numbers). */
const UNAUTHENTICATED = 16;
const UNAVAILABLE = 14;
const INVALID_ARGUMENT = 3;

function scrape(server: TestServer): Promise<Map<string, number>> {
  return scrapeMetrics(server.httpBaseUrl);
}

describe.each(["on", "off"] as const)("VERIFY_WORKER=%s", (mode) => {
  let server: TestServer;
  let admin: GrpcJsClient<typeof KeyAdminService>;
  let verify: GrpcJsClient<typeof KeyVerifyService>;
  let auth: { metadata: Record<string, string> };
  let superKey: string;

  beforeAll(async () => {
    server = await startTestServer(database, {
      // Polls once a minute: only the local path (notifier → worker) can make a change visible in time.
      env: {
        BOOTSTRAP_TOKEN,
        VERIFY_WORKER: mode,
        INVALIDATION_POLL_MS: "60000",
        REPLICA_ID: `worker-${mode}`,
      },
    });
    admin = createGrpcJsClient(KeyAdminService, server.grpcAddress);
    verify = createGrpcJsClient(KeyVerifyService, server.grpcAddress);
    const bootstrap = await admin.bootstrap({
      bootstrapToken: BOOTSTRAP_TOKEN,
      name: `admin ${mode}`,
      force: true,
    });
    superKey = bootstrap.secret;
    auth = { metadata: { authorization: `Bearer ${superKey}` } };
  });

  afterAll(async () => {
    admin?.close();
    verify?.close();
    await server?.shutdown();
  });

  const codeOf = async (secret: string, requiredPermissions: string[] = []) =>
    (await verify.verifyKey({ credential: { case: "key", value: secret }, requiredPermissions })).code;

  it("a key revoked on either port fails the very next VerifyKey on the gRPC port", async () => {
    const overGrpc = await admin.createKey({ tenantId: `t-${mode}`, name: "revoked over grpc" }, auth);
    const overHttp = await admin.createKey({ tenantId: `t-${mode}`, name: "revoked over http" }, auth);
    expect(await codeOf(overGrpc.secret)).toBe(VerificationCode.VALID);
    expect(await codeOf(overHttp.secret)).toBe(VerificationCode.VALID);
    await admin.revokeKey({ keyId: overGrpc.key?.keyId ?? "" }, auth);
    expect(await codeOf(overGrpc.secret)).toBe(VerificationCode.REVOKED);
    const httpAdmin = createConnectClient(KeyAdminService, server.httpBaseUrl);
    await httpAdmin.revokeKey(
      { keyId: overHttp.key?.keyId ?? "" },
      { headers: { authorization: `Bearer ${superKey}` } },
    );
    expect(await codeOf(overHttp.secret)).toBe(VerificationCode.REVOKED);
  });

  it("a group edited on this replica changes the permissions the next VerifyKey grants", async () => {
    const tenantId = `g-${mode}`;
    const group = await admin.createGroup({ tenantId, name: "readers", permissions: ["docs:read"] }, auth);
    const key = await admin.createKey(
      { tenantId, name: "in group", groupId: group.group?.groupId ?? "" },
      auth,
    );
    expect(await codeOf(key.secret, ["docs:write"])).toBe(VerificationCode.INSUFFICIENT_PERMISSIONS);
    await admin.updateGroup(
      {
        group: { groupId: group.group?.groupId ?? "", permissions: ["docs:read", "docs:write"] },
        updateMask: { paths: ["permissions"] },
      },
      auth,
    );
    expect(await codeOf(key.secret, ["docs:write"])).toBe(VerificationCode.VALID);
  });

  it("authenticates a relayed admin call with the caller's own address, whatever header it sends", async () => {
    const tenantId = `ip-${mode}`;
    const elsewhere = await admin.createKey(
      { tenantId, name: "admin from 10/8", permissions: ["apikeys:admin"], ipAllowlist: ["10.0.0.0/8"] },
      auth,
    );
    const here = await admin.createKey(
      { tenantId, name: "admin from here", permissions: ["apikeys:admin"], ipAllowlist: ["127.0.0.1/32"] },
      auth,
    );
    const spoofed = {
      metadata: { authorization: `Bearer ${elsewhere.secret}`, "x-apikeys-relayed-peer": "10.1.2.3:4000" },
    };
    expect((await grpcFailure(admin.getTenant({ tenantId }, spoofed))).code).toBe(UNAUTHENTICATED);
    const own = await admin.getTenant({ tenantId }, { metadata: { authorization: `Bearer ${here.secret}` } });
    expect(own.tenant?.tenantId).toBe(tenantId);
  });

  it("applies the server's deadline limit to relayed calls", async () => {
    const failure = await grpcFailure(
      admin.getTenant({ tenantId: "any" }, { ...auth, deadlineMs: 3_600_000 }),
    );
    expect(failure.code).toBe(INVALID_ARGUMENT);
    expect(failure.details).toMatch(/deadline/);
  });

  it("counts the port's verifications in /metrics and writes their usage events to the audit log", async () => {
    const key = await admin.createKey({ tenantId: `m-${mode}`, name: "metered" }, auth);
    const before = await scrape(server);
    for (let i = 0; i < 25; i++) {
      await verify.verifyKey({ credential: { case: "key", value: key.secret }, endpoint: "GET /metered" });
    }
    await verify.verifyKey({ credential: { case: "key", value: `${key.secret.slice(0, -3)}xyz` } });
    const after = await scrape(server);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('apikeys_verify_verdicts_total{code="valid"}')).toBe(25);
    expect(delta('apikeys_verify_verdicts_total{code="not_found"}')).toBe(1);
    expect(delta("apikeys_verify_duration_seconds_count")).toBe(26);
    expect(after.get('apikeys_verify_cache_entries{cache="positive"}')).toBeGreaterThanOrEqual(1);
    const emitted = after.get('apikeys_audit_events_total{state="emitted"}') ?? -1;
    expect(emitted).toBeGreaterThanOrEqual(26);
    expect(
      (after.get('apikeys_audit_events_total{state="persisted"}') ?? 0) +
        (after.get('apikeys_audit_events_total{state="dropped"}') ?? 0) +
        (after.get("apikeys_audit_buffer_events") ?? 0),
    ).toBe(emitted);
    const audit = createGrpcJsClient(AuditService, server.grpcAddress);
    try {
      await within(10_000, async () => {
        const usage = await audit.listKeyUsage({ keyId: key.key?.keyId ?? "", pageSize: 100 }, auth);
        const metered = usage.events.filter(
          (event) => event.detail.case === "usage" && event.detail.value.endpoint === "GET /metered",
        );
        return metered.length === 25;
      });
    } finally {
      audit.close();
    }
  });

  it("reports every service SERVING on the gRPC port", async () => {
    const health = createGrpcJsClient(Health, server.grpcAddress);
    try {
      for (const service of [
        "",
        KeyVerifyService.typeName,
        KeyAdminService.typeName,
        AuditService.typeName,
      ]) {
        expect((await health.check({ service })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      }
    } finally {
      health.close();
    }
  });
});

describe("the verify worker's log lines", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(database, { env: { LOG_LEVEL: "debug", REPLICA_ID: "worker-logs" } });
  });

  afterAll(async () => {
    await server?.shutdown();
  });

  it("reach the process log, one JSON line each, with the replica's base fields", async () => {
    const verify = createGrpcJsClient(KeyVerifyService, server.grpcAddress);
    try {
      await verify.verifyKey(
        { credential: { case: "key", value: "not a key" } },
        { metadata: { "x-request-id": "worker-log-1" } },
      );
    } finally {
      verify.close();
    }
    await within(5_000, async () =>
      server.logs.records().some((record) => record.requestId === "worker-log-1"),
    );
    const line = server.logs.records().find((record) => record.requestId === "worker-log-1");
    expect(line).toMatchObject({ component: "rpc", method: "VerifyKey", code: "OK", replica: "worker-logs" });
  });
});

describe("shutdown with the verify worker", () => {
  it("closes the gRPC port cleanly and stores every usage event the worker recorded before it", async () => {
    const server = await startTestServer(database, {
      env: { BOOTSTRAP_TOKEN, REPLICA_ID: "worker-shutdown", USAGE_FLUSH_INTERVAL_MS: "60000" },
    });
    const admin = createGrpcJsClient(KeyAdminService, server.grpcAddress);
    const verify = createGrpcJsClient(KeyVerifyService, server.grpcAddress);
    try {
      const bootstrap = await admin.bootstrap({
        bootstrapToken: BOOTSTRAP_TOKEN,
        name: "shutdown admin",
        force: true,
      });
      const auth = { metadata: { authorization: `Bearer ${bootstrap.secret}` } };
      const key = await admin.createKey({ tenantId: "shutdown", name: "used before shutdown" }, auth);
      const calls = Array.from({ length: 40 }, () =>
        verify.verifyKey({ credential: { case: "key", value: key.secret }, endpoint: "GET /last" }),
      );
      const verdicts = await Promise.all(calls);
      expect(verdicts.every((verdict) => verdict.valid)).toBe(true);
      const result = await server.shutdown();
      expect(result).toEqual({ forced: false, hookFailures: 0 });
      const failure = await grpcFailure(verify.verifyKey({ credential: { case: "key", value: key.secret } }));
      expect(failure.code).toBe(UNAVAILABLE);
      // The usage events were in the worker or the sink when shutdown began: all of them are stored now.
      const stored = await server.db
        .collection(AUDIT_EVENTS_COLLECTION)
        .countDocuments({ "detail.kind": "usage", "detail.endpoint": "GET /last" });
      expect(stored).toBe(40);
    } finally {
      admin.close();
      verify.close();
    }
  });
});
