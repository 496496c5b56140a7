/**
 * StreamAuditEvents over both transports on a real server: which stored events each caller receives, bad
 * and expired cursors, heartbeats on an idle stream, and the starts "now", a time and a cursor. Refusals
 * (no credential, no admin rights, another tenant) are tested in memory: test/handlers/audit-handler.test.ts.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { encodeAuditCursor } from "../../src/domain/audit-cursor.js";
import { AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import { AUDIT_CURSOR_EXPIRED, EARLIEST_CURSOR_KEY } from "../../src/rpc/audit-mappers.js";
import { ERROR_INFO_DOMAIN } from "../../src/rpc/error-info.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bearer,
  bootstrapSuperuser,
  type CreatedKey,
  collect,
  createKey,
  eventsOf,
  fromCursor,
  fromTime,
  heartbeats,
  lastCursorOf,
  openStream,
  persistedEvents,
  StreamReader,
  type StreamRequest,
  startAuditNode,
  TRANSPORTS,
  type Transport,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const HEARTBEAT_MS = 200;
const database = useTestDatabase("auditaccess");
let node: AuditNode;
let superuser: string;
let acmeAdmin: CreatedKey;
let globexAdmin: CreatedKey;
let acmeTarget: CreatedKey;
let globexTarget: CreatedKey;

/** liveStream opens a stream and reads until its first heartbeat, so it is live before the test acts. */
async function liveStream(transport: Transport, request: StreamRequest, key: string): Promise<StreamReader> {
  const reader = new StreamReader(openStream(node, transport, request, key));
  await reader.readUntil((items) => heartbeats(items) >= 1);
  expect(eventsOf(reader.items)).toEqual([]);
  return reader;
}

/** renameKey makes one admin event in the key's tenant. */
async function renameKey(key: CreatedKey, name: string, actor = superuser): Promise<void> {
  await node.grpc.admin.updateKey(
    { key: { keyId: key.keyId, name }, updateMask: { paths: ["name"] } },
    { metadata: bearer(actor) },
  );
}

beforeAll(async () => {
  node = await startAuditNode(database, "access-1", { AUDIT_HEARTBEAT_MS: String(HEARTBEAT_MS) });
  superuser = await bootstrapSuperuser(node);
  acmeAdmin = await createKey(node, superuser, {
    tenantId: "acme",
    name: "acme admin",
    permissions: [ADMIN_PERMISSION],
  });
  globexAdmin = await createKey(node, superuser, {
    tenantId: "globex",
    name: "globex admin",
    permissions: [ADMIN_PERMISSION],
  });
  acmeTarget = await createKey(node, superuser, { tenantId: "acme", name: "acme target" });
  globexTarget = await createKey(node, superuser, { tenantId: "globex", name: "globex target" });
  await waitForFlushed([node]);
});

afterAll(async () => {
  await node?.stop();
});

