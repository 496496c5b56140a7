/**
 * AuditService over real sockets: production server stacks (bootServer through startTestServer) on one
 * test database, each with its own MongoDB connection pool like separate replicas, and clients of every
 * service on both transports — a stock @grpc/grpc-js client on the gRPC port and a Connect (JSON over
 * HTTP/1.1) client on the HTTP port. Stream failures are normalised across transports, ErrorInfo included.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import { MongoClient, type MongoClientOptions } from "mongodb";
import { expect, vi } from "vitest";
import {
  AuditService,
  type StreamAuditEventsRequestSchema,
  type StreamAuditEventsResponse,
} from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService } from "../../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { statusName } from "../../../src/rpc/error-codes.js";
import { type ErrorInfo, errorInfoOf } from "../../../src/rpc/error-info.js";
import { AUDIT_EVENTS_COLLECTION } from "../../../src/storage/audit-event-store.js";
import { createConnectClient } from "../../helpers/connect-client.js";
import {
  createGrpcJsClient,
  type GrpcJsClient,
  grpcErrorInfo,
  isServiceError,
} from "../../helpers/grpc-client.js";
import { startTestServer, type TestDatabase, type TestServer } from "../../helpers/start-server.js";

/** AUDIT_TEST_BOOTSTRAP_TOKEN is the bootstrap token every audit test server is configured with. */
export const AUDIT_TEST_BOOTSTRAP_TOKEN = "audit-rpc-tests-bootstrap-token";

/** auditTestEnv is the configuration of audit test servers: fast flushes, a bootstrap token. */
export function auditTestEnv(overrides: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    BOOTSTRAP_TOKEN: AUDIT_TEST_BOOTSTRAP_TOKEN,
    USAGE_FLUSH_INTERVAL_MS: "50",
    LOG_LEVEL: "info",
    ...overrides,
  };
}

/** Transport names the two ways a test reaches the service. */
export type Transport = "grpc" | "connect";

/** TRANSPORTS lists both, for it.each. */
export const TRANSPORTS: readonly Transport[] = ["grpc", "connect"];

/** AuditNode is one running server (a replica) with clients for every service on both transports. */
export interface AuditNode {
  readonly name: string;
  readonly server: TestServer;
  readonly grpc: {
    readonly audit: GrpcJsClient<typeof AuditService>;
    readonly admin: GrpcJsClient<typeof KeyAdminService>;
    readonly verify: GrpcJsClient<typeof KeyVerifyService>;
  };
  readonly connect: {
    readonly audit: Client<typeof AuditService>;
    readonly admin: Client<typeof KeyAdminService>;
  };
  /** stop shuts the server down (graceful) and closes its clients and connection pool. */
  stop(): Promise<void>;
}

/**
 * startAuditNode starts a server on `database` with its own connection pool (REPLICA_ID = name), as a
 * separate replica would have; `pool` overrides that pool's options (a test of the production pool's
 * limits passes them).
 */
export async function startAuditNode(
  database: TestDatabase,
  name: string,
  env: Readonly<Record<string, string>> = {},
  pool: MongoClientOptions = {},
): Promise<AuditNode> {
  const client = new MongoClient(database.uri, {
    serverSelectionTimeoutMS: 5_000,
    monitorCommands: true,
    ...pool,
  });
  await client.connect();
  const own: TestDatabase = {
    client,
    db: client.db(database.dbName),
    dbName: database.dbName,
    uri: database.uri,
  };
  let server: TestServer;
  try {
    server = await startTestServer(own, { env: auditTestEnv({ REPLICA_ID: name, ...env }) });
  } catch (error) {
    await client.close();
    throw error;
  }
  const grpc = {
    audit: createGrpcJsClient(AuditService, server.grpcAddress),
    admin: createGrpcJsClient(KeyAdminService, server.grpcAddress),
    verify: createGrpcJsClient(KeyVerifyService, server.grpcAddress),
  };
  let stopped: Promise<void> | undefined;
  return {
    name,
    server,
    grpc,
    connect: {
      audit: createConnectClient(AuditService, server.httpBaseUrl),
      admin: createConnectClient(KeyAdminService, server.httpBaseUrl),
    },
    stop() {
      stopped ??= (async () => {
        try {
          await server.shutdown();
        } finally {
          grpc.audit.close();
          grpc.admin.close();
          grpc.verify.close();
          await client.close();
        }
      })();
      return stopped;
    },
  };
}

/** bearer is the metadata of a call authenticated with `key`. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** bootstrapSuperuser creates the first super-user key through `node` and returns its secret. */
export async function bootstrapSuperuser(node: AuditNode): Promise<string> {
  const response = await node.grpc.admin.bootstrap({ bootstrapToken: AUDIT_TEST_BOOTSTRAP_TOKEN });
  return response.secret;
}

