/**
 * Both transports over real sockets on port 0, with real clients: a grpc-js client on the gRPC port and
 * connect-node clients (Connect JSON over HTTP/1.1 and h2c, gRPC over h2c, gRPC-Web) on the HTTP port.
 */
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { Counter } from "prom-client";
import { describe, expect, it } from "vitest";
import { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { type ConnectProtocol, createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import { useTestServer } from "../helpers/start-server.js";

const execFileAsync = promisify(execFile);
const hasCurl = spawnSync("curl", ["--version"]).status === 0;

const SECRET_TEXT = "db-password-hunter2 at 10.9.8.7";

/** What the injected VerifyKey does, by the request's endpoint field. */
async function verifyByEndpoint(endpoint: string, context: HandlerContext) {
  switch (endpoint) {
    case "throw":
      throw new Error(SECRET_TEXT);
    case "wait-for-abort":
      await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve()));
      throw context.signal.reason;
    default:
      return { valid: true, code: VerificationCode.VALID, httpStatus: 200, keyId: "key_ok" };
  }
}

const server = useTestServer("transports", {
  env: {
    MAX_MESSAGE_BYTES: "2048",
    DEFAULT_DEADLINE_MS: "400",
    MAX_DEADLINE_MS: "5000",
    KEY_LOOKUP_TIMEOUT_MS: "200",
  },
  services: {
    verify: { verifyKey: (request, context) => verifyByEndpoint(request.endpoint, context) },
    // Explicitly empty: every admin and audit RPC answers UNIMPLEMENTED here, whatever is wired.
    admin: {},
    audit: {},
  },
});

const httpProtocols: [ConnectProtocol, "1.1" | "2"][] = [
  ["connect-json", "1.1"],
  ["connect-json", "2"],
  ["connect-binary", "1.1"],
  ["grpc", "2"],
  ["grpc-web", "1.1"],
];

describe("health", () => {
  it.each(["", KeyVerifyService.typeName, KeyAdminService.typeName, AuditService.typeName])(
    'is SERVING for "%s" on the gRPC port',
    async (service) => {
      const client = createGrpcJsClient(Health, server.current.grpcAddress);
      expect((await client.check({ service })).status).toBe(ServingStatus.SERVING);
      client.close();
    },
  );

  it.each(httpProtocols)("is SERVING on the HTTP port over %s (HTTP/%s)", async (protocol, httpVersion) => {
    const client = createConnectClient(Health, server.current.httpBaseUrl, { protocol, httpVersion });
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: KeyVerifyService.typeName })).status).toBe(ServingStatus.SERVING);
  });

  it("answers NOT_FOUND for an unknown service on both ports", async () => {
    const grpc = createGrpcJsClient(Health, server.current.grpcAddress);
    const error = await grpcFailure(grpc.check({ service: "no.such.Service" }));
    grpc.close();
    expect(error.code).toBe(status.NOT_FOUND);
    const connect = createConnectClient(Health, server.current.httpBaseUrl);
    await expect(connect.check({ service: "no.such.Service" })).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });

  it("Watch sends the current status on both ports, and SERVICE_UNKNOWN for an unknown service", async () => {
    const grpc = createGrpcJsClient(Health, server.current.grpcAddress);
    const stream = grpc.watch({ service: "" });
    stream.on("error", () => undefined); // the CANCELLED our own cancel() causes
    const first = await new Promise((resolve) => stream.once("data", resolve));
    stream.cancel();
    const unknown = grpc.watch({ service: "no.such.Service" });
    unknown.on("error", () => undefined);
    const unknownFirst = await new Promise((resolve) => unknown.once("data", resolve));
    unknown.cancel();
    grpc.close();
    expect(first).toMatchObject({ status: ServingStatus.SERVING });
    expect(unknownFirst).toMatchObject({ status: ServingStatus.SERVICE_UNKNOWN });

    const controller = new AbortController();
    const connect = createConnectClient(Health, server.current.httpBaseUrl, {
      protocol: "grpc",
      httpVersion: "2",
    });
    for await (const message of connect.watch(
      { service: KeyVerifyService.typeName },
      { signal: controller.signal },
    )) {
      expect(message.status).toBe(ServingStatus.SERVING);
      break;
    }
    controller.abort();
  });
});

