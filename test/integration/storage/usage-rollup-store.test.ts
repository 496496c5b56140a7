/**
 * What the usage rollups rely on, checked against the test run's MongoDB-wire server first (an unordered
 * bulkWrite of updateOne upserts with `$inc` on nested counter fields creates a missing document with the
 * increments, plus `$setOnInsert` fields, and adds to an existing one, in one command), then the store.
 */
import { describe, expect, it } from "vitest";
import {
  createMongoUsageRollupStore,
  USAGE_ROLLUPS_COLLECTION,
} from "../../../src/storage/usage-rollup-store.js";
import { useTestDatabase } from "../../helpers/mongo.js";

const { db } = useTestDatabase("rollupinc");

interface CounterDoc {
  _id: string;
  tenantId: string;
  start: Date;
  counts: Record<string, number>;
}

describe("$inc upserts on the test server", () => {
  it("creates the document on the first increment and adds on the next, per nested field", async () => {
    const rollups = db.collection<CounterDoc>("inc_probe");
    const start = new Date("2026-01-01T10:00:00Z");
    const upsert = (id: string, counts: Record<string, number>) => ({
      updateOne: {
        filter: { _id: id },
        update: {
          $inc: Object.fromEntries(Object.entries(counts).map(([code, n]) => [`counts.${code}`, n])),
          $setOnInsert: { tenantId: "acme", start },
        },
        upsert: true,
      },
    });
    const first = await rollups.bulkWrite(
      [upsert("a", { VALID: 3, REVOKED: 1 }), upsert("b", { VALID: 2 })],
      {
        ordered: false,
      },
    );
    expect(first.upsertedCount).toBe(2);
    await rollups.bulkWrite([upsert("a", { VALID: 4, EXPIRED: 5 }), upsert("b", { VALID: 1 })], {
      ordered: false,
    });
    const docs = await rollups.find({}).sort({ _id: 1 }).toArray();
    expect(docs).toEqual([
      { _id: "a", tenantId: "acme", start, counts: { VALID: 7, REVOKED: 1, EXPIRED: 5 } },
      { _id: "b", tenantId: "acme", start, counts: { VALID: 3 } },
    ]);
  });

  it("deletes by an indexed range on the bucket start", async () => {
    const rollups = db.collection<CounterDoc>("delete_probe");
    await rollups.createIndex({ start: 1 });
    const old = new Date("2026-01-01T00:00:00Z");
    const recent = new Date("2026-03-01T00:00:00Z");
    await rollups.insertMany([
      { _id: "old", tenantId: "t", start: old, counts: {} },
      { _id: "recent", tenantId: "t", start: recent, counts: {} },
    ]);
    const deleted = await rollups.deleteMany({ start: { $lt: new Date("2026-02-01T00:00:00Z") } });
    expect(deleted.deletedCount).toBe(1);
    expect((await rollups.find({}).toArray()).map((doc) => doc._id)).toEqual(["recent"]);
  });
});

describe("MongoDB usage rollup store", () => {
  const store = createMongoUsageRollupStore(db);
  const hour = (iso: string) => new Date(iso);
  const bucket = (keyId: string, granularity: "hour" | "day", start: Date, valid: number) => ({
    scope: "key" as const,
    tenantId: "acme",
    keyId,
    granularity,
    start,
    counts: { valid },
  });

  it("adds increments, reads a series, sums keys' recent hours and deletes past the retention", async () => {
    await store.add([
      bucket("k1", "hour", hour("2031-01-01T10:00:00Z"), 2),
      bucket("k1", "hour", hour("2031-01-01T11:00:00Z"), 3),
      bucket("k2", "hour", hour("2031-01-01T11:00:00Z"), 5),
      bucket("k1", "day", hour("2031-01-01T00:00:00Z"), 5),
    ]);
    await store.add([bucket("k1", "hour", hour("2031-01-01T11:00:00Z"), 1)]);
    const series = await store.series({
      scope: "key",
      tenantId: "acme",
      keyId: "k1",
      granularity: "hour",
      start: hour("2031-01-01T00:00:00Z"),
      end: hour("2031-01-02T00:00:00Z"),
    });
    expect(series).toEqual([
      { start: hour("2031-01-01T10:00:00Z"), counts: { valid: 2 } },
      { start: hour("2031-01-01T11:00:00Z"), counts: { valid: 4 } },
    ]);
    const recent = await store.requestsSince("acme", ["k1", "k2", "k3"], hour("2031-01-01T11:00:00Z"));
    expect(Object.fromEntries(recent)).toEqual({ k1: 4, k2: 5 });
    expect(await store.deleteBefore("hour", hour("2031-01-01T11:00:00Z"))).toBe(1);
    expect(await store.deleteBefore("day", hour("2031-01-01T00:00:00Z"))).toBe(0);
    expect(await db.collection(USAGE_ROLLUPS_COLLECTION).countDocuments({})).toBe(3);
  });
});
