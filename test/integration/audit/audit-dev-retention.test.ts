/**
 * The development retention: on the provisioned local stand-in (no TTL expiry, linear scans) the audit
 * pipeline keeps only the newest N usage events, never deleting admin events, and streams keep working
 * after pruning (a cursor from before the pruned range is told so). Only the composition root turns it on,
 * and only for the stand-in it provisioned: a database given by MONGODB_URI is never pruned.
 */
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { encodeAuditCursor } from "../../../src/domain/audit-cursor.js";
import type { AuditEventFilter } from "../../../src/domain/audit-log.js";
import { AuditCursorExpiredError, type AuditStreamItem } from "../../../src/domain/audit-stream.js";
import { createAuditPipeline, DEV_PRUNE_INTERVAL_MS } from "../../../src/server/audit-pipeline.js";
import { loadConfig } from "../../../src/server/config.js";
import { connectDatabase, DEV_USAGE_EVENTS_KEPT, devUsageRetentionOf } from "../../../src/server/database.js";
import { createLogger } from "../../../src/server/logger.js";
import { AUDIT_EVENTS_COLLECTION } from "../../../src/storage/audit-event-store.js";
import type { LocalMongo } from "../../../src/storage/local-mongo.js";
import { mongoUri } from "../../helpers/mongo.js";
import { adminEvent, usageEvent } from "../../unit/audit/audit-fixtures.js";
import { useAuditTestDatabases } from "./audit-test-db.js";

const ALL: AuditEventFilter = { tenantId: null, keyId: null, kinds: [] };
const KEEP = 40;

const config = loadConfig({ NODE_ENV: "test", USAGE_FLUSH_INTERVAL_MS: "20", AUDIT_HEARTBEAT_MS: "200" });

/** capturedLogger is a logger whose lines the test reads. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    logger: createLogger(config, { destination }),
    messages: () =>
      lines
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => String((JSON.parse(line) as { msg: unknown }).msg)),
  };
}

/** nextEvent pulls items until an event arrives. */
async function nextEvent(stream: AsyncGenerator<AuditStreamItem>): Promise<AuditStreamItem> {
  for (;;) {
    const result = await stream.next();
    if (result.done) {
      throw new Error("the stream ended");
    }
    if (result.value.type === "event") {
      return result.value;
    }
  }
}

describe("development retention of usage events", () => {
  const dbs = useAuditTestDatabases("auditdevret");

  it("keeps the newest usage events and every admin event, and the stream delivers after pruning", async () => {
    const db = await dbs.freshDb();
    const { logger, messages } = capturedLogger();
    const pipeline = createAuditPipeline({
      config,
      logger,
      db,
      metrics: new Registry(),
      devUsageRetention: KEEP,
    });
    const events = db.collection(AUDIT_EVENTS_COLLECTION);
    try {
      for (let round = 0; round < 6; round++) {
        for (let index = 0; index < 50; index++) {
          pipeline.sink.emit(usageEvent());
        }
        await pipeline.sink.record(adminEvent());
      }
      // 300 usage events written, pruned down to the newest KEEP; the 6 admin events all stay.
      await expect
        .poll(() => events.countDocuments({ "detail.kind": "usage" }), { timeout: 20_000, interval: 100 })
        .toBe(KEEP);
      expect(await events.countDocuments({ "detail.kind": "admin" })).toBe(6);
      const newestUsage = await events
        .find({ "detail.kind": "usage" })
        .sort({ _id: -1 })
        .limit(KEEP)
        .toArray();
      expect(newestUsage.map((document) => document._id)).toEqual(
        Array.from({ length: KEEP }, (_, index) => 306 - 1 - index),
      );
      expect(messages().filter((message) => message.startsWith("development retention:"))).toHaveLength(1);

      // A live stream delivers what comes after the pruning.
      const controller = new AbortController();
      const live = pipeline.hub.follow({ start: { kind: "now" }, filter: ALL, signal: controller.signal });
      // Its first item, a heartbeat after AUDIT_HEARTBEAT_MS of quiet, shows it has taken its "now" position.
      await live.next();
      await pipeline.sink.record(adminEvent({ tenantId: "after_pruning" }));
      expect(await nextEvent(live)).toMatchObject({ event: { tenantId: "after_pruning" } });
      controller.abort();
      await live.return();

      // A cursor from before the pruned range is told so, and the earliest cursor re-syncs.
      const old = pipeline.hub.follow({
        start: { kind: "cursor", cursor: encodeAuditCursor(0) },
        filter: ALL,
      });
      const refused = await old.next().then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(AuditCursorExpiredError);
      const resync = pipeline.hub.follow({
        start: { kind: "cursor", cursor: (refused as AuditCursorExpiredError).earliestCursor },
        filter: ALL,
      });
      const resumed = await nextEvent(resync);
      expect(resumed.type === "event" && resumed.event.seq).toBeGreaterThan(306 - KEEP - 1);
      await resync.return();
    } finally {
      for (const hook of pipeline.closeHooks) {
        await hook.close();
      }
    }
  }, 60_000);

  it("prunes nothing without the flag", async () => {
    const db = await dbs.freshDb();
    const { logger, messages } = capturedLogger();
    const pipeline = createAuditPipeline({ config, logger, db, metrics: new Registry() });
    try {
      for (let index = 0; index < 120; index++) {
        pipeline.sink.emit(usageEvent());
      }
      // Stored once this resolves (in order, with the usage events before it); a pruner, if one ran,
      // would have had two of its intervals to delete some.
      await pipeline.sink.record(adminEvent());
      await new Promise((resolve) => setTimeout(resolve, 2 * DEV_PRUNE_INTERVAL_MS));
      expect(await db.collection(AUDIT_EVENTS_COLLECTION).countDocuments({})).toBe(121);
      expect(messages().some((message) => message.startsWith("development retention"))).toBe(false);
    } finally {
      for (const hook of pipeline.closeHooks) {
        await hook.close();
      }
    }
  }, 60_000);

  it("is set by the composition root only for a stand-in it provisioned, never when MONGODB_URI is given", async () => {
    const given = loadConfig({ NODE_ENV: "development", MONGODB_URI: mongoUri() });
    const { logger } = capturedLogger();
    const database = await connectDatabase(given, logger);
    try {
      expect(database.local).toBeNull();
      expect(devUsageRetentionOf(database)).toBeNull();
    } finally {
      await database.close();
    }
    const provisioned = (kind: LocalMongo["kind"]) => ({ local: { kind } as LocalMongo });
    expect(devUsageRetentionOf(provisioned("jongodb"))).toBe(DEV_USAGE_EVENTS_KEPT);
    // A local mongod has its TTL monitor and real indexes: it is never pruned by count.
    expect(devUsageRetentionOf(provisioned("mongod"))).toBeNull();
  });
});