describe("an unimplemented RPC", () => {
  it("answers UNIMPLEMENTED on the gRPC port", async () => {
    const client = createGrpcJsClient(KeyAdminService, server.current.grpcAddress);
    const error = await grpcFailure(client.getKey({ keyId: "key_1" }));
    client.close();
    expect(error.code).toBe(status.UNIMPLEMENTED);
    expect(error.details).toBe("apikeys.v1.KeyAdminService.GetKey is not implemented");
  });

  it.each(httpProtocols)(
    "answers UNIMPLEMENTED on the HTTP port over %s (HTTP/%s)",
    async (protocol, httpVersion) => {
      const client = createConnectClient(KeyAdminService, server.current.httpBaseUrl, {
        protocol,
        httpVersion,
      });
      const error = await client.getKey({ keyId: "key_1" }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unimplemented);
      expect((error as ConnectError).rawMessage).toBe("apikeys.v1.KeyAdminService.GetKey is not implemented");
    },
  );

  it("answers a plain HTTP/1.1 JSON POST (what curl sends) with Connect's unimplemented error", async () => {
    const response = await fetch(`${server.current.httpBaseUrl}/apikeys.v1.KeyAdminService/GetKey`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(501);
    expect(await response.json()).toEqual({
      code: "unimplemented",
      message: "apikeys.v1.KeyAdminService.GetKey is not implemented",
    });
  });

  it.skipIf(!hasCurl)("answers the README's curl command (HTTP/1.1, no --http2)", async () => {
    const url = `${server.current.httpBaseUrl}/apikeys.v1.KeyAdminService/GetKey`;
    const { stdout } = await execFileAsync("curl", [
      "-s",
      "-H",
      "content-type: application/json",
      "-d",
      "{}",
      url,
    ]);
    expect(JSON.parse(stdout)).toEqual({
      code: "unimplemented",
      message: "apikeys.v1.KeyAdminService.GetKey is not implemented",
    });
  });

  it("answers UNIMPLEMENTED for the audit stream on both ports", async () => {
    const grpc = createGrpcJsClient(AuditService, server.current.grpcAddress);
    const error = await grpcFailure(grpc.streamAuditEvents({}).toArray());
    grpc.close();
    expect(error.code).toBe(status.UNIMPLEMENTED);
    const connect = createConnectClient(AuditService, server.current.httpBaseUrl, {
      protocol: "grpc",
      httpVersion: "2",
    });
    const failure = await (async () => {
      for await (const _ of connect.streamAuditEvents({})) {
        // no message expected
      }
    })().catch((thrown: unknown) => thrown);
    expect((failure as ConnectError).code).toBe(Code.Unimplemented);
  });
});

describe("an unexpected exception", () => {
  it("is INTERNAL with a generic message on the gRPC port, and logged with its cause", async () => {
    server.current.logs.clear();
    const client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const error = await grpcFailure(client.verifyKey({ endpoint: "throw" }));
    client.close();
    expect([error.code, error.details]).toEqual([status.INTERNAL, "internal error"]);
    expect(JSON.stringify(error)).not.toContain("hunter2");
    const logged = server.current.logs.records().find((record) => record.msg === "rpc failed");
    expect(logged).toMatchObject({ level: "error", method: "VerifyKey", code: "INTERNAL", protocol: "grpc" });
    expect(JSON.stringify(logged)).toContain(SECRET_TEXT);
  });

  it.each(httpProtocols)(
    "is INTERNAL with a generic message on the HTTP port over %s (HTTP/%s)",
    async (protocol, httpVersion) => {
      const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
        protocol,
        httpVersion,
      });
      const error = await client.verifyKey({ endpoint: "throw" }).catch((thrown: unknown) => thrown);
      expect((error as ConnectError).code).toBe(Code.Internal);
      expect((error as ConnectError).rawMessage).toBe("internal error");
    },
  );

  it("never reaches a curl-style client either", async () => {
    const response = await fetch(`${server.current.httpBaseUrl}/apikeys.v1.KeyVerifyService/VerifyKey`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ endpoint: "throw" }),
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ code: "internal", message: "internal error" });
    expect(text).not.toContain("hunter2");
  });
});

