/**
 * KeyVerifyService in memory: the handler over a verifier that records its input and answers the verdict
 * the test gives it, so only the proto ⇄ domain mapping is under test (the credential oneof in; every
 * verdict code, the key's details, expiry and permissions out; a domain error to its code). The verdicts
 * themselves are tested on the verifier (test/verify), and end to end over both ports.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import type { VerificationCode } from "../../src/domain/audit-event.js";
import { DomainError, invalidArgument } from "../../src/domain/errors.js";
import type { KeyVerification, KeyVerifier, VerifyKeyInput } from "../../src/domain/key-verifier.js";
import {
  KeyVerifyService,
  VerificationCode as VerificationCodePb,
} from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createKeyVerifyHandler } from "../../src/rpc/key-verify-handler.js";
import { rpcFailure } from "../helpers/rpc-failure.js";
import { routerClient } from "./helpers/in-memory-service.js";

const EXPIRY = new Date("2032-02-03T04:05:06.789Z");

const NOT_FOUND: KeyVerification = {
  valid: false,
  code: "not_found",
  httpStatus: 401,
  key: null,
  permissions: [],
  secretGeneration: 0,
  secretSuperseded: false,
  missingPermissions: [],
};

/** verdictFor is the verdict of an identified key with `code`. */
function verdictFor(code: VerificationCode, overrides: Partial<KeyVerification> = {}): KeyVerification {
  return {
    valid: code === "valid",
    code,
    httpStatus: code === "valid" ? 200 : 403,
    key: {
      keyId: "ak_test_0123456789abcdef",
      tenantId: "acme",
      name: "orders",
      userId: "u1",
      groupId: "grp_1",
      expiresAt: EXPIRY,
      labels: {},
    },
    permissions: ["orders:read", "orders:write"],
    secretGeneration: 2,
    secretSuperseded: true,
    missingPermissions: [],
    ...overrides,
  };
}

/** verifyWith serves the handler over a verifier answering `answer`; `inputs` records what it was asked. */
function verifyWith(answer: (input: VerifyKeyInput) => KeyVerification | Promise<KeyVerification>) {
  const inputs: VerifyKeyInput[] = [];
  const verifier: KeyVerifier = {
    verify(input) {
      inputs.push(input);
      return answer(input);
    },
  } as KeyVerifier;
  const client = routerClient(KeyVerifyService, (router) =>
    router.service(KeyVerifyService, createKeyVerifyHandler(verifier)),
  );
  return { client, inputs };
}

describe("request mapping", () => {
  it.each<
    [
      string,
      Parameters<ReturnType<typeof verifyWith>["client"]["verifyKey"]>[0],
      VerifyKeyInput["credential"],
    ]
  >([
    ["a raw key", { credential: { case: "key", value: "ak_test_x" } }, { kind: "key", key: "ak_test_x" }],
    [
      "an Authorization header value",
      { credential: { case: "authorization", value: "Bearer ak_test_x" } },
      { kind: "authorization", authorization: "Bearer ak_test_x" },
    ],
    [
      "an access key id and secret",
      { credential: { case: "accessKey", value: { accessKeyId: "ak_test_id", secretKey: "s3cret" } } },
      { kind: "access_key", accessKeyId: "ak_test_id", secretKey: "s3cret" },
    ],
    ["no credential", {}, { kind: "none" }],
  ])("maps %s to the domain credential", async (_name, request, credential) => {
    const { client, inputs } = verifyWith(() => NOT_FOUND);
    await client.verifyKey({
      ...request,
      clientIp: "10.1.2.3",
      endpoint: "GET /orders",
      requiredPermissions: ["orders:read"],
    });
    expect(inputs).toEqual([
      { credential, clientIp: "10.1.2.3", endpoint: "GET /orders", requiredPermissions: ["orders:read"] },
    ]);
  });
});

describe("answer mapping", () => {
  it.each<[VerificationCode, VerificationCodePb]>([
    ["valid", VerificationCodePb.VALID],
    ["expired", VerificationCodePb.EXPIRED],
    ["revoked", VerificationCodePb.REVOKED],
    ["ip_not_allowed", VerificationCodePb.IP_NOT_ALLOWED],
    ["insufficient_permissions", VerificationCodePb.INSUFFICIENT_PERMISSIONS],
  ])("maps a %s verdict with the key's details", async (code, codePb) => {
    const { client } = verifyWith(() => verdictFor(code));
    const response = await client.verifyKey({ credential: { case: "key", value: "k" } });
    expect(response).toMatchObject({
      valid: code === "valid",
      code: codePb,
      httpStatus: code === "valid" ? 200 : 403,
      keyId: "ak_test_0123456789abcdef",
      tenantId: "acme",
      name: "orders",
      userId: "u1",
      groupId: "grp_1",
      permissions: ["orders:read", "orders:write"],
      secretGeneration: 2,
      secretSuperseded: true,
    });
    expect(timestampDate(response.expireTime!)).toEqual(EXPIRY);
  });

  it("maps a not_found verdict to empty key fields and no expiry", async () => {
    const { client } = verifyWith(() => NOT_FOUND);
    const response = await client.verifyKey({ credential: { case: "key", value: "garbage" } });
    expect(response).toMatchObject({
      valid: false,
      code: VerificationCodePb.NOT_FOUND,
      httpStatus: 401,
      keyId: "",
      tenantId: "",
      permissions: [],
      secretGeneration: 0,
    });
    expect(response.expireTime).toBeUndefined();
  });

  it("maps the missing permissions and a key without expiry; answers a verdict given later the same", async () => {
    const verdict = verdictFor("insufficient_permissions", {
      missingPermissions: ["orders:delete"],
      key: { ...verdictFor("valid").key!, expiresAt: null },
    });
    const { client } = verifyWith(async () => verdict);
    const response = await client.verifyKey({ credential: { case: "key", value: "k" } });
    expect(response.missingPermissions).toEqual(["orders:delete"]);
    expect(response.expireTime).toBeUndefined();
  });

  it.each<[string, DomainError, string]>([
    ["a malformed field", invalidArgument("client_ip", "is not an IP address"), "INVALID_ARGUMENT"],
    [
      "a store that cannot answer",
      new DomainError("unavailable", "the key store is unavailable"),
      "UNAVAILABLE",
    ],
  ])("answers %s with its code, as thrown or rejected", async (_name, error, code) => {
    const thrown = verifyWith(() => {
      throw error;
    });
    const rejected = verifyWith(async () => Promise.reject(error));
    for (const { client } of [thrown, rejected]) {
      const failure = await rpcFailure(client.verifyKey({ credential: { case: "key", value: "k" } }));
      expect(failure).toMatchObject({ code, message: error.message });
    }
  });
});