/** CreatedKey is a key made through CreateKey: its id and whole secret key. */
export interface CreatedKey {
  readonly keyId: string;
  readonly secret: string;
}

/**
 * createKey makes a key in `tenantId` through `node`'s admin API, as `actorKey`; a super user creates the
 * tenant first when it does not exist yet (tenants exist before their keys).
 */
export async function createKey(
  node: AuditNode,
  actorKey: string,
  request: {
    tenantId: string;
    name: string;
    permissions?: string[];
    ipAllowlist?: string[];
    userId?: string;
    requestId?: string;
  },
): Promise<CreatedKey> {
  // Already existing, or a tenant admin acting in its own tenant: nothing to create.
  await node.grpc.admin
    .createTenant({ tenantId: request.tenantId }, { metadata: bearer(actorKey) })
    .catch(() => undefined);
  const response = await node.grpc.admin.createKey(request, { metadata: bearer(actorKey) });
  const keyId = response.key?.keyId ?? "";
  expect(keyId).not.toBe("");
  return { keyId, secret: response.secret };
}

/** StreamRequest is a StreamAuditEvents request init. */
export type StreamRequest = MessageInitShape<typeof StreamAuditEventsRequestSchema>;

/** StreamStart is the `start` oneof of a request. */
export type StreamStart = NonNullable<StreamRequest["start"]>;

/** fromCursor is the `start` of a request that resumes after `cursor`. */
export function fromCursor(cursor: string): StreamStart {
  return { case: "resumeCursor", value: cursor };
}

/** fromTime is the `start` of a request that begins at `time`. */
export function fromTime(time: Date): StreamStart {
  return { case: "startTime", value: timestampFromDate(time) };
}

/** StreamHandle is one open stream: its messages and a way to hang up. */
export interface StreamHandle {
  readonly messages: AsyncIterable<StreamAuditEventsResponse>;
  /** pause stops reading from the socket (gRPC only: the client's flow control then stops the server). */
  pause(): void;
  resume(): void;
  /** cancel hangs up (the client goes away). */
  cancel(): void;
}

/** openStream opens StreamAuditEvents on `node` over `transport`, authenticated with `key` (none if null). */
export function openStream(
  node: AuditNode,
  transport: Transport,
  request: StreamRequest,
  key: string | null,
): StreamHandle {
  const headers = key === null ? {} : bearer(key);
  if (transport === "grpc") {
    const call = node.grpc.audit.streamAuditEvents(request, { metadata: headers });
    // A cancelled call ends the iteration with an error event; the caller decided to go, so it is expected.
    return {
      messages: call,
      pause: () => call.pause(),
      resume: () => call.resume(),
      cancel: () => call.cancel(),
    };
  }
  const controller = new AbortController();
  return {
    messages: node.connect.audit.streamAuditEvents(request, { headers, signal: controller.signal }),
    pause: () => undefined,
    resume: () => undefined,
    cancel: () => controller.abort(),
  };
}

/** StreamFailure is how a stream ended in error, normalised across transports. */
export interface StreamFailure {
  /** code is the gRPC status name, for example "OUT_OF_RANGE". */
  readonly code: string;
  readonly message: string;
  /** info is the google.rpc.ErrorInfo detail, when the error carried one. */
  readonly info: ErrorInfo | null;
}

/** failureOf normalises a stream or call error; anything else is rethrown. */
export function failureOf(error: unknown): StreamFailure {
  if (error instanceof ConnectError) {
    return { code: statusName(error.code), message: error.rawMessage, info: errorInfoOf(error) };
  }
  if (isServiceError(error)) {
    const serviceError = error as ServiceError;
    return {
      code: statusName(serviceError.code),
      message: serviceError.details,
      info: grpcErrorInfo(serviceError),
    };
  }
  throw error;
}

/** Received is one message a consumer got: an event (id, cursor) or a heartbeat (cursor). */
export type Received =
  | { readonly type: "event"; readonly eventId: string; readonly cursor: string; readonly tenantId: string }
  | { readonly type: "heartbeat"; readonly cursor: string };

/**
 * StreamReader reads a stream in steps: `readUntil` may be called again to go on where it stopped (a
 * test can wait for the first heartbeat, act, then read on). It remembers everything received.
 */
export class StreamReader {
  readonly items: Received[] = [];
  failure: StreamFailure | null = null;
  ended = false;
  private readonly iterator: AsyncIterator<StreamAuditEventsResponse>;
  private closed = false;

  constructor(private readonly handle: StreamHandle) {
    this.iterator = handle.messages[Symbol.asyncIterator]();
  }