describe("limits", () => {
  const oversized = { endpoint: "x".repeat(4096) };

  it("rejects a message over MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED on the gRPC port", async () => {
    const client = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const error = await grpcFailure(client.verifyKey(oversized));
    client.close();
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it.each(httpProtocols)(
    "rejects a message over MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED over %s (HTTP/%s)",
    async (protocol, httpVersion) => {
      const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
        protocol,
        httpVersion,
      });
      const error = await client.verifyKey(oversized).catch((thrown: unknown) => thrown);
      expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    },
  );

  it("accepts a message just under the limit on both ports", async () => {
    const request = { endpoint: "x".repeat(1900) };
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    expect((await grpc.verifyKey(request)).keyId).toBe("key_ok");
    grpc.close();
    const connect = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
      protocol: "grpc",
      httpVersion: "2",
    });
    expect((await connect.verifyKey(request)).keyId).toBe("key_ok");
  });

  it("rejects a requested deadline over MAX_DEADLINE_MS with INVALID_ARGUMENT on both ports", async () => {
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const error = await grpcFailure(grpc.verifyKey({}, { deadlineMs: 60_000 }));
    grpc.close();
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    for (const [protocol, httpVersion] of httpProtocols) {
      const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
        protocol,
        httpVersion,
      });
      const failure = await client.verifyKey({}, { timeoutMs: 60_000 }).catch((thrown: unknown) => thrown);
      expect((failure as ConnectError).code, protocol).toBe(Code.InvalidArgument);
    }
  });

  it("applies DEFAULT_DEADLINE_MS to a call without a deadline on both ports (the handler's signal aborts)", async () => {
    const grpc = createGrpcJsClient(KeyVerifyService, server.current.grpcAddress);
    const error = await grpcFailure(grpc.verifyKey({ endpoint: "wait-for-abort" }));
    grpc.close();
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    for (const [protocol, httpVersion] of httpProtocols) {
      const client = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
        protocol,
        httpVersion,
      });
      const failure = await client
        .verifyKey({ endpoint: "wait-for-abort" })
        .catch((thrown: unknown) => thrown);
      expect((failure as ConnectError).code, protocol).toBe(Code.DeadlineExceeded);
    }
  });

  it("honours a shorter deadline the caller sets", async () => {
    const connect = createConnectClient(KeyVerifyService, server.current.httpBaseUrl, {
      protocol: "grpc",
      httpVersion: "2",
    });
    const failure = await connect
      .verifyKey({ endpoint: "wait-for-abort" }, { timeoutMs: 100 })
      .catch((thrown: unknown) => thrown);
    expect((failure as ConnectError).code).toBe(Code.DeadlineExceeded);
  });
});

