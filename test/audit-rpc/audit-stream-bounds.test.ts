/**
 * Open audit streams are bounded on a real server whose MongoDB pool is the production one (20 connections,
 * a bounded wait for a free one): 500 simultaneous StreamAuditEvents opens over both transports are either
 * served or refused RESOURCE_EXHAUSTED by the per-process limit — never UNAVAILABLE because opens exhausted
 * the pool — every served stream delivers, a key's own limit is separate, and a stream that ends frees its slot.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { encodeAuditCursor } from "../../src/domain/audit-cursor.js";
import {
  STREAM_LIMIT_PER_CALLER_REASON,
  STREAM_LIMIT_PER_PROCESS_REASON,
} from "../../src/domain/audit-stream.js";
import { createMongoClient } from "../../src/storage/mongo-client.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bootstrapSuperuser,
  createKey,
  fromCursor,
  fromTime,
  openStream,
  persistedEvents,
  StreamReader,
  type StreamStart,
  startAuditNode,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const OPENS = 500;
const PROCESS_LIMIT = 200;
const HEARTBEAT_MS = 1_000;
// Generous: 500 streams on a machine shared with other suites.
const READ_TIMEOUT_MS = 90_000;

/** The pool settings the service runs with (src/storage/mongo-client.ts), read without connecting. */
const production = createMongoClient({ uri: "mongodb://127.0.0.1:1/" }).options;
const productionPool = {
  maxPoolSize: production.maxPoolSize,
  waitQueueTimeoutMS: production.waitQueueTimeoutMS,
  serverSelectionTimeoutMS: production.serverSelectionTimeoutMS,
};

const database = useTestDatabase("streambounds");
let node: AuditNode;
let superuser: string;
/** callers are the keys the 500 opens are spread over, so no one key reaches its own limit first. */
let callers: string[];