describe.each(TRANSPORTS)("StreamAuditEvents over %s", (transport) => {
  it("gives a tenant admin without tenant_id its own tenant's events only", async () => {
    const reader = await liveStream(transport, { kinds: [AuditEventKind.ADMIN] }, acmeAdmin.secret);
    await renameKey(globexTarget, `globex ${transport} 1`);
    await renameKey(acmeTarget, `acme ${transport} 1`);
    await renameKey(globexTarget, `globex ${transport} 2`);
    await renameKey(acmeTarget, `acme ${transport} 2`);
    await reader.readUntil((items) => eventsOf(items).length >= 2);
    reader.close();
    expect(eventsOf(reader.items).map((event) => event.tenantId)).toEqual(["acme", "acme"]);
  });

  it("gives a super user every tenant's events when tenant_id is empty, one tenant's when named", async () => {
    const since = new Date();
    await renameKey(acmeTarget, `acme ${transport} all`);
    await renameKey(globexTarget, `globex ${transport} all`);
    const everything = await collect(
      openStream(node, transport, { kinds: [AuditEventKind.ADMIN], start: fromTime(since) }, superuser),
      (items) => eventsOf(items).length >= 2,
    );
    expect(new Set(eventsOf(everything.items).map((event) => event.tenantId))).toEqual(
      new Set(["acme", "globex"]),
    );
    const globexOnly = await collect(
      openStream(
        node,
        transport,
        { tenantId: "globex", kinds: [AuditEventKind.ADMIN], start: fromTime(since) },
        superuser,
      ),
      (items) => items.some((item) => item.type === "heartbeat"),
    );
    expect(eventsOf(globexOnly.items).map((event) => event.tenantId)).toEqual(["globex"]);
  });

  it("filters by key: only the events of that key", async () => {
    const since = new Date();
    await renameKey(acmeTarget, `acme ${transport} key filter`);
    await renameKey(globexTarget, `globex ${transport} key filter`);
    await waitForFlushed([node]);
    const result = await collect(
      openStream(node, transport, { keyId: globexTarget.keyId, start: fromTime(since) }, globexAdmin.secret),
      (items) => items.some((item) => item.type === "heartbeat"),
    );
    const stored = (await persistedEvents(node)).filter(
      (event) => event.eventId === eventsOf(result.items)[0]?.eventId,
    );
    expect(eventsOf(result.items)).toHaveLength(1);
    expect(stored).toHaveLength(1);
  });

  it.each([
    ["garbage", "not-a-cursor"],
    ["empty", ""],
    ["a page token", "AgAAAAAAAAAAAAAAAAAAAAA"],
  ])("answers a %s resume cursor with INVALID_ARGUMENT", async (_label, cursor) => {
    const result = await collect(
      openStream(node, transport, { start: fromCursor(cursor) }, superuser),
      () => false,
    );
    expect(result.failure?.code).toBe("INVALID_ARGUMENT");
    expect(result.failure?.message).toContain("resume_cursor");
  });

  it("answers a cursor ahead of the newest event with INVALID_ARGUMENT", async () => {
    const newest = (await persistedEvents(node)).at(-1)?.seq ?? 0;
    const result = await collect(
      openStream(node, transport, { start: fromCursor(encodeAuditCursor(newest + 1_000)) }, superuser),
      () => false,
    );
    expect(result.failure?.code).toBe("INVALID_ARGUMENT");
  });

  it("sends heartbeats on an idle stream, each with a cursor that resumes without loss", async () => {
    const result = await collect(
      openStream(node, transport, { tenantId: "nobody-here" }, superuser),
      (items) => items.filter((item) => item.type === "heartbeat").length >= 3,
    );
    expect(result.items.every((item) => item.type === "heartbeat")).toBe(true);
    const cursor = lastCursorOf(result.items);
    expect(cursor).not.toBeNull();
    // Everything after the heartbeat's position arrives when resuming from it.
    await renameKey(acmeTarget, `acme ${transport} after heartbeat`);
    await waitForFlushed([node]);
    const resumed = await collect(
      openStream(
        node,
        transport,
        { start: fromCursor(cursor ?? ""), kinds: [AuditEventKind.ADMIN] },
        superuser,
      ),
      (items) => eventsOf(items).length >= 1,
    );
    const stored = await persistedEvents(node);
    const expected = stored.filter(
      (event) => event.kind === "admin" && event.seq > seqOf(stored, cursor ?? ""),
    );
    expect(eventsOf(resumed.items)[0]?.eventId).toBe(expected[0]?.eventId);
  });
});

/** seqOf finds the seq a heartbeat cursor stands for (the cursor of the event with that seq, or 0). */
function seqOf(stored: readonly { seq: number }[], cursor: string): number {
  for (let seq = stored.at(-1)?.seq ?? 0; seq >= 0; seq--) {
    if (encodeAuditCursor(seq) === cursor) {
      return seq;
    }
  }
  throw new Error("cursor does not name a stored position");
}

describe.each(TRANSPORTS)("retention over %s", (transport) => {
  it("answers a cursor older than the retained events with OUT_OF_RANGE and earliest_cursor, which resumes", async () => {
    for (let i = 0; i < 4; i++) {
      await renameKey(acmeTarget, `acme ${transport} retention ${i}`);
    }
    await waitForFlushed([node]);
    const before = await persistedEvents(node);
    const oldCursor = encodeAuditCursor(before[0]?.seq ?? 0);
    // Simulate the TTL monitor: the oldest events are gone.
    const cut = before.at(-3)?.seq ?? 0;
    await node.server.db.collection(AUDIT_EVENTS_COLLECTION).deleteMany({ _id: { $lte: cut } as never });

    const expired = await collect(
      openStream(node, transport, { start: fromCursor(oldCursor) }, superuser),
      () => false,
    );
    expect(expired.failure?.code).toBe("OUT_OF_RANGE");
    expect(expired.failure?.info?.reason).toBe(AUDIT_CURSOR_EXPIRED);
    expect(expired.failure?.info?.domain).toBe(ERROR_INFO_DOMAIN);
    const earliest = expired.failure?.info?.metadata[EARLIEST_CURSOR_KEY] ?? "";
    expect(earliest).toBe(encodeAuditCursor(cut));
    expect(expired.failure?.message).toContain(earliest);

    const retained = (await persistedEvents(node)).map((event) => event.eventId);
    const resumed = await collect(
      openStream(node, transport, { start: fromCursor(earliest) }, superuser),
      (items) => eventsOf(items).length >= retained.length,
    );
    expect(eventsOf(resumed.items).map((event) => event.eventId)).toEqual(retained);
  });
});

