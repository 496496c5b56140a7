/**
 * VerifyKey over the wire: the real server (production wiring, port 0) on a test database, called with a
 * stock grpc-js client and over Connect on the HTTP port. Verdicts and HTTP statuses, every credential form,
 * bad requests as INVALID_ARGUMENT, usage events and last-used persisted, the metrics endpoint, and the
 * caller-token model.
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifyKeyRequestSchema } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { createMongoGroupRepository } from "../../src/storage/group-repository.js";
import { createMongoKeyRepository } from "../../src/storage/key-repository.js";
import { createGrpcJsClient, type GrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import {
  createGroup,
  fixtureServerEnv,
  type IssuedKey,
  issueKey,
  revokeKey,
} from "../helpers/key-fixtures.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer, type TestServer, useTestServer } from "../helpers/start-server.js";

const server = useTestServer("verifyrpc", {
  env: { ...fixtureServerEnv, LAST_USED_WRITE_INTERVAL_MS: "100", USAGE_FLUSH_INTERVAL_MS: "50" },
});

type Request = MessageInitShape<typeof VerifyKeyRequestSchema>;
let client: GrpcJsClient<typeof KeyVerifyService>;
let active: IssuedKey;
let revoked: IssuedKey;
let expiring: IssuedKey;
let restricted: IssuedKey;
let grouped: IssuedKey;
const expiresAt = new Date(Date.now() + 3_600_000);

beforeAll(async () => {
  const db = server.current.db;
  const keys = createMongoKeyRepository(db);
  client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
  active = await issueKey(keys, { permissions: ["orders:read"], userId: "u-7", name: "checkout" });
  revoked = await issueKey(keys);
  await revokeKey(keys, revoked.keyId);
  expiring = await issueKey(keys, { expiresAt });
  restricted = await issueKey(keys, { ipAllowlist: ["10.0.0.0/8"] });
  const group = await createGroup(createMongoGroupRepository(db), { permissions: ["reports:read"] });
  grouped = await issueKey(keys, { groupId: group.id });
});

afterAll(() => {
  client.close();
});

describe("VerifyKey over gRPC", () => {
  it.each<[string, () => Request, VerificationCode, number]>([
    ["raw key", () => ({ credential: { case: "key", value: active.key } }), VerificationCode.VALID, 200],
    [
      "Authorization: Bearer",
      () => ({ credential: { case: "authorization", value: `Bearer ${active.key}` } }),
      VerificationCode.VALID,
      200,
    ],
    [
      "two-part access key",
      () => ({
        credential: { case: "accessKey", value: { accessKeyId: active.keyId, secretKey: active.secretKey } },
      }),
      VerificationCode.VALID,
      200,
    ],
    ["no credential", () => ({}), VerificationCode.NOT_FOUND, 401],
    ["garbage", () => ({ credential: { case: "key", value: "nope" } }), VerificationCode.NOT_FOUND, 401],
    ["revoked", () => ({ credential: { case: "key", value: revoked.key } }), VerificationCode.REVOKED, 401],
    [
      "outside the allowlist",
      () => ({ credential: { case: "key", value: restricted.key }, clientIp: "192.0.2.1" }),
      VerificationCode.IP_NOT_ALLOWED,
      403,
    ],
    [
      "missing a permission",
      () => ({ credential: { case: "key", value: active.key }, requiredPermissions: ["orders:write"] }),
      VerificationCode.INSUFFICIENT_PERMISSIONS,
      403,
    ],
  ])("%s → code %i, HTTP %i", async (_name, request, code, httpStatus) => {
    const response = await client.verifyKey(request());
    expect(response.code).toBe(code);
    expect(response.httpStatus).toBe(httpStatus);
    expect(response.valid).toBe(code === VerificationCode.VALID);
  });

  it("carries the key's details, effective permissions and expiry", async () => {
    const response = await client.verifyKey({ credential: { case: "key", value: active.key } });
    expect(response).toMatchObject({
      keyId: active.keyId,
      tenantId: "acme",
      name: "checkout",
      userId: "u-7",
      groupId: "",
      permissions: ["orders:read"],
      secretGeneration: 1,
      secretSuperseded: false,
      missingPermissions: [],
    });
    expect(response.expireTime).toBeUndefined();
    const withExpiry = await client.verifyKey({ credential: { case: "key", value: expiring.key } });
    expect(withExpiry.expireTime).toEqual(timestampFromDate(expiresAt));
    const viaGroup = await client.verifyKey({
      credential: { case: "key", value: grouped.key },
      requiredPermissions: ["reports:read"],
    });
    expect(viaGroup.code).toBe(VerificationCode.VALID);
    expect(viaGroup.permissions).toEqual(["reports:read"]);
    const missing = await client.verifyKey({
      credential: { case: "key", value: active.key },
      requiredPermissions: ["b:write", "a:write"],
    });
    expect(missing.missingPermissions).toEqual(["a:write", "b:write"]);
  });

  it.each<[string, Pick<Request, "clientIp" | "endpoint" | "requiredPermissions">, string]>([
    ["a malformed client_ip", { clientIp: "10.0.0.1:443" }, "client_ip"],
    ["an oversized endpoint", { endpoint: `GET /${"x".repeat(300)}` }, "endpoint"],
    ["an endpoint with a right-to-left override", { endpoint: "GET /invoice\u202efdp.exe" }, "endpoint"],
    ["an endpoint with a bidi isolate", { endpoint: "GET /a\u2066b" }, "endpoint"],
    [
      "33 required permissions",
      { requiredPermissions: Array.from({ length: 33 }, (_, i) => `p${i}`) },
      "required_permissions",
    ],
  ])("%s is INVALID_ARGUMENT naming the field", async (_name, fields, field) => {
    const failure = await grpcFailure(
      client.verifyKey({ credential: { case: "key", value: active.key }, ...fields }),
    );
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain(field);
    expect(failure.details).not.toContain(active.secretKey);
  });
});

describe("usage recording through the server", () => {
  it("persists one usage event per call and the key's last use", async () => {
    const keys = createMongoKeyRepository(server.current.db);
    const key = await issueKey(keys);
    const endpoint = `GET /usage/${key.keyId}`;
    for (let i = 0; i < 3; i++) {
      await client.verifyKey({ credential: { case: "key", value: key.key }, endpoint, clientIp: "10.1.1.1" });
    }
    const events = server.current.db.collection(AUDIT_EVENTS_COLLECTION);
    await expect
      .poll(
        async () => [
          await events.countDocuments({ "detail.endpoint": endpoint }),
          ((await keys.findById(key.keyId))?.lastUsedAt ?? null) !== null,
        ],
        { timeout: 5_000, interval: 50 },
      )
      .toEqual([3, true]);
    const event = await events.findOne({ "detail.endpoint": endpoint });
    expect(event?.detail).toMatchObject({
      kind: "usage",
      keyId: key.keyId,
      clientIp: "10.1.1.1",
      code: "valid",
    });
    expect(JSON.stringify(event)).not.toContain(key.secretKey);
  });
});

describe("GET /metrics", () => {
  it("serves the verification metrics", async () => {
    await client.verifyKey({ credential: { case: "key", value: active.key } });
    const response = await fetch(`${server.current.httpBaseUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const valid = /^apikeys_verify_verdicts_total\{code="valid"\} (\d+)$/m.exec(text);
    expect(Number(valid?.[1])).toBeGreaterThanOrEqual(1);
    for (const name of [
      "apikeys_verify_duration_seconds_bucket",
      "apikeys_verify_cache_hits_total",
      "apikeys_verify_cache_entries",
      "apikeys_invalidation_last_poll_age_seconds",
      "apikeys_invalidation_lag_seconds_count",
      "apikeys_audit_events_emitted_total",
      "apikeys_audit_events_persisted_total",
      "apikeys_audit_events_dropped_total",
      "apikeys_audit_buffer_events",
      "apikeys_db_commands_total",
    ]) {
      expect(text, name).toContain(name);
    }
  });
});

describe("who may call VerifyKey", () => {
  const database = useTestDatabase("verifytoken");
  let guarded: TestServer;
  let guardedClient: GrpcJsClient<typeof KeyVerifyService>;
  const token = "caller-token-0123456789";
  beforeAll(async () => {
    guarded = await startTestServer(database, { env: { ...fixtureServerEnv, VERIFY_CALLER_TOKEN: token } });
    guardedClient = createGrpcJsClient(KeyVerifyService, guarded.grpcAddress);
  });
  afterAll(async () => {
    guardedClient.close();
    await guarded.shutdown();
  });

  it("with VERIFY_CALLER_TOKEN set, refuses callers without the token and serves those with it", async () => {
    const key = await issueKey(createMongoKeyRepository(guarded.db));
    const request: Request = { credential: { case: "key", value: key.key } };
    expect((await grpcFailure(guardedClient.verifyKey(request))).code).toBe(status.UNAUTHENTICATED);
    const wrong = await grpcFailure(
      guardedClient.verifyKey(request, { metadata: { "x-apikeys-caller-token": "wrong-token-0123456789" } }),
    );
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    const ok = await guardedClient.verifyKey(request, { metadata: { "x-apikeys-caller-token": token } });
    expect(ok.code).toBe(VerificationCode.VALID);
  });
});
