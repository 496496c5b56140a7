/**
 * The service restarts between a consumer's disconnect and its resume, and nothing
 * is missed — including the events the stopped instance still held in its audit buffer (written by the
 * shutdown flush). Also: a stream open while its server shuts down ends with UNAVAILABLE, and resuming from
 * its last cursor on another server misses nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeAuditCursor } from "../../src/domain/audit-cursor.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bootstrapSuperuser,
  type CreatedKey,
  createKey,
  eventsOf,
  fromCursor,
  fromTime,
  heartbeats,
  lastCursorOf,
  openStream,
  persistedEvents,
  retryingUnavailable,
  StreamReader,
  startAuditNode,
  TRANSPORTS,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const database = useTestDatabase("auditrestart");
const running = new Set<AuditNode>();
let steady: AuditNode;
let superuser: string;
let key: CreatedKey;

async function start(name: string, env: Readonly<Record<string, string>> = {}): Promise<AuditNode> {
  const node = await startAuditNode(database, name, { AUDIT_HEARTBEAT_MS: "200", ...env });
  running.add(node);
  return node;
}

async function stop(node: AuditNode): Promise<void> {
  await node.stop();
  running.delete(node);
}

/** verify makes `count` usage events through `node`, their endpoints tagged with `tag`. */
async function verify(node: AuditNode, tag: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      retryingUnavailable(() =>
        node.grpc.verify.verifyKey({
          credential: { case: "key", value: key.secret },
          endpoint: `POST /${tag}/${i}`,
          clientIp: "198.51.100.4",
        }),
      ),
    ),
  );
}

/** catchUp reads a stream from the beginning until it is idle (a heartbeat after the last event). */
async function catchUp(node: AuditNode, transport: "grpc" | "connect"): Promise<string> {
  const total = (await persistedEvents(node)).length;
  const reader = new StreamReader(openStream(node, transport, { start: fromTime(new Date(0)) }, superuser));
  await reader.readUntil((items) => eventsOf(items).length >= total && items.at(-1)?.type === "heartbeat");
  reader.close();
  const cursor = lastCursorOf(reader.items);
  expect(cursor).not.toBeNull();
  return cursor as string;
}

/** eventsAfter is every persisted event id after `cursor`, in commit order. */
async function eventsAfter(node: AuditNode, cursor: string): Promise<string[]> {
  const seq = decodeAuditCursor(cursor);
  return (await persistedEvents(node)).filter((event) => event.seq > seq).map((event) => event.eventId);
}

beforeAll(async () => {
  steady = await start("steady");
  superuser = await bootstrapSuperuser(steady);
  key = await createKey(steady, superuser, { tenantId: "acme", name: "restart test key" });
  await waitForFlushed([steady]);
});

afterAll(async () => {
  await Promise.all([...running].map((node) => node.stop()));
});

describe.each(TRANSPORTS)("over %s", (transport) => {
  it("a consumer that resumes on a restarted service misses nothing, the stopped instance's buffer included", async () => {
    // The first instance writes its buffer only when it stops: what it holds at shutdown must still arrive.
    const first = await start(`first-${transport}`, { USAGE_FLUSH_INTERVAL_MS: "600000" });
    const cursor = await catchUp(first, transport);

    await verify(first, `${transport}/before-restart`, 15);
    await verify(steady, `${transport}/meanwhile`, 15);
    await stop(first);
    const restarted = await start(`restarted-${transport}`);
    await verify(restarted, `${transport}/after-restart`, 15);
    await waitForFlushed([steady, restarted]);

    const expected = await eventsAfter(steady, cursor);
    const held = await steady.server.db
      .collection(AUDIT_EVENTS_COLLECTION)
      .countDocuments({ "detail.endpoint": { $regex: `^POST /${transport}/before-restart/` } });
    expect(held).toBe(15);
    expect(expected.length).toBeGreaterThanOrEqual(45);

    const reader = new StreamReader(
      openStream(restarted, transport, { start: fromCursor(cursor) }, superuser),
    );
    await reader.readUntil((items) => eventsOf(items).length >= expected.length && heartbeats(items) > 0);
    reader.close();
    expect(reader.failure).toBeNull();
    expect(eventsOf(reader.items).map((event) => event.eventId)).toEqual(expected);
  }, 60_000);

  it("a stream open during shutdown ends with UNAVAILABLE and resumes elsewhere without loss", async () => {
    const doomed = await start(`doomed-${transport}`);
    const cursor = await catchUp(doomed, transport);
    const reader = new StreamReader(openStream(doomed, transport, { start: fromCursor(cursor) }, superuser));
    await verify(doomed, `${transport}/before-shutdown`, 10);
    await reader.readUntil((items) => eventsOf(items).length >= 10);

    const stopping = stop(doomed);
    await verify(steady, `${transport}/during-shutdown`, 10);
    await reader.readUntil(() => false);
    await stopping;
    expect(reader.failure?.code).toBe("UNAVAILABLE");
    expect(reader.ended).toBe(false);

    await verify(steady, `${transport}/after-shutdown`, 10);
    await waitForFlushed([steady]);
    const resumeFrom = lastCursorOf(reader.items) as string;
    const expected = await eventsAfter(steady, resumeFrom);
    const resumed = new StreamReader(
      openStream(steady, transport, { start: fromCursor(resumeFrom) }, superuser),
    );
    await resumed.readUntil((items) => eventsOf(items).length >= expected.length && heartbeats(items) > 0);
    resumed.close();
    const everything = [...eventsOf(reader.items), ...eventsOf(resumed.items)].map((event) => event.eventId);
    expect(everything).toEqual(await eventsAfter(steady, cursor));
  }, 60_000);
});
