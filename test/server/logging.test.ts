/**
 * Secrets never reach the log: not from request metadata, not from request bodies, not from an exception
 * that quotes one, on either transport. The request log itself still carries what it should.
 */
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createLogger, REDACTED } from "../../src/server/logger.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import { createLogCapture, useTestServer } from "../helpers/start-server.js";

const secrets = {
  rawKey: "ak_live_RawKeySecret1111111111111111",
  bearer: "ak_live_BearerSecret222222222222222",
  headerKey: "ak_live_HeaderSecret33333333333333",
  secretPart: "SecretPartSecret444444444444444",
  callerToken: "CallerTokenSecret5555555555555555",
  cookie: "CookieSecret6666666666666666",
  quoted: "ak_live_QuotedInErrorSecret7777777",
};

const server = useTestServer("logging", {
  services: {
    verify: {
      verifyKey(request) {
        if (request.endpoint === "fail") {
          // A careless message quoting the key: the log must still not contain it.
          throw new Error(`lookup failed for ${secrets.quoted}`);
        }
        return { valid: true, code: VerificationCode.VALID, httpStatus: 200, keyId: "key_logged" };
      },
    },
  },
});

function secretHeaders(): Record<string, string> {
  return {
    authorization: `Bearer ${secrets.bearer}`,
    "x-api-key": secrets.headerKey,
    "x-apikeys-caller-token": secrets.callerToken,
    accesskey: "ak_live_AccessKeyId",
    secretkey: secrets.secretPart,
    cookie: secrets.cookie,
  };
}

function expectNoSecret(text: string): void {
  for (const [name, secret] of Object.entries(secrets)) {
    expect(text.includes(secret), `${name} leaked into the log`).toBe(false);
  }
}

describe("request logs", () => {
  it("never contain a secret sent in metadata or in the body, on either transport", async () => {
    server.current.logs.clear();
    const bodies = [
      { credential: { case: "key" as const, value: secrets.rawKey } },
      { credential: { case: "authorization" as const, value: `Bearer ${secrets.bearer}` } },
      {
        credential: {
          case: "accessKey" as const,
          value: { accessKeyId: "ak_live_AccessKeyId", secretKey: secrets.secretPart },
        },
      },
    ];
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(secretHeaders())) {
      metadata.set(key, value);
    }
    for (const body of bodies) {
      expect((await grpc.verifyKey(body, { metadata })).keyId).toBe("key_logged");
    }
    const failed = await grpcFailure(grpc.verifyKey({ ...bodies[0], endpoint: "fail" }, { metadata }));
    expect(failed.details).toBe("internal error");
    grpc.close();

    for (const protocol of ["connect-json", "grpc"] as const) {
      const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
        protocol,
        httpVersion: protocol === "grpc" ? "2" : "1.1",
      });
      for (const body of bodies) {
        expect((await client.verifyKey(body, { headers: secretHeaders() })).keyId).toBe("key_logged");
      }
      await expect(
        client.verifyKey({ ...bodies[0], endpoint: "fail" }, { headers: secretHeaders() }),
      ).rejects.toThrow("internal error");
    }

    const text = server.current.logs.text();
    expectNoSecret(text);

    // The log is not simply empty: every call left a line with the required fields.
    const rpcLines = server.current.logs.records().filter((record) => record.method === "VerifyKey");
    expect(rpcLines).toHaveLength(12);
    for (const line of rpcLines) {
      expect(line).toMatchObject({ service: "apikeys.v1.KeyVerifyService", method: "VerifyKey" });
      expect(typeof line.durationMs).toBe("number");
      expect(line.peer).toMatch(/^(::ffff:)?127\.0\.0\.1:\d+$/);
      expect(typeof line.requestId).toBe("string");
    }
    expect(rpcLines.filter((line) => line.code === "OK").every((line) => line.level === "debug")).toBe(true);
    const failures = rpcLines.filter((line) => line.code === "INTERNAL");
    expect(failures).toHaveLength(3);
    expect(failures.every((line) => line.level === "error")).toBe(true);
    // The cause is logged (scrubbed), which is how an operator learns what happened.
    expect(JSON.stringify(failures[0])).toContain("lookup failed for ak_live_[redacted]");
  });

  it("logs successful VerifyKey calls only at debug level", async () => {
    const { destination, logs } = createLogCapture();
    const logger = createLogger(
      { logLevel: "info", replicaId: "r", keys: { prefix: "ak_live_" } },
      { destination },
    );
    logger.debug({ method: "VerifyKey" }, "rpc");
    logger.info({ method: "CreateKey" }, "rpc");
    expect(logs.records().map((record) => record.method)).toEqual(["CreateKey"]);
  });
});

describe("logger redaction", () => {
  it.each([
    ["key", { key: "s3cr3t-value" }],
    ["secret", { secret: "s3cr3t-value" }],
    ["secret_key", { request: { secret_key: "s3cr3t-value" } }],
    ["secretKey", { request: { credential: { secretKey: "s3cr3t-value" } } }],
    ["authorization", { authorization: "Bearer s3cr3t-value" }],
    ["headers.authorization", { req: { headers: { authorization: "Bearer s3cr3t-value" } } }],
    ['headers["x-api-key"]', { headers: { "x-api-key": "s3cr3t-value" } }],
    ['metadata["x-apikeys-caller-token"]', { metadata: { "x-apikeys-caller-token": "s3cr3t-value" } }],
    ["headers.accesskey/secretkey", { headers: { accesskey: "id", secretkey: "s3cr3t-value" } }],
    ["bootstrap_token", { bootstrap_token: "s3cr3t-value" }],
    ["bootstrapToken", { config: { bootstrapToken: "s3cr3t-value" } }],
    ["pepper", { keys: { pepper: { version: 1, pepper: "s3cr3t-value" } } }],
    ["uri", { mongo: { uri: "mongodb://user:s3cr3t-value@db" } }],
  ])("redacts %s", (_path, fields) => {
    const { destination, logs } = createLogCapture();
    const logger = createLogger(
      { logLevel: "info", replicaId: "r", keys: { prefix: "ak_live_" } },
      { destination },
    );
    logger.info(fields, "event");
    expect(logs.text()).not.toContain("s3cr3t-value");
    expect(logs.text()).toContain(REDACTED);
  });

  it("scrubs key-shaped text from logged errors, causes included", () => {
    const { destination, logs } = createLogCapture();
    const logger = createLogger(
      { logLevel: "info", replicaId: "r", keys: { prefix: "sk_test_" } },
      { destination },
    );
    const cause = new Error("inner: sk_test_AAAABBBBCCCCDDDD");
    logger.error({ err: new Error("outer: sk_test_EEEEFFFFGGGG", { cause }) }, "failed");
    expect(logs.text()).not.toContain("AAAABBBBCCCCDDDD");
    expect(logs.text()).not.toContain("EEEEFFFFGGGG");
    expect(logs.text()).toContain("sk_test_[redacted]");
  });

  it("escapes control characters, so a forged line cannot appear", () => {
    const { destination, logs } = createLogCapture();
    const logger = createLogger(
      { logLevel: "info", replicaId: "r", keys: { prefix: "ak_live_" } },
      { destination },
    );
    logger.info({ name: 'evil\n{"level":"fatal","msg":"forged"}' }, "event");
    expect(logs.records()).toHaveLength(1);
  });
});
