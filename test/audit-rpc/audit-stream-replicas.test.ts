/**
 * Three writer instances (three servers on one database, each with its own
 * connection pool and audit sink) produce events concurrently through real VerifyKey calls and admin
 * mutations, while two consumers — one over gRPC, one over Connect — follow StreamAuditEvents, hang up and
 * resume several times, each time on another server. Each consumer ends up with exactly the persisted set,
 * in commit order; duplicates appear only right after a reconnect (from the consumer that resumes from an
 * older cursor than its last one), never otherwise.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bearer,
  bootstrapSuperuser,
  type CreatedKey,
  createKey,
  eventsOf,
  fromCursor,
  fromTime,
  lastCursorOf,
  openStream,
  persistedEvents,
  retryingUnavailable,
  StreamReader,
  type StreamStart,
  sleep,
  startAuditNode,
  type Transport,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const ROUNDS = 20;
const VERIFIES_PER_ROUND = 10;

const database = useTestDatabase("auditreplicas");
const nodes: AuditNode[] = [];
let superuser: string;
let tenantAdmin: CreatedKey;
let verifiedKeys: CreatedKey[];
let restrictedKey: CreatedKey;

beforeAll(async () => {
  for (const name of ["replica-a", "replica-b", "replica-c"]) {
    nodes.push(await startAuditNode(database, name, { AUDIT_HEARTBEAT_MS: "200" }));
  }
  const [first] = nodes as [AuditNode];
  superuser = await bootstrapSuperuser(first);
  tenantAdmin = await createKey(first, superuser, {
    tenantId: "acme",
    name: "acme admin",
    permissions: [ADMIN_PERMISSION],
  });
  verifiedKeys = [];
  for (let i = 0; i < 3; i++) {
    verifiedKeys.push(await createKey(first, tenantAdmin.secret, { tenantId: "acme", name: `service ${i}` }));
  }
  restrictedKey = await createKey(first, superuser, {
    tenantId: "globex",
    name: "office only",
    ipAllowlist: ["10.0.0.0/8"],
  });
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
});

/** produce drives one writer: rounds of concurrent VerifyKey calls and one admin mutation each. */
async function produce(node: AuditNode, index: number): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < VERIFIES_PER_ROUND; i++) {
      const kind = (round + i) % 4;
      const key = verifiedKeys[(round + i) % verifiedKeys.length] as CreatedKey;
      const credential =
        kind === 0 ? `${key.secret.slice(0, -2)}zz` : kind === 1 ? restrictedKey.secret : key.secret;
      calls.push(
        retryingUnavailable(() =>
          node.grpc.verify.verifyKey({
            credential: { case: "key", value: credential },
            clientIp: kind === 1 ? "192.0.2.7" : "203.0.113.9",
            endpoint: `GET /replica-${index}/round-${round}/${i}`,
          }),
        ),
      );
    }
    const key = verifiedKeys[round % verifiedKeys.length] as CreatedKey;
    const rename = { keyId: key.keyId, name: `renamed by ${node.name} in round ${round}` };
    const actor = round % 2 === 0 ? tenantAdmin.secret : superuser;
    calls.push(
      retryingUnavailable(() =>
        node.grpc.admin.updateKey(
          { key: rename, updateMask: { paths: ["name"] } },
          { metadata: bearer(actor) },
        ),
      ),
    );
    await Promise.all(calls);
    await sleep(15);
  }
}

/** Consumer is what one consumer received: its connections, in order, each a list of event ids. */
interface ConsumerLog {
  readonly segments: string[][];
}

/**
 * consume follows the stream over `transport`, hanging up after a varying number of events and resuming on
 * the next server, until `finished(received)` holds. With `olderCursor`, every other resume starts from
 * the cursor of an event a few before the last one (an at-least-once client that lost its latest cursor).
 */