describe("stream starts", () => {
  it("'now' delivers only events committed after the call started", async () => {
    await waitForFlushed([node]);
    const before = (await persistedEvents(node)).at(-1)?.seq ?? 0;
    expect(before).toBeGreaterThan(0);
    const reader = await liveStream("grpc", { kinds: [AuditEventKind.ADMIN] }, superuser);
    await renameKey(acmeTarget, "acme after now");
    await reader.readUntil((items) => eventsOf(items).length >= 1);
    reader.close();
    const stored = await persistedEvents(node);
    const first = stored.find((event) => event.eventId === eventsOf(reader.items)[0]?.eventId);
    expect(first?.seq).toBeGreaterThan(before);
    expect(first?.kind).toBe("admin");
  });

  it("a start time delivers the events at or after it, in commit order", async () => {
    await expect
      .poll(async () => (await persistedEvents(node)).length, {
        message: "a persisted event",
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const stored = await persistedEvents(node);
    const documents = await node.server.db
      .collection<{ _id: number; time: Date }>(AUDIT_EVENTS_COLLECTION)
      .find({})
      .sort({ _id: 1 })
      .toArray();
    const middle = documents[Math.floor(documents.length / 2)];
    const since = middle?.time ?? new Date(0);
    // The stream begins with the first event at or after the time and goes on in commit order.
    const firstSeq = Math.min(
      ...documents.filter((document) => document.time >= since).map((document) => document._id),
    );
    const expected = documents.filter((document) => document._id >= firstSeq).map((document) => document._id);
    const result = await collect(
      openStream(node, "connect", { start: fromTime(since) }, superuser),
      (items) => eventsOf(items).length >= expected.length,
    );
    const bySeq = new Map(stored.map((event) => [event.eventId, event.seq]));
    expect(eventsOf(result.items).map((event) => bySeq.get(event.eventId))).toEqual(expected);
  });
});

/**
 * rawConnectStream sends one Connect server-streaming request as plain HTTP/1.1 — what `curl` does — and
 * returns the decoded envelopes (flags and JSON) once the server ends the response or `stopAfter` messages
 * arrived.
 */
function rawConnectStream(
  body: unknown,
  key: string,
  stopAfter: number,
): Promise<{ status: number; contentType: string; frames: Array<{ flags: number; json: unknown }> }> {
  const json = Buffer.from(JSON.stringify(body), "utf8");
  const envelope = Buffer.alloc(5 + json.length);
  envelope.writeUInt8(0, 0);
  envelope.writeUInt32BE(json.length, 1);
  json.copy(envelope, 5);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${node.server.httpBaseUrl}/apikeys.v1.AuditService/StreamAuditEvents`,
      {
        method: "POST",
        headers: { "content-type": "application/connect+json", authorization: `Bearer ${key}` },
      },
      (res) => {
        const frames: Array<{ flags: number; json: unknown }> = [];
        let pending = Buffer.alloc(0);
        const finish = () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"]), frames });
        res.on("data", (chunk: Buffer) => {
          pending = Buffer.concat([pending, chunk]);
          while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
            const length = pending.readUInt32BE(1);
            frames.push({
              flags: pending.readUInt8(0),
              json: JSON.parse(pending.subarray(5, 5 + length).toString("utf8")),
            });
            pending = pending.subarray(5 + length);
          }
          if (frames.length >= stopAfter) {
            req.destroy();
            finish();
          }
        });
        res.on("end", finish);
        res.on("error", () => undefined);
      },
    );
    req.on("error", (error) => {
      if (!req.destroyed) {
        reject(error);
      }
    });
    req.end(envelope);
  });
}

describe("Connect streaming as plain HTTP (what curl sends)", () => {
  it("streams enveloped JSON events, then heartbeats, after a resume cursor", async () => {
    await waitForFlushed([node]);
    const stored = await persistedEvents(node);
    const last = stored.at(-1);
    const before = stored.at(-2);
    const answer = await rawConnectStream(
      { resumeCursor: encodeAuditCursor(before?.seq ?? 0) },
      superuser,
      2,
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/connect+json");
    const [event, heartbeat] = answer.frames;
    expect(event?.flags).toBe(0);
    expect(event?.json).toMatchObject({
      event: { eventId: last?.eventId, cursor: encodeAuditCursor(last?.seq ?? 0) },
    });
    expect(heartbeat?.json).toMatchObject({ heartbeat: { cursor: encodeAuditCursor(last?.seq ?? 0) } });
  });

  it("ends with an end-of-stream envelope carrying the error", async () => {
    const answer = await rawConnectStream({ resumeCursor: "garbage" }, superuser, 1);
    expect(answer.frames).toHaveLength(1);
    expect(answer.frames[0]).toMatchObject({
      flags: 2,
      json: {
        error: {
          code: "invalid_argument",
          message: "resume_cursor: is not a valid audit stream cursor",
          // The field violation, machine-readable.
          details: [expect.objectContaining({ type: "google.rpc.BadRequest" })],
        },
      },
    });
  });
});