beforeAll(async () => {
  node = await startAuditNode(
    database,
    "bounds-1",
    {
      AUDIT_HEARTBEAT_MS: String(HEARTBEAT_MS),
      AUDIT_STREAMS_MAX: String(PROCESS_LIMIT),
      AUDIT_STREAMS_PER_CALLER_MAX: String(PROCESS_LIMIT),
    },
    productionPool,
  );
  superuser = await bootstrapSuperuser(node);
  callers = [superuser];
  for (let index = 0; index < 2; index++) {
    const admin = await createKey(node, superuser, {
      tenantId: "bounds",
      name: `bounds admin ${index}`,
      permissions: [ADMIN_PERMISSION],
    });
    callers.push(admin.secret);
  }
  for (let index = 0; index < 3; index++) {
    await createKey(node, superuser, { tenantId: "bounds", name: `history ${index}` });
  }
  await waitForFlushed([node]);
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

/** openStreams reads is the number of audit streams the server has open. */
async function openStreams(): Promise<number> {
  const metric = node.server.metrics.getSingleMetric("apikeys_audit_streams_open");
  return (await metric?.get())?.values[0]?.value ?? -1;
}

describe("bounded audit streams", () => {
  it("answers 500 simultaneous opens with served streams or the process limit, never the pool", async () => {
    expect(productionPool.maxPoolSize).toBeLessThan(OPENS);
    // Every kind of start: now, a cursor and a time (both catch up through the history).
    const starts: ReadonlyArray<StreamStart | undefined> = [
      undefined,
      fromCursor(encodeAuditCursor(0)),
      fromTime(new Date(Date.now() - 3_600_000)),
    ];
    const readers = Array.from(
      { length: OPENS },
      (_, index) =>
        new StreamReader(
          openStream(
            node,
            index % 2 === 0 ? "grpc" : "connect",
            { start: starts[index % starts.length] ?? { case: undefined } },
            callers[index % callers.length] ?? superuser,
          ),
        ),
    );
    try {
      // Until each stream answered: a first message (an event or a heartbeat) or its refusal.
      await Promise.all(
        readers.map((reader) => reader.readUntil((items) => items.length > 0, READ_TIMEOUT_MS)),
      );
      const refused = readers.filter((reader) => reader.failure !== null);
      const served = readers.filter((reader) => reader.failure === null);
      const codes = [...new Set(refused.map((reader) => reader.failure?.code))];
      expect(codes).toEqual(["RESOURCE_EXHAUSTED"]);
      for (const reader of refused) {
        expect(reader.failure?.info?.reason).toBe(STREAM_LIMIT_PER_PROCESS_REASON);
        expect(reader.failure?.message).toContain(`AUDIT_STREAMS_MAX=${PROCESS_LIMIT}`);
      }
      expect(served).toHaveLength(PROCESS_LIMIT);
      expect(refused).toHaveLength(OPENS - PROCESS_LIMIT);
      expect(await openStreams()).toBe(PROCESS_LIMIT);

      // Every served stream delivers what happens next.
      await createKey(node, superuser, { tenantId: "bounds", name: "delivered to all" });
      const last = (await persistedEvents(node)).at(-1);
      await Promise.all(
        served.map((reader) =>
          reader.readUntil(
            (items) => items.some((item) => item.type === "event" && item.eventId === last?.eventId),
            READ_TIMEOUT_MS,
          ),
        ),
      );
      for (const reader of served) {
        expect(reader.failure).toBeNull();
      }
    } finally {
      for (const reader of readers) {
        reader.close();
      }
    }
    // Streams that ended gave their slots back: the server serves the limit again.
    await expect.poll(openStreams, { timeout: 30_000 }).toBe(0);
    const again = Array.from(
      { length: 3 },
      (_, index) => new StreamReader(openStream(node, index % 2 === 0 ? "grpc" : "connect", {}, superuser)),
    );
    try {
      await Promise.all(
        again.map((reader) => reader.readUntil((items) => items.length > 0, READ_TIMEOUT_MS)),
      );
      expect(again.map((reader) => reader.failure)).toEqual([null, null, null]);
    } finally {
      for (const reader of again) {
        reader.close();
      }
    }
  }, 240_000);

  it("limits one key's open streams separately, naming that limit, and frees a slot when a stream ends", async () => {
    const perCaller = await startAuditNode(
      database,
      "bounds-2",
      { AUDIT_HEARTBEAT_MS: "200", AUDIT_STREAMS_PER_CALLER_MAX: "3", AUDIT_STREAMS_MAX: "50" },
      productionPool,
    );
    const admin = await createKey(perCaller, superuser, {
      tenantId: "bounds",
      name: "bounds admin",
      permissions: [ADMIN_PERMISSION],
    });
    const readers: StreamReader[] = [];
    const open = async (key: string, transport: "grpc" | "connect"): Promise<StreamReader> => {
      const reader = new StreamReader(openStream(perCaller, transport, {}, key));
      readers.push(reader);
      await reader.readUntil((items) => items.length > 0, READ_TIMEOUT_MS);
      return reader;
    };
    try {
      const mine = [await open(admin.secret, "grpc"), await open(admin.secret, "connect")];
      mine.push(await open(admin.secret, "grpc"));
      expect(mine.map((reader) => reader.failure)).toEqual([null, null, null]);

      for (const transport of ["grpc", "connect"] as const) {
        const fourth = await open(admin.secret, transport);
        expect(fourth.failure?.code).toBe("RESOURCE_EXHAUSTED");
        expect(fourth.failure?.info?.reason).toBe(STREAM_LIMIT_PER_CALLER_REASON);
        expect(fourth.failure?.message).toContain("AUDIT_STREAMS_PER_CALLER_MAX=3");
      }
      // Another key is not held back by this one's limit.
      const other = await open(superuser, "connect");
      expect(other.failure).toBeNull();

      // Hanging up one of the three frees its slot (once the server saw the call end).
      mine[0]?.close();
      await expect
        .poll(
          async () => {
            const retry = await open(admin.secret, "grpc");
            return retry.failure?.code ?? "OK";
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBe("OK");
    } finally {
      for (const reader of readers) {
        reader.close();
      }
      await perCaller.stop();
    }
  }, 120_000);
});
