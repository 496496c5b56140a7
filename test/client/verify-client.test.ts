/**
 * createVerifyClient on the wire, against a scripted grpc-js double of VerifyKey: what the client sends
 * (each credential form, client IP, endpoint, permissions, caller token, as the double records them) and
 * the faults the real service cannot be made to produce on demand (a slow answer past the deadline, a
 * scripted UNAVAILABLE, cancellation mid-call). Behaviour against the real service: test/client/*-hook,
 * *-middleware, *-interceptor tests and test/e2e/caller-token.test.ts.
 */
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCallError } from "../../packages/client/src/verify-call-error.js";
import {
  createVerifyClient,
  toVerifyResult,
  type VerifyClient,
} from "../../packages/client/src/verify-client.js";
import {
  VerificationCode,
  VerificationCodeSchema,
  VerifyKeyResponseSchema,
} from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { captureError } from "../helpers/capture-error.js";
import { type DoubleKey, startVerifyDouble, type VerifyDouble, wholeKey } from "./helpers/verify-double.js";

const base: Omit<DoubleKey, "keyId" | "secretKey"> = {
  tenantId: "acme",
  name: "Mobile App",
  userId: "user_7",
  groupId: "",
  permissions: ["orders:read", "products:read"],
  state: "active",
  ipAllowlist: [],
};
const good: DoubleKey = { ...base, keyId: "ak_test_good000000000000", secretKey: "GoodSecretPart0123456789" };
const slow: DoubleKey = {
  ...base,
  keyId: "ak_test_slow000000000000",
  secretKey: "SlowSecretPart0123456789",
  delayMs: 2_000,
};
const broken: DoubleKey = {
  ...base,
  keyId: "ak_test_brok000000000000",
  secretKey: "BrokSecretPart0123456789",
  failWith: status.UNAVAILABLE,
};

describe("createVerifyClient against a real grpc-js VerifyKey server", () => {
  let double: VerifyDouble;
  let client: VerifyClient;

  beforeAll(async () => {
    double = await startVerifyDouble([good, slow, broken], { requiredCallerToken: "caller-token-1" });
    client = createVerifyClient({ address: double.address, callerToken: "caller-token-1" });
  });
  afterAll(async () => {
    client.close();
    await double.stop();
  });

  it("sends every credential form, the client IP, endpoint and permissions, and returns a plain result", async () => {
    const forms = [
      { kind: "key", key: wholeKey(good) },
      { kind: "authorization", authorization: `Bearer ${wholeKey(good)}` },
      { kind: "accessKey", accessKeyId: good.keyId, secretKey: good.secretKey },
    ] as const;
    for (const credential of forms) {
      const before = double.calls.length;
      const result = await client.verify({
        credential,
        clientIp: "203.0.113.9",
        endpoint: "GET /api/products",
        requiredPermissions: ["products:read"],
      });
      expect(result).toEqual({
        valid: true,
        code: "VALID",
        httpStatus: 200,
        keyId: good.keyId,
        tenantId: "acme",
        name: "Mobile App",
        userId: "user_7",
        groupId: null,
        permissions: ["orders:read", "products:read"],
        expireTime: null,
        secretGeneration: 1,
        secretSuperseded: false,
        missingPermissions: [],
        labels: {},
      });
      const call = double.calls[before];
      expect(call?.callerToken).toBe("caller-token-1");
      expect(call?.request.credential.case).toBe(credential.kind);
      expect(call?.request.clientIp).toBe("203.0.113.9");
      expect(call?.request.endpoint).toBe("GET /api/products");
      expect(call?.request.requiredPermissions).toEqual(["products:read"]);
    }
  });

  it("returns refusals as normal results", async () => {
    const unknown = await client.verify({ credential: { kind: "key", key: "ak_test_nope" } });
    expect(unknown).toMatchObject({
      valid: false,
      code: "NOT_FOUND",
      httpStatus: 401,
      keyId: null,
      tenantId: null,
    });
    const lacking = await client.verify({
      credential: { kind: "key", key: wholeKey(good) },
      requiredPermissions: ["orders:write"],
    });
    expect(lacking).toMatchObject({
      valid: false,
      code: "INSUFFICIENT_PERMISSIONS",
      httpStatus: 403,
      keyId: good.keyId,
      missingPermissions: ["orders:write"],
    });
  });

  it("fails with DEADLINE_EXCEEDED (kind unavailable) when the answer misses the deadline", async () => {
    const error = await client
      .verify({ credential: { kind: "key", key: wholeKey(slow) } }, { deadlineMs: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyCallError);
    expect((error as VerifyCallError).codeName).toBe("DEADLINE_EXCEEDED");
    expect((error as VerifyCallError).kind).toBe("unavailable");
  });

  it("classifies a scripted UNAVAILABLE as unavailable (UNAUTHENTICATED from the real service: test/e2e)", async () => {
    const unavailable = await captureError(
      client.verify({ credential: { kind: "key", key: wholeKey(broken) } }),
    );
    expect(unavailable).toMatchObject({
      name: "VerifyCallError",
      grpcCode: status.UNAVAILABLE,
      kind: "unavailable",
    });
  });

  it("cancels a call when its signal aborts", async () => {
    const controller = new AbortController();
    const pending = client
      .verify(
        { credential: { kind: "key", key: wholeKey(slow) } },
        { signal: controller.signal, deadlineMs: 5_000 },
      )
      .catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ grpcCode: status.CANCELLED });
  });

  it("fails UNAVAILABLE quickly when nothing listens, and recovers when the server is back", async () => {
    const lonely = await startVerifyDouble([good]);
    const target = createVerifyClient({ address: lonely.address });
    try {
      expect((await target.verify({ credential: { kind: "key", key: wholeKey(good) } })).valid).toBe(true);
      await lonely.stop();
      const down = await captureError(target.verify({ credential: { kind: "key", key: wholeKey(good) } }));
      expect(down).toBeInstanceOf(VerifyCallError);
      expect((down as VerifyCallError).kind).toBe("unavailable");
      await lonely.start();
      await expect
        .poll(
          async () =>
            (await target.verify({ credential: { kind: "key", key: wholeKey(good) } }).catch(() => null))
              ?.valid,
          { timeout: 10_000, interval: 100 },
        )
        .toBe(true);
    } finally {
      target.close();
      await lonely.stop();
    }
  });

  it("rejects a non-positive deadline at construction", () => {
    expect(() => createVerifyClient({ address: "127.0.0.1:1", deadlineMs: 0 })).toThrow(RangeError);
  });

  it.each(VerificationCodeSchema.values.filter((value) => value.number !== VerificationCode.UNSPECIFIED))(
    "names the verdict code $name",
    (value) => {
      const result = toVerifyResult(create(VerifyKeyResponseSchema, { code: value.number, httpStatus: 401 }));
      expect(result.code).toBe(value.localName);
    },
  );

  it("passes a valid key's labels on", () => {
    const result = toVerifyResult(
      create(VerifyKeyResponseSchema, {
        valid: true,
        code: VerificationCode.VALID,
        httpStatus: 200,
        keyId: good.keyId,
        labels: { plan: "pro" },
      }),
    );
    expect(result.labels).toEqual({ plan: "pro" });
  });

  it("maps an unknown future verdict code to UNSPECIFIED (never valid)", () => {
    const result = toVerifyResult(
      create(VerifyKeyResponseSchema, { valid: true, code: 99 as VerificationCode, httpStatus: 200 }),
    );
    expect(result).toMatchObject({ valid: false, code: "UNSPECIFIED" });
  });
});
