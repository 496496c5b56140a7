/**
 * The gRPC relay between two real grpc-js servers (grpc.health.v1.Health serves as the service: a unary
 * and a server-streaming method): request metadata, deadline and the caller's address go upstream (a
 * relayed-peer header the caller sends is replaced); headers, messages, status, message and trailers come
 * back unchanged; a stream keeps every message before its status even while the caller reads slowly; a
 * cancelled call is cancelled upstream; a draining gate refuses new calls.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type StatusObject,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { createCallGate } from "../../src/rpc/call-gate.js";
import {
  createGrpcRelayDefinition,
  createGrpcRelayHandlers,
  RELAYED_PEER_HEADER,
} from "../../src/rpc/grpc-relay.js";

const STREAMED = 300;

interface Seen {
  metadata: Metadata | null;
  deadline: number;
  cancelled: boolean;
}

const seen: Seen = { metadata: null, deadline: Number.NaN, cancelled: false };
const servers: Server[] = [];
const clients: Client[] = [];
const gate = createCallGate();
let relayAddress = "";

function bind(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) =>
      error === null ? resolve(port) : reject(error),
    );
  });
}

function response(servingStatus: HealthCheckResponse_ServingStatus): Buffer {
  return Buffer.from(
    toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status: servingStatus })),
  );
}

// An unknown bytes field (number 99) of 2 KiB: a stream of these fills HTTP/2 flow-control windows, so a
// slow reader really holds the relay back.
const PADDING = Buffer.concat([Buffer.from([0x9a, 0x06, 0x80, 0x10]), Buffer.alloc(2_048, 0x61)]);

/** The upstream server's behaviour is chosen by the request's service name. */
function upstreamCheck(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  seen.metadata = call.metadata;
  const deadline = call.getDeadline();
  seen.deadline = typeof deadline === "number" ? deadline : deadline.getTime();
  const service = fromBinary(HealthCheckRequestSchema, call.request).service;
  if (service === "fail") {
    const trailers = new Metadata();
    trailers.set("grpc-status-details-bin", Buffer.from([8, 5, 18, 4, 110, 111, 112, 101]));
    trailers.set("x-reason", "missing");
    callback({ code: status.NOT_FOUND, details: "no such thing", metadata: trailers });
    return;
  }
  const headers = new Metadata();
  headers.set("x-upstream-header", "h");
  call.sendMetadata(headers);
  const trailers = new Metadata();
  trailers.set("x-upstream-trailer", "t");
  callback(null, response(HealthCheckResponse_ServingStatus.SERVING), trailers);
}

function upstreamWatch(call: ServerWritableStream<Buffer, Buffer>): void {
  seen.metadata = call.metadata;
  const service = fromBinary(HealthCheckRequestSchema, call.request).service;
  if (service === "hang") {
    call.on("cancelled", () => {
      seen.cancelled = true;
    });
    return;
  }
  for (let i = 0; i < STREAMED; i++) {
    const servingStatus =
      i % 2 === 0 ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
    call.write(Buffer.concat([response(servingStatus), PADDING]));
  }
  if (service === "end-with-error") {
    call.emit("error", {
      code: status.RESOURCE_EXHAUSTED,
      details: "you are too slow",
    } satisfies Partial<StatusObject>);
  } else {
    call.end();
  }
}

beforeAll(async () => {
  const upstream = new Server();
  upstream.addService(createGrpcRelayDefinition(Health), { check: upstreamCheck, watch: upstreamWatch });
  const upstreamPort = await bind(upstream);
  const upstreamClient = new Client(`127.0.0.1:${upstreamPort}`, credentials.createInsecure());
  const relay = new Server();
  relay.addService(
    createGrpcRelayDefinition(Health),
    createGrpcRelayHandlers(Health, { upstream: upstreamClient, gate }),
  );
  relayAddress = `127.0.0.1:${await bind(relay)}`;
  servers.push(upstream, relay);
  clients.push(upstreamClient);
});

afterAll(() => {
  for (const client of clients) {
    client.close();
  }
  for (const server of servers) {
    server.forceShutdown();
  }
});

const pass = (bytes: Buffer) => bytes;
const request = (service: string) =>
  Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));

function client(): Client {
  const created = new Client(relayAddress, credentials.createInsecure());
  clients.push(created);
  return created;
}

interface UnaryOutcome {
  readonly error: ServiceError | null;
  readonly value: Buffer | undefined;
  readonly headers: Metadata | null;
  readonly trailers: Metadata | null;
}

function check(service: string, metadata = new Metadata(), deadline?: number): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    let headers: Metadata | null = null;
    let trailers: Metadata | null = null;
    let settled: { error: ServiceError | null; value: Buffer | undefined } | null = null;
    const finish = () => {
      if (settled !== null && trailers !== null) {
        resolve({ ...settled, headers, trailers });
      }
    };
    const call = client().makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      pass,
      pass,
      request(service),
      metadata,
      deadline === undefined ? {} : { deadline },
      (error: ServiceError | null, value?: Buffer) => {
        settled = { error, value };
        finish();
      },
    );
    call.on("metadata", (received: Metadata) => {
      headers = received;
    });
    call.on("status", (received: StatusObject) => {
      trailers = received.metadata;
      finish();
    });
  });
}

