/**
 * Who may call VerifyKey: by default anyone who reaches the port; with VERIFY_CALLER_TOKEN, only callers
 * sending it in x-apikeys-caller-token (both ports); with GRPC_TLS_CLIENT_CA_FILE, only gRPC callers with a
 * client certificate that CA signed (and VerifyKey is refused on the plain-text HTTP port).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, type ConnectError } from "@connectrpc/connect";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { CALLER_TOKEN_HEADER } from "../../src/transport/interceptors/caller-token.js";
import { type ConnectProtocol, createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import { useTestServer } from "../helpers/start-server.js";
import { makePki } from "../helpers/test-pki.js";

const TOKEN = "caller-token-0123456789abcdef";
let verifyCalls = 0;
const verify = {
  verifyKey() {
    verifyCalls++;
    return { valid: true, code: VerificationCode.VALID, httpStatus: 200, keyId: "key_verified" };
  },
};

describe("the shared caller token (VERIFY_CALLER_TOKEN)", () => {
  const server = useTestServer("callertoken", {
    env: { VERIFY_CALLER_TOKEN: TOKEN },
    services: { verify, admin: {} },
  });

  const presented: [string, Record<string, string>][] = [
    ["no token", {}],
    ["an empty token", { [CALLER_TOKEN_HEADER]: "" }],
    ["a wrong token of the same length", { [CALLER_TOKEN_HEADER]: TOKEN.replace(/.$/, "X") }],
    ["a wrong token of another length", { [CALLER_TOKEN_HEADER]: `${TOKEN}-longer` }],
  ];

  it.each(presented)(
    "refuses VerifyKey with %s on the gRPC port (UNAUTHENTICATED), before the handler runs",
    async (_label, metadata) => {
      const before = verifyCalls;
      const client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
      const error = await grpcFailure(client.verifyKey({}, { metadata }));
      client.close();
      expect(error.code).toBe(status.UNAUTHENTICATED);
      expect(error.details).toContain(CALLER_TOKEN_HEADER);
      expect(verifyCalls).toBe(before);
    },
  );

  it.each(
    presented.flatMap(([label, headers]) =>
      (["connect-json", "grpc"] as ConnectProtocol[]).map((protocol) => [label, protocol, headers] as const),
    ),
  )("refuses VerifyKey with %s on the HTTP port over %s", async (_label, protocol, headers) => {
    const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
      protocol,
      httpVersion: protocol === "grpc" ? "2" : "1.1",
    });
    const error = (await client
      .verifyKey({}, { headers })
      .catch((thrown: unknown) => thrown)) as ConnectError;
    expect(error.code).toBe(Code.Unauthenticated);
  });

  it("accepts the right token on both ports", async () => {
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    expect((await grpc.verifyKey({}, { metadata: { [CALLER_TOKEN_HEADER]: TOKEN } })).keyId).toBe(
      "key_verified",
    );
    grpc.close();
    const http = createConnectClient(KeyVerifyService, server.current.httpBaseUrl);
    expect((await http.verifyKey({}, { headers: { [CALLER_TOKEN_HEADER]: TOKEN } })).keyId).toBe(
      "key_verified",
    );
  });

  it("does not apply to other services", async () => {
    const health = createGrpcJsClient(Health, server.current.grpcAddress);
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
    const admin = createGrpcJsClient(KeyAdminService, server.current.grpcAddress);
    expect((await grpcFailure(admin.getKey({}))).code).toBe(status.UNIMPLEMENTED);
    health.close();
    admin.close();
  });
});

describe("without a caller token configured", () => {
  const server = useTestServer("opencallers", { services: { verify } });

  it("anyone who reaches the port may call VerifyKey", async () => {
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    expect((await grpc.verifyKey({})).keyId).toBe("key_verified");
    grpc.close();
  });
});

describe("mutual TLS on the gRPC port (GRPC_TLS_*)", () => {
  const dir = mkdtempSync(join(tmpdir(), "apikeys-mtls-"));
  const pki = makePki(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = useTestServer("mtls", {
    env: {
      GRPC_TLS_CERT_FILE: pki.path("server.pem"),
      GRPC_TLS_KEY_FILE: pki.path("server.key"),
      GRPC_TLS_CLIENT_CA_FILE: pki.path("test-ca.pem"),
    },
    services: { verify },
  });
  const tlsClient = (clientName: string | null) =>
    createGrpcJsClient(KeyVerifyService, server.current.grpcAddress, {
      credentials:
        clientName === null
          ? credentials.createSsl(pki.read("test-ca.pem"))
          : credentials.createSsl(
              pki.read("test-ca.pem"),
              pki.read(`${clientName}.key`),
              pki.read(`${clientName}.pem`),
            ),
    });

  it("serves a caller presenting a certificate the client CA signed", async () => {
    const client = tlsClient("caller");
    expect((await client.verifyKey({})).keyId).toBe("key_verified");
    client.close();
  });

  it.each([
    ["no client certificate", null],
    ["a certificate from another CA", "rogue"],
  ])("refuses a caller with %s at the handshake", async (_label, clientName) => {
    const before = verifyCalls;
    const client = tlsClient(clientName);
    const error = await grpcFailure(client.verifyKey({}, { deadlineMs: 3_000 }));
    client.close();
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(error.code);
    expect(verifyCalls).toBe(before);
  });

  it("refuses a plain-text caller", async () => {
    const client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const error = await grpcFailure(client.verifyKey({}, { deadlineMs: 3_000 }));
    client.close();
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(error.code);
  });

  it("refuses VerifyKey on the plain-text HTTP port, which cannot check a client certificate", async () => {
    const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl);
    const error = (await client.verifyKey({}).catch((thrown: unknown) => thrown)) as ConnectError;
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.rawMessage).toContain("mutual TLS");
    const health = createConnectClient(Health, server.current.httpBaseUrl);
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
  });
});

describe("TLS without client certificates", () => {
  const dir = mkdtempSync(join(tmpdir(), "apikeys-tls-"));
  const pki = makePki(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = useTestServer("tls", {
    env: { GRPC_TLS_CERT_FILE: pki.path("server.pem"), GRPC_TLS_KEY_FILE: pki.path("server.key") },
    services: { verify },
  });

  it("serves any TLS caller that trusts the server certificate", async () => {
    const client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress, {
      credentials: credentials.createSsl(pki.read("test-ca.pem")),
    });
    expect((await client.verifyKey({})).keyId).toBe("key_verified");
    client.close();
  });
});