  /**
   * readUntil reads until `done(items)` holds, the stream ends or fails (see `ended`, `failure`), and
   * fails the test after `timeoutMs`.
   */
  async readUntil(done: (items: readonly Received[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.items) && !this.ended && this.failure === null) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
      });
      try {
        const next = await Promise.race([this.iterator.next(), timeout]);
        if (next === "timeout") {
          this.close();
          throw new Error(`stream did not get there within ${timeoutMs} ms (received ${this.items.length})`);
        }
        if (next.done === true) {
          this.ended = true;
        } else {
          this.items.push(receivedOf(next.value));
        }
      } catch (error) {
        if (this.closed) {
          throw error;
        }
        this.failure = failureOf(error);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** close hangs up. */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.handle.cancel();
      void this.iterator.return?.().catch(() => undefined);
    }
  }
}

/** CollectResult is what a consumer got before it stopped, and why it stopped. */
export interface CollectResult {
  readonly items: Received[];
  /** failure is the error the stream ended with; null when the consumer hung up or the stream ended OK. */
  readonly failure: StreamFailure | null;
  /** ended is true when the server ended the stream with OK. */
  readonly ended: boolean;
}

/**
 * collect reads `handle` until `done(items)` says so (then hangs up), the stream ends or fails, or
 * `timeoutMs` passes (then fails the test).
 */
export async function collect(
  handle: StreamHandle,
  done: (items: readonly Received[]) => boolean,
  timeoutMs = 20_000,
): Promise<CollectResult> {
  const reader = new StreamReader(handle);
  try {
    await reader.readUntil(done, timeoutMs);
  } finally {
    reader.close();
  }
  return { items: reader.items, failure: reader.failure, ended: reader.ended };
}

/** heartbeats counts the heartbeats among `items`. */
export function heartbeats(items: readonly Received[]): number {
  return items.filter((item) => item.type === "heartbeat").length;
}

/** receivedOf reduces a stream message to what the tests compare. */
export function receivedOf(message: StreamAuditEventsResponse): Received {
  const content = message.message;
  if (content.case === "event") {
    return {
      type: "event",
      eventId: content.value.eventId,
      cursor: content.value.cursor,
      tenantId: content.value.tenantId,
    };
  }
  if (content.case === "heartbeat") {
    return { type: "heartbeat", cursor: content.value.cursor };
  }
  throw new Error("a stream message carried neither an event nor a heartbeat");
}

/** eventsOf keeps the events of `items`. */
export function eventsOf(items: readonly Received[]): Array<Extract<Received, { type: "event" }>> {
  return items.filter((item): item is Extract<Received, { type: "event" }> => item.type === "event");
}

/** lastCursorOf is the cursor of the last message (event or heartbeat), or null. */
export function lastCursorOf(items: readonly Received[]): string | null {
  return items.at(-1)?.cursor ?? null;
}

/** PersistedEvent is an event as stored: its id, its seq (commit order) and its tenant. */
export interface PersistedEvent {
  readonly eventId: string;
  readonly seq: number;
  readonly tenantId: string;
  readonly kind: string;
}

/** persistedEvents reads every stored audit event of `node`'s database, in seq order. */
export async function persistedEvents(node: AuditNode): Promise<PersistedEvent[]> {
  const documents = await node.server.db
    .collection<{ _id: number; eventId: string; tenantId: string; detail: { kind: string } }>(
      AUDIT_EVENTS_COLLECTION,
    )
    .find({})
    .sort({ _id: 1 })
    .toArray();
  return documents.map((document) => ({
    eventId: document.eventId,
    seq: document._id,
    tenantId: document.tenantId,
    kind: document.detail.kind,
  }));
}

/** auditBuffered reads a node's apikeys_audit_buffer_events gauge (events not yet written). */
export async function auditBuffered(node: AuditNode): Promise<number> {
  const metric = node.server.metrics.getSingleMetric("apikeys_audit_buffer_events");
  if (metric === undefined) {
    throw new Error("apikeys_audit_buffer_events is not registered");
  }
  const value = (await metric.get()).values[0]?.value;
  if (typeof value !== "number") {
    throw new Error("apikeys_audit_buffer_events has no sample");
  }
  return value;
}

/** waitForFlushed waits until no node holds an unwritten audit event. */
export async function waitForFlushed(nodes: readonly AuditNode[]): Promise<void> {
  // vi.waitFor, not expect.poll: this also runs in hooks, outside any test.
  await vi.waitFor(
    async () => {
      const buffered = await Promise.all(nodes.map(auditBuffered));
      if (!buffered.every((count) => count === 0)) {
        throw new Error(`audit buffers still hold ${buffered.join(", ")} events`);
      }
    },
    { timeout: 15_000, interval: 25 },
  );
}

/**
 * retryingUnavailable runs a unary call again (up to 10 times, with a short pause) while it fails with
 * UNAVAILABLE — what a real caller does when a loaded server's lookup budget runs out — and returns its
 * answer. Any other failure is thrown at once.
 */
export async function retryingUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 10 || failureOf(error).code !== "UNAVAILABLE") {
        throw error;
      }
      await sleep(50 * attempt);
    }
  }
}

/** sleep waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