async function consume(
  transport: Transport,
  firstNode: number,
  finished: (received: ReadonlySet<string>) => boolean,
  olderCursor: boolean,
  abandoned: () => boolean,
): Promise<ConsumerLog> {
  const segments: string[][] = [];
  const received = new Set<string>();
  const cursors: string[] = [];
  let start: StreamStart = fromTime(new Date(0));
  for (let connection = 0; !abandoned(); connection++) {
    const node = nodes[(firstNode + connection) % nodes.length] as AuditNode;
    const quota = 40 + ((connection * 37) % 80);
    const reader = new StreamReader(openStream(node, transport, { start }, superuser));
    await reader.readUntil(
      (items) =>
        eventsOf(items).length >= quota ||
        finished(new Set([...received, ...eventsOf(items).map((e) => e.eventId)])),
      60_000,
    );
    reader.close();
    // A consumer resumes after UNAVAILABLE (a database hiccup while catching up on a loaded machine) like
    // after any disconnect; nothing else may end its stream.
    if (reader.failure !== null) {
      expect(reader.failure.code).toBe("UNAVAILABLE");
    }
    const events = eventsOf(reader.items);
    segments.push(events.map((event) => event.eventId));
    for (const event of events) {
      received.add(event.eventId);
      cursors.push(event.cursor);
    }
    const last = lastCursorOf(reader.items);
    if (finished(received)) {
      return { segments };
    }
    if (last !== null) {
      const rewind = olderCursor && connection % 2 === 0 && events.length > 3;
      start = fromCursor(rewind ? (cursors.at(-4) as string) : last);
    }
  }
  throw new Error("the consumer was abandoned (the test failed elsewhere)");
}

it("every consumer receives exactly the persisted events, in commit order, across reconnects and replicas", async () => {
  let target: Set<string> | null = null;
  const finished = (received: ReadonlySet<string>) =>
    target !== null && [...target].every((eventId) => received.has(eventId));
  let abandoned = false;
  const consumers = Promise.all([
    consume("grpc", 0, finished, false, () => abandoned),
    consume("connect", 1, finished, true, () => abandoned),
  ]);
  // If producing fails, the consumers must stop too (they would otherwise outlive the servers).
  consumers.catch(() => undefined);
  let persisted: Awaited<ReturnType<typeof persistedEvents>>;
  try {
    await Promise.all(nodes.map((node, index) => produce(node, index)));
    await waitForFlushed(nodes);
    persisted = await persistedEvents(nodes[0] as AuditNode);
  } catch (error) {
    abandoned = true;
    throw error;
  }
  target = new Set(persisted.map((event) => event.eventId));
  const [overGrpc, overConnect] = await consumers;

  // The writers really were concurrent: three replicas' usage events, and a gap-free seq range.
  expect(persisted.map((event) => event.seq)).toEqual(persisted.map((_, index) => index + 1));
  const replicas = await nodes[0]?.server.db
    .collection(AUDIT_EVENTS_COLLECTION)
    .distinct("detail.replica", { "detail.kind": "usage" });
  expect(new Set(replicas)).toEqual(new Set(["replica-a", "replica-b", "replica-c"]));
  expect(persisted.length).toBeGreaterThanOrEqual(nodes.length * ROUNDS * (VERIFIES_PER_ROUND + 1));

  const persistedOrder = persisted.map((event) => event.eventId);
  for (const [log, allowsDuplicates] of [
    [overGrpc, false],
    [overConnect, true],
  ] as const) {
    expect(log.segments.length).toBeGreaterThanOrEqual(4);
    const all = log.segments.flat();
    expect(new Set(all)).toEqual(new Set(persistedOrder));
    // Commit order: the first delivery of each event follows seq order exactly.
    expect([...new Set(all)]).toEqual(persistedOrder);
    // Duplicates: only at the start of a connection (re-delivery after resuming from an older cursor).
    const seen = new Set<string>();
    let duplicates = 0;
    for (const segment of log.segments) {
      let fresh = false;
      for (const eventId of segment) {
        if (seen.has(eventId)) {
          expect(fresh).toBe(false);
          duplicates++;
        } else {
          fresh = true;
          seen.add(eventId);
        }
      }
    }
    if (allowsDuplicates) {
      expect(duplicates).toBeGreaterThan(0);
      expect(duplicates).toBeLessThanOrEqual(3 * log.segments.length);
    } else {
      expect(duplicates).toBe(0);
    }
  }
}, 120_000);
