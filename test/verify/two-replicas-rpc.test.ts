/**
 * Two service instances on one database, end to end through the public API: each runs the production
 * wiring (its own verification cache and invalidation follower). An admin change made through instance A is
 * seen by A's very next VerifyKey and by B's within the invalidation bound — polled with a deadline: a correctness bound, not
 * a speed test.
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createGrpcJsClient, type GrpcJsClient } from "../helpers/grpc-client.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { INVALIDATION_BOUND_MS } from "../helpers/service-budgets.js";
import { startTestServer, type TestServer } from "../helpers/start-server.js";

const BOOTSTRAP_TOKEN = "two-replicas-bootstrap-token";
const database = useTestDatabase("tworeplicas");

let a: TestServer;
let b: TestServer;
let adminA: GrpcJsClient<typeof KeyAdminService>;
let verifyA: GrpcJsClient<typeof KeyVerifyService>;
let verifyB: GrpcJsClient<typeof KeyVerifyService>;
let auth: { metadata: Record<string, string> };

beforeAll(async () => {
  a = await startTestServer(database, { env: { BOOTSTRAP_TOKEN, REPLICA_ID: "replica-a" } });
  b = await startTestServer(database, { env: { BOOTSTRAP_TOKEN, REPLICA_ID: "replica-b" } });
  adminA = createGrpcJsClient(KeyAdminService, a.grpcAddress);
  verifyA = createGrpcJsClient(KeyVerifyService, a.grpcAddress);
  verifyB = createGrpcJsClient(KeyVerifyService, b.grpcAddress);
  const bootstrap = await adminA.bootstrap({ bootstrapToken: BOOTSTRAP_TOKEN, name: "replica test admin" });
  auth = { metadata: { authorization: `Bearer ${bootstrap.secret}` } };
  await adminA.createTenant({ tenantId: "acme", displayName: "Acme" }, auth);
});

afterAll(async () => {
  for (const client of [adminA, verifyA, verifyB]) {
    client?.close();
  }
  await Promise.all([a?.shutdown(), b?.shutdown()]);
});

async function codeOn(client: GrpcJsClient<typeof KeyVerifyService>, key: string): Promise<VerificationCode> {
  return (await client.verifyKey({ credential: { case: "key", value: key } })).code;
}

async function createKey(name: string): Promise<{ keyId: string; secret: string }> {
  const created = await adminA.createKey({ tenantId: "acme", name }, auth);
  return { keyId: created.key?.keyId ?? "", secret: created.secret };
}

describe("two service instances on one database", () => {
  it("DisableKey on A: DISABLED on A at once and on B within the invalidation bound; EnableKey: VALID again on both", async () => {
    const key = await createKey("disabled across replicas");
    expect(await codeOn(verifyB, key.secret)).toBe(VerificationCode.VALID);
    const disabled = await adminA.disableKey({ keyId: key.keyId, reason: "investigating" }, auth);
    expect(disabled.key?.disableReason).toBe("investigating");
    const verdict = await verifyA.verifyKey({ credential: { case: "key", value: key.secret } });
    expect(verdict).toMatchObject({ valid: false, code: VerificationCode.DISABLED, httpStatus: 401 });
    await expect
      .poll(async () => await codeOn(verifyB, key.secret), { timeout: INVALIDATION_BOUND_MS })
      .toBe(VerificationCode.DISABLED);
    await adminA.enableKey({ keyId: key.keyId }, auth);
    expect(await codeOn(verifyA, key.secret)).toBe(VerificationCode.VALID);
    await expect
      .poll(async () => await codeOn(verifyB, key.secret), { timeout: INVALIDATION_BOUND_MS })
      .toBe(VerificationCode.VALID);
  });

  it("RevokeKey on A: A's next VerifyKey says REVOKED, B's within the invalidation bound", async () => {
    const key = await createKey("revoked across replicas");
    expect(await codeOn(verifyA, key.secret)).toBe(VerificationCode.VALID);
    expect(await codeOn(verifyB, key.secret)).toBe(VerificationCode.VALID);
    await adminA.revokeKey({ keyId: key.keyId, reason: "test" }, auth);
    expect(await codeOn(verifyA, key.secret)).toBe(VerificationCode.REVOKED);
    await expect
      .poll(async () => await codeOn(verifyB, key.secret), { timeout: INVALIDATION_BOUND_MS })
      .toBe(VerificationCode.REVOKED);
  });

  it("RotateKey on A without overlap: the old secret fails on A at once and on B within the invalidation bound; the new one works on both", async () => {
    const key = await createKey("rotated across replicas");
    expect(await codeOn(verifyA, key.secret)).toBe(VerificationCode.VALID);
    expect(await codeOn(verifyB, key.secret)).toBe(VerificationCode.VALID);
    const rotated = await adminA.rotateKey({ keyId: key.keyId }, auth);
    expect(await codeOn(verifyA, key.secret)).toBe(VerificationCode.NOT_FOUND);
    expect(await codeOn(verifyA, rotated.secret)).toBe(VerificationCode.VALID);
    await expect
      .poll(async () => await codeOn(verifyB, key.secret), { timeout: INVALIDATION_BOUND_MS })
      .toBe(VerificationCode.NOT_FOUND);
    expect(await codeOn(verifyB, rotated.secret)).toBe(VerificationCode.VALID);
  });

  it("RotateKey with an overlap: the old secret keeps working on both, marked superseded", async () => {
    const key = await createKey("overlapping rotation");
    expect(await codeOn(verifyB, key.secret)).toBe(VerificationCode.VALID);
    const rotated = await adminA.rotateKey({ keyId: key.keyId, overlap: durationFromMs(3_600_000) }, auth);
    const old = await verifyA.verifyKey({ credential: { case: "key", value: key.secret } });
    expect(old.code).toBe(VerificationCode.VALID);
    expect(old.secretSuperseded).toBe(true);
    await expect
      .poll(
        async () => {
          const onB = await verifyB.verifyKey({ credential: { case: "key", value: key.secret } });
          return onB.code === VerificationCode.VALID && onB.secretSuperseded;
        },
        { timeout: INVALIDATION_BOUND_MS },
      )
      .toBe(true);
    const fresh = await verifyB.verifyKey({ credential: { case: "key", value: rotated.secret } });
    expect(fresh.code).toBe(VerificationCode.VALID);
    expect(fresh.secretGeneration).toBe(2);
  });
});