describe("the gRPC relay", () => {
  it("relays a unary call: metadata and deadline up; headers, message and trailers down", async () => {
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer relayed");
    metadata.set(RELAYED_PEER_HEADER, "10.9.9.9:1");
    const deadline = Date.now() + 30_000;
    const outcome = await check("ok", metadata, deadline);
    expect(outcome.error).toBeNull();
    expect(fromBinary(HealthCheckResponseSchema, outcome.value as Buffer).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    expect(outcome.headers?.get("x-upstream-header")).toEqual(["h"]);
    expect(outcome.trailers?.get("x-upstream-trailer")).toEqual(["t"]);
    expect(seen.metadata?.get("authorization")).toEqual(["Bearer relayed"]);
    // The caller's own address, not the header it sent.
    expect(seen.metadata?.get(RELAYED_PEER_HEADER)).toHaveLength(1);
    expect(String(seen.metadata?.get(RELAYED_PEER_HEADER)[0])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Math.abs(seen.deadline - deadline)).toBeLessThan(1_000);
  });

  it("relays no deadline when the caller set none", async () => {
    await check("ok");
    expect(seen.deadline).toBe(Number.POSITIVE_INFINITY);
  });

  it("relays a failure with its code, message and trailers (status details included)", async () => {
    const outcome = await check("fail");
    expect(outcome.error?.code).toBe(status.NOT_FOUND);
    expect(outcome.error?.details).toBe("no such thing");
    expect(outcome.error?.metadata.get("x-reason")).toEqual(["missing"]);
    expect(outcome.error?.metadata.get("grpc-status-details-bin")).toEqual([
      Buffer.from([8, 5, 18, 4, 110, 111, 112, 101]),
    ]);
  });

  /** watch reads a relayed stream slowly and returns the statuses received and the final code. */
  async function watch(service: string): Promise<{ received: number[]; code: number }> {
    const stream = client().makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      pass,
      pass,
      request(service),
      new Metadata(),
    );
    const received: number[] = [];
    const code = await new Promise<number>((resolve) => {
      stream.on("data", (message: Buffer) => {
        received.push(fromBinary(HealthCheckResponseSchema, message).status);
        // Read slowly: the relay must hold back the upstream, not drop or reorder; the long pause near the
        // end leaves messages buffered at the relay when the upstream status arrives.
        if (received.length % 50 === 0 || received.length === STREAMED - 10) {
          stream.pause();
          setTimeout(() => stream.resume(), received.length === STREAMED - 10 ? 200 : 20);
        }
      });
      stream.on("error", () => undefined);
      // grpc-js reports the status while read messages may still wait in a paused stream: both must be in.
      let final: number | undefined;
      let ended = false;
      stream.on("status", (received: StatusObject) => {
        final = received.code;
        if (ended) {
          resolve(final);
        }
      });
      stream.on("end", () => {
        ended = true;
        if (final !== undefined) {
          resolve(final);
        }
      });
    });
    return { received, code };
  }

  const inOrder = (received: readonly number[]) =>
    received.every((value, i) => value === (i % 2 === 0 ? 1 : 2));

  it("relays every message of a stream that ends, in order, then OK, to a slow reader", async () => {
    const { received, code } = await watch("end");
    expect(code).toBe(status.OK);
    expect(received).toHaveLength(STREAMED);
    expect(inOrder(received)).toBe(true);
  });

  it("relays a stream that fails: its messages in order, then the failure", async () => {
    // Like grpc-js itself, a stream that ends in an error may lose messages still queued behind it (the
    // caller resumes from the last one it got); what arrives is a prefix, never a gap or a reordering.
    const { received, code } = await watch("end-with-error");
    expect(code).toBe(status.RESOURCE_EXHAUSTED);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThanOrEqual(STREAMED);
    expect(inOrder(received)).toBe(true);
  });

  it("cancels the upstream call when the caller cancels", async () => {
    seen.cancelled = false;
    const stream = client().makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      pass,
      pass,
      request("hang"),
      new Metadata(),
    );
    stream.on("error", () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stream.cancel();
    const start = Date.now();
    while (!seen.cancelled && Date.now() - start < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen.cancelled).toBe(true);
    expect(gate.inFlight).toBe(0);
  });

  it("refuses new calls with UNAVAILABLE once the gate drains", async () => {
    gate.beginDrain();
    const outcome = await check("ok");
    expect(outcome.error?.code).toBe(status.UNAVAILABLE);
    expect(outcome.error?.details).toBe("server is shutting down");
  });
});