describe("HTTP endpoints", () => {
  it("GET /healthz answers 200 while the process runs", async () => {
    const response = await fetch(`${server.current.httpBaseUrl}/healthz`);
    expect(response.status).toBe(200);
  });

  it("GET /readyz answers 200 when the database answers a ping", async () => {
    const response = await fetch(`${server.current.httpBaseUrl}/readyz`);
    expect(response.status).toBe(200);
  });

  it("GET /metrics serves the injected registry", async () => {
    const counter = new Counter({
      name: "transport_test_marker_total",
      help: "marker",
      registers: [server.current.metrics],
    });
    counter.inc(3);
    const response = await fetch(`${server.current.httpBaseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("transport_test_marker_total 3");
  });

  it("answers 404 for an unknown path", async () => {
    const response = await fetch(`${server.current.httpBaseUrl}/nope`);
    expect(response.status).toBe(404);
  });
});

/** reflectionCall sends one ServerReflectionRequest and returns the decoded response fields. */
async function reflectionCall(
  address: string,
  version: "v1" | "v1alpha",
  request: { listServices: string } | { fileContainingSymbol: string } | { fileByFilename: string },
): Promise<{ services: string[]; files: Uint8Array[]; errorCode: number | null }> {
  const writer = new BinaryWriter();
  if ("listServices" in request) {
    writer.tag(7, WireType.LengthDelimited).string(request.listServices);
  } else if ("fileContainingSymbol" in request) {
    writer.tag(4, WireType.LengthDelimited).string(request.fileContainingSymbol);
  } else {
    writer.tag(3, WireType.LengthDelimited).string(request.fileByFilename);
  }
  const client = new Client(address, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
    (bytes: Uint8Array) => Buffer.from(bytes),
    (bytes: Buffer) => bytes,
    new Metadata(),
  );
  const response = await new Promise<Buffer>((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
    call.write(writer.finish());
  });
  call.end();
  client.close();
  const services: string[] = [];
  const files: Uint8Array[] = [];
  let errorCode: number | null = null;
  const reader = new BinaryReader(response);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 6) {
      const list = new BinaryReader(reader.bytes());
      while (list.pos < list.len) {
        list.tag();
        const service = new BinaryReader(list.bytes());
        service.tag();
        services.push(service.string());
      }
    } else if (field === 4) {
      const descriptors = new BinaryReader(reader.bytes());
      while (descriptors.pos < descriptors.len) {
        descriptors.tag();
        files.push(descriptors.bytes());
      }
    } else if (field === 7) {
      const error = new BinaryReader(reader.bytes());
      error.tag();
      errorCode = error.int32();
    } else {
      reader.skip(wireType);
    }
  }
  return { services, files, errorCode };
}

describe("server reflection on the gRPC port", () => {
  it.each(["v1", "v1alpha"] as const)("lists every served service (%s)", async (version) => {
    const { services } = await reflectionCall(server.current.grpcAddress, version, { listServices: "*" });
    expect(services.sort()).toEqual(
      [AuditService.typeName, Health.typeName, KeyAdminService.typeName, KeyVerifyService.typeName].sort(),
    );
  });

  it("describes a service with complete descriptors (dependencies resolvable, as grpcurl describe needs)", async () => {
    const { files } = await reflectionCall(server.current.grpcAddress, "v1", {
      fileContainingSymbol: "apikeys.v1.KeyVerifyService",
    });
    const protos = files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const names = protos.map((proto) => proto.name);
    expect(names).toContain("apikeys/v1/key_verify_service.proto");
    const verify = protos.find((proto) => proto.name === "apikeys/v1/key_verify_service.proto");
    expect(verify?.service[0]?.method.map((method) => method.name)).toEqual(["VerifyKey"]);
    for (const dependency of verify?.dependency ?? []) {
      const { files: dependencyFiles } = await reflectionCall(server.current.grpcAddress, "v1", {
        fileByFilename: dependency,
      });
      protos.push(...dependencyFiles.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes)));
    }
    const byName = new Map(protos.map((proto) => [proto.name, proto]));
    if (verify === undefined) {
      throw new Error("no descriptor for key_verify_service.proto");
    }
    // Building a registry resolves every import: it fails if reflection left a dependency out.
    const registry = createFileRegistry(verify, (name) => byName.get(name));
    const service = registry.getService("apikeys.v1.KeyVerifyService");
    expect(service?.methods.map((method) => method.input.typeName)).toEqual(["apikeys.v1.VerifyKeyRequest"]);
    expect(registry.getMessage("google.protobuf.Timestamp")?.fields.map((field) => field.name)).toEqual([
      "seconds",
      "nanos",
    ]);
  });

  it("answers NOT_FOUND in-band for an unknown symbol", async () => {
    const { errorCode } = await reflectionCall(server.current.grpcAddress, "v1", {
      fileContainingSymbol: "no.Such",
    });
    expect(errorCode).toBe(status.NOT_FOUND);
  });
});
