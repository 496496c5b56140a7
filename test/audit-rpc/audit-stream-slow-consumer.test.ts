/**
 * A consumer that stops reading: the server cuts it off once AUDIT_STREAM_BUFFER_EVENTS matching
 * events pile up for it, ends the call within 5 s although its writer is blocked by flow control, and the
 * consumer sees RESOURCE_EXHAUSTED (reason AUDIT_STREAM_SLOW_CONSUMER). Another consumer on the same server
 * keeps receiving everything, and the slow one resumes from its last cursor without losing an event.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewAuditEvent } from "../../src/domain/audit-event.js";
import { SLOW_CONSUMER_REASON } from "../../src/domain/audit-stream.js";
import { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { createMongoAuditEventStore } from "../../src/storage/audit-event-store.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bearer,
  bootstrapSuperuser,
  eventsOf,
  fromCursor,
  heartbeats,
  lastCursorOf,
  openStream,
  persistedEvents,
  type StreamHandle,
  StreamReader,
  startAuditNode,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const STREAM_BUFFER_EVENTS = 200;
const BURST_EVENTS = 4_000;

const database = useTestDatabase("auditslow");
let node: AuditNode;
let superuser: string;

beforeAll(async () => {
  node = await startAuditNode(database, "slow-1", {
    AUDIT_STREAM_BUFFER_EVENTS: String(STREAM_BUFFER_EVENTS),
    // A stream buffer smaller than a written batch is refused at start.
    AUDIT_BATCH_MAX_EVENTS: String(STREAM_BUFFER_EVENTS),
    AUDIT_HEARTBEAT_MS: "200",
  });
  superuser = await bootstrapSuperuser(node);
  await waitForFlushed([node]);
});

afterAll(async () => {
  await node?.stop();
});

/** burst appends BURST_EVENTS usage events straight to the audit log, as a busy writer replica would. */
async function burst(tag: string): Promise<void> {
  const store = createMongoAuditEventStore(node.server.db);
  const padding = "x".repeat(300);
  for (let written = 0; written < BURST_EVENTS; written += 1_000) {
    const batch: NewAuditEvent[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: randomUUID(),
      time: new Date(),
      tenantId: "acme",
      detail: {
        kind: "usage",
        keyId: "",
        endpoint: `GET /${tag}/${written + i}/${padding}`,
        clientIp: "192.0.2.1",
        code: "not_found",
        httpStatus: 401,
        replica: "burst-writer",
      },
    }));
    await store.append(batch);
  }
  await store.close();
}

/** openStreams is the number of audit streams the server holds open (its apikeys_audit_streams_open). */
async function openStreams(): Promise<number> {
  const metric = node.server.metrics.getSingleMetric("apikeys_audit_streams_open");
  const value = (await metric?.get())?.values[0]?.value;
  if (typeof value !== "number") {
    throw new Error("apikeys_audit_streams_open has no sample");
  }
  return value;
}

/** live reads until the stream's first heartbeat. */
async function live(handle: StreamHandle): Promise<StreamReader> {
  const reader = new StreamReader(handle);
  await reader.readUntil((items) => heartbeats(items) >= 1);
  return reader;
}

/** http2Stream is a Connect stream over HTTP/2, where flow control applies per stream. */
function http2Stream(): StreamHandle {
  const client = createConnectClient(AuditService, node.server.httpBaseUrl, { httpVersion: "2" });
  const controller = new AbortController();
  return {
    messages: client.streamAuditEvents({}, { headers: bearer(superuser), signal: controller.signal }),
    pause: () => undefined,
    resume: () => undefined,
    cancel: () => controller.abort(),
  };
}

describe.each([
  ["gRPC (grpc-js client pauses its stream)", "grpc"],
  ["Connect over HTTP/2 (the client stops pulling)", "connect-h2"],
] as const)("a slow consumer over %s", (_label, kind) => {
  it("is ended with RESOURCE_EXHAUSTED within 5 s while another consumer keeps up; resuming loses nothing", async () => {
    const startSeq = (await persistedEvents(node)).at(-1)?.seq ?? 0;
    const slowHandle = kind === "grpc" ? openStream(node, "grpc", {}, superuser) : http2Stream();
    const slow = await live(slowHandle);
    const healthy = await live(openStream(node, "connect", {}, superuser));
    expect(await openStreams()).toBe(2);

    slowHandle.pause();
    const healthyReading = healthy.readUntil((items) => eventsOf(items).length >= BURST_EVENTS, 60_000);
    await burst(kind);
    // The server ends the slow call by itself (the gauge counts the streams it still serves).
    await expect
      .poll(openStreams, { message: "the slow stream to be ended by the server", timeout: 5_000 + 2_000 })
      .toBe(1);
    await healthyReading;
    expect(healthy.failure).toBeNull();
    healthy.close();

    slowHandle.resume();
    await slow.readUntil(() => false, 60_000);
    if (kind === "grpc") {
      // gRPC ends the call with a status after the messages already on their way, ErrorInfo included.
      expect(slow.failure?.code).toBe("RESOURCE_EXHAUSTED");
      expect(slow.failure?.info?.reason).toBe(SLOW_CONSUMER_REASON);
    } else {
      // The HTTP/2 stream is reset with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED in the gRPC mapping); the
      // connect-node client reports the reset it sees first as INTERNAL naming the code.
      expect(slow.failure).not.toBeNull();
      expect(`${slow.failure?.code} ${slow.failure?.message}`).toMatch(
        /RESOURCE_EXHAUSTED|ENHANCE_YOUR_CALM/,
      );
    }
    const received = eventsOf(slow.items);
    expect(received.length).toBeLessThan(BURST_EVENTS);

    const cursor = lastCursorOf(slow.items) as string;
    const persisted = (await persistedEvents(node)).filter((event) => event.seq > startSeq);
    const resumed = new StreamReader(openStream(node, "grpc", { start: fromCursor(cursor) }, superuser));
    await resumed.readUntil((items) => received.length + eventsOf(items).length >= persisted.length, 60_000);
    resumed.close();
    const all = [...received, ...eventsOf(resumed.items)].map((event) => event.eventId);
    expect(all).toEqual(persisted.map((event) => event.eventId));
  }, 90_000);
});
