import { connect, type IncomingHttpHeaders } from "node:http2";
import { create, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { Metadata, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { AuditService, type StreamAuditEventsResponse } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import {
  KeyVerifyService,
  VerificationCode,
  type VerifyKeyRequest,
} from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { kPeerAddress, kRequestId } from "../../src/rpc/context-keys.js";
import { type CallGate, createCallGate } from "../../src/transport/call-gate.js";
import { createCallInterceptors } from "../../src/transport/call-interceptors.js";
import { addServiceToGrpcServer, createGrpcDefinition } from "../../src/transport/grpc-js-bridge.js";
import type { CallObserver } from "../../src/transport/interceptors/request-log.js";
import { createGrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";

interface Ended {
  method: string;
  code: number;
  error: ConnectError | undefined;
  peer: string;
}

/** Behaviour swaps the implementations per test; the server is started once. */
const behaviour: {
  verifyKey?: (request: VerifyKeyRequest, context: HandlerContext) => unknown;
} = {};

const ended: Ended[] = [];
const observer: CallObserver = {
  callEnded(method: DescMethod, _protocol, code, _durationMs, call, error) {
    ended.push({ method: method.name, code, error, peer: call.values.get(kPeerAddress) });
  },
};

let gate: CallGate;
let server: Server;
let address: string;
let streamImpl: (context: HandlerContext) => AsyncIterable<unknown>;

async function startBridge(): Promise<void> {
  gate = createCallGate();
  server = new Server({ "grpc.max_receive_message_length": 4096 });
  const options = {
    interceptors: createCallInterceptors({ observer, gate, defaultDeadlineMs: 300, alwaysServe: [Health] }),
    maxDeadlineMs: 5_000,
  };
  addServiceToGrpcServer(
    server,
    KeyVerifyService,
    {
      verifyKey: (request, context) => {
        const handler = behaviour.verifyKey;
        if (handler === undefined) {
          throw new Error("no behaviour set");
        }
        return handler(request, context) as never;
      },
    },
    options,
  );
  addServiceToGrpcServer(
    server,
    AuditService,
    { streamAuditEvents: (_request, context) => streamImpl(context) as never },
    options,
  );
  addServiceToGrpcServer(server, Health, { check: () => ({ status: ServingStatus.SERVING }) }, options);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  address = `127.0.0.1:${port}`;
}

function heartbeat(cursor: string) {
  return { message: { case: "heartbeat" as const, value: { cursor } } };
}

function cursorOf(message: StreamAuditEventsResponse): string {
  return message.message.case === "heartbeat" ? message.message.value.cursor : "";
}

function lastEnded(method: string): Ended {
  const found = ended.filter((entry) => entry.method === method).at(-1);
  if (found === undefined) {
    throw new Error(`no call of ${method} ended`);
  }
  return found;
}

describe("grpc-js bridge", () => {
  beforeAll(startBridge);
  afterAll(() => server.forceShutdown());
  afterEach(() => {
    delete behaviour.verifyKey;
  });

  const verifyClient = () => createGrpcJsClient(KeyVerifyService, address);

  it("decodes the request, gives the handler a HandlerContext over the metadata, and encodes the response", async () => {
    let seen: Record<string, unknown> = {};
    behaviour.verifyKey = (request, context) => {
      seen = {
        key: request.credential.case === "key" ? request.credential.value : null,
        clientIp: request.clientIp,
        header: context.requestHeader.get("x-custom"),
        binary: context.requestHeader.get("x-trace-bin"),
        hasMissing: context.requestHeader.has("x-missing"),
        all: [...context.requestHeader.keys()].includes("x-custom"),
        method: context.method.name,
        service: context.service.typeName,
        protocol: context.protocolName,
        url: context.url,
        requestMethod: context.requestMethod,
        requestId: context.values.get(kRequestId),
        peer: context.values.get(kPeerAddress),
        timeoutMs: context.timeoutMs(),
        aborted: context.signal.aborted,
      };
      return { valid: true, code: VerificationCode.VALID, httpStatus: 200, keyId: "key_1" };
    };
    const metadata = new Metadata();
    metadata.set("x-custom", "hello");
    metadata.set("x-trace-bin", Buffer.from([1, 2, 3]));
    metadata.set("x-request-id", "req-42");
    const client = verifyClient();
    const response = await client.verifyKey(
      { credential: { case: "key", value: "ak_live_abc" }, clientIp: "203.0.113.9" },
      { metadata, deadlineMs: 2_000 },
    );
    client.close();
    expect(response).toMatchObject({
      valid: true,
      code: VerificationCode.VALID,
      httpStatus: 200,
      keyId: "key_1",
    });
    expect(seen).toMatchObject({
      key: "ak_live_abc",
      clientIp: "203.0.113.9",
      header: "hello",
      binary: Buffer.from([1, 2, 3]).toString("base64"),
      hasMissing: false,
      all: true,
      method: "VerifyKey",
      service: "apikeys.v1.KeyVerifyService",
      protocol: "grpc",
      url: "/apikeys.v1.KeyVerifyService/VerifyKey",
      requestMethod: "POST",
      requestId: "req-42",
      aborted: false,
    });
    expect(seen.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.timeoutMs).toBeGreaterThan(1_000);
    expect(seen.timeoutMs).toBeLessThanOrEqual(2_000);
    expect(lastEnded("VerifyKey")).toMatchObject({ code: 0, error: undefined });
  });

  it("sends response headers and trailers the handler set", async () => {
    behaviour.verifyKey = (_request, context) => {
      context.responseHeader.set("x-served-by", "bridge");
      context.responseTrailer.set("x-verify-ms", "1");
      return { valid: false, code: VerificationCode.NOT_FOUND };
    };
    const client = verifyClient();
    const definition = createGrpcDefinition(KeyVerifyService).verifyKey;
    if (definition === undefined) {
      throw new Error("missing method");
    }
    const { headers, trailers } = await new Promise<{ headers: Metadata; trailers: Metadata }>(
      (resolve, reject) => {
        let headers = new Metadata();
        const call = client.raw.makeUnaryRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          {},
          new Metadata(),
          {},
          (error) => {
            if (error !== null) {
              reject(error);
            }
          },
        );
        call.on("metadata", (received: Metadata) => {
          headers = received;
        });
        call.on("status", (received) => resolve({ headers, trailers: received.metadata }));
      },
    );
    client.close();
    expect(headers.get("x-served-by")).toEqual(["bridge"]);
    expect(trailers.get("x-verify-ms")).toEqual(["1"]);
  });

  it("answers INTERNAL with a generic message for an unexpected exception, keeping the cause for the log", async () => {
    const thrown = new Error("db at 10.1.2.3 said: secret detail");
    behaviour.verifyKey = () => {
      throw thrown;
    };
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect(error.code).toBe(status.INTERNAL);
    expect(error.details).toBe("internal error");
    expect(error.message).not.toContain("10.1.2.3");
    expect(lastEnded("VerifyKey").error?.cause).toBe(thrown);
  });

  it("answers INTERNAL for a rejected promise too", async () => {
    behaviour.verifyKey = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error("late failure");
    };
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect([error.code, error.details]).toEqual([status.INTERNAL, "internal error"]);
  });

  it("maps a domain error through the error-code table", async () => {
    behaviour.verifyKey = () => {
      throw new DomainError("not_found", "key key_9 not found");
    };
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect([error.code, error.details]).toEqual([status.NOT_FOUND, "key key_9 not found"]);
  });

  it("sends a ConnectError's code, message, metadata and details", async () => {
    behaviour.verifyKey = () => {
      throw new ConnectError("cursor too old", Code.OutOfRange, { "x-earliest": "42" }, [
        { desc: HealthCheckResponseSchema, value: { status: ServingStatus.SERVICE_UNKNOWN } },
      ]);
    };
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect([error.code, error.details]).toEqual([status.OUT_OF_RANGE, "cursor too old"]);
    expect(error.metadata.get("x-earliest")).toEqual(["42"]);
    const detailsBin = error.metadata.get("grpc-status-details-bin")[0];
    expect(Buffer.isBuffer(detailsBin)).toBe(true);
    const decoded = findTrailerError(
      new Headers({
        "grpc-status": String(error.code),
        "grpc-message": error.details,
        "grpc-status-details-bin": (detailsBin as Buffer).toString("base64"),
      }),
    );
    expect(decoded?.findDetails(HealthCheckResponseSchema)).toEqual([
      create(HealthCheckResponseSchema, { status: ServingStatus.SERVICE_UNKNOWN }),
    ]);
  });

  it("answers INTERNAL when the response cannot be encoded", async () => {
    behaviour.verifyKey = () => ({ httpStatus: "not a number" });
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect([error.code, error.details]).toEqual([status.INTERNAL, "internal error"]);
  });

  it("answers UNIMPLEMENTED for a method the implementation lacks", async () => {
    const client = createGrpcJsClient(Health, address);
    const error = await grpcFailure(client.watch({}).toArray());
    client.close();
    expect([error.code, error.details]).toEqual([
      status.UNIMPLEMENTED,
      "grpc.health.v1.Health.Watch is not implemented",
    ]);
  });

  it("applies the default deadline to a call without one: the signal aborts and the client gets DEADLINE_EXCEEDED", async () => {
    let abortReason: unknown;
    behaviour.verifyKey = (_request, context) =>
      new Promise((_, reject) => {
        context.signal.addEventListener("abort", () => {
          abortReason = context.signal.reason;
          reject(context.signal.reason);
        });
      });
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}));
    client.close();
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(abortReason).toBeInstanceOf(ConnectError);
    expect((abortReason as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(lastEnded("VerifyKey").code).toBe(Code.DeadlineExceeded);
  });

  it("aborts the handler's signal when the client's own deadline passes", async () => {
    let abortReason: unknown;
    const aborted = new Promise<void>((resolve) => {
      behaviour.verifyKey = (_request, context) =>
        new Promise((_, reject) => {
          context.signal.addEventListener("abort", () => {
            abortReason = context.signal.reason;
            resolve();
            reject(context.signal.reason);
          });
        });
    });
    // A raw HTTP/2 request carries the deadline (grpc-timeout) but never cancels: a grpc-js client would reset
    // the stream at its own deadline, which can reach the server before the server's clock (started when the
    // request arrived, a little later) says the deadline passed — a CANCELLED from the server's view.
    const session = connect(`http://${address}`);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": `/${KeyVerifyService.typeName}/${KeyVerifyService.method.verifyKey.name}`,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": "300m",
      });
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
      stream.resume();
      // The status comes in trailers, or in the headers of a trailers-only response.
      const ending = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
        stream.once("response", (headers) => {
          if (headers["grpc-status"] !== undefined) {
            resolve(headers);
          }
        });
        stream.once("trailers", resolve);
        stream.once("error", reject);
      });
      await aborted;
      expect(ending["grpc-status"]).toBe(String(status.DEADLINE_EXCEEDED));
      expect((abortReason as ConnectError).code).toBe(Code.DeadlineExceeded);
    } finally {
      session.close();
    }
  });

  it("aborts the handler's signal with CANCELLED when the client cancels", async () => {
    let abortReason: unknown;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const aborted = new Promise<void>((resolve) => {
      behaviour.verifyKey = (_request, context) =>
        new Promise((_, reject) => {
          context.signal.addEventListener("abort", () => {
            abortReason = context.signal.reason;
            resolve();
            reject(context.signal.reason);
          });
          started();
        });
    });
    const client = verifyClient();
    const definition = createGrpcDefinition(KeyVerifyService).verifyKey;
    if (definition === undefined) {
      throw new Error("missing method");
    }
    const call = client.raw.makeUnaryRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      {},
      new Metadata(),
      { deadline: Date.now() + 4_000 },
      () => undefined,
    );
    await running;
    call.cancel();
    await aborted;
    client.close();
    expect((abortReason as ConnectError).code).toBe(Code.Canceled);
    await expect.poll(() => ended.at(-1)?.code, { timeout: 3_000 }).toBe(Code.Canceled);
  });

  it("rejects a requested deadline beyond the maximum with INVALID_ARGUMENT, without running the handler", async () => {
    let ran = false;
    behaviour.verifyKey = () => {
      ran = true;
      return {};
    };
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({}, { deadlineMs: 60_000 }));
    client.close();
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain("5000 ms");
    expect(ran).toBe(false);
  });

  it("rejects a message larger than the receive limit with RESOURCE_EXHAUSTED", async () => {
    behaviour.verifyKey = () => ({});
    const client = verifyClient();
    const error = await grpcFailure(client.verifyKey({ endpoint: "x".repeat(10_000) }));
    client.close();
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("streams every message a server-streaming handler yields, then OK", async () => {
    streamImpl = async function* () {
      for (let index = 1; index <= 3; index++) {
        yield { message: { case: "heartbeat" as const, value: { cursor: `c${index}` } } };
      }
    };
    const client = createGrpcJsClient(AuditService, address);
    const messages = await client.streamAuditEvents({}).toArray();
    client.close();
    expect(messages.map(cursorOf)).toEqual(["c1", "c2", "c3"]);
    expect(lastEnded("StreamAuditEvents").code).toBe(0);
  });

  it("ends a stream with the mapped code when the handler throws mid-stream", async () => {
    streamImpl = async function* () {
      yield heartbeat("c1");
      throw new Error("feed broke: secret");
    };
    const client = createGrpcJsClient(AuditService, address);
    const received: unknown[] = [];
    const error = await grpcFailure(
      (async () => {
        for await (const message of client.streamAuditEvents({})) {
          received.push(message);
        }
      })(),
    );
    client.close();
    expect(received).toHaveLength(1);
    expect([error.code, error.details]).toEqual([status.INTERNAL, "internal error"]);
  });

  describe("while draining", () => {
    it("refuses new calls with UNAVAILABLE, keeps answering health, and ends open streams with UNAVAILABLE", async () => {
      let streamAborted = false;
      streamImpl = async function* (context: HandlerContext) {
        yield heartbeat("first");
        await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve()));
        streamAborted = true;
        yield heartbeat("last");
      };
      const audit = createGrpcJsClient(AuditService, address);
      const stream = audit.streamAuditEvents({});
      const received: string[] = [];
      const streamDone = grpcFailure(
        (async () => {
          for await (const message of stream) {
            received.push(cursorOf(message));
          }
        })(),
      );
      await expect.poll(() => received.length, { timeout: 3_000 }).toBe(1);
      expect(gate.inFlight).toBe(1);

      gate.beginDrain();
      const streamError = await streamDone;
      expect(streamAborted).toBe(true);
      expect(received).toEqual(["first", "last"]);
      expect([streamError.code, streamError.details]).toEqual([
        status.UNAVAILABLE,
        "server is shutting down",
      ]);

      behaviour.verifyKey = () => ({ valid: true });
      const verify = verifyClient();
      const refused = await grpcFailure(verify.verifyKey({}));
      expect([refused.code, refused.details]).toEqual([status.UNAVAILABLE, "server is shutting down"]);

      const health = createGrpcJsClient(Health, address);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      await expect.poll(() => gate.inFlight, { timeout: 3_000 }).toBe(0);
      verify.close();
      health.close();
      audit.close();
    });
  });
});
