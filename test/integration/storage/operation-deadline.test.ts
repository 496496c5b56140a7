/**
 * deadlineBound on the real storage: inside a call its operations keep the call's deadline, one started
 * after it is refused without reaching the database (so nothing is written), and outside a call nothing
 * changes.
 */
import { describe, expect, it } from "vitest";
import { withCallDeadline } from "../../../src/domain/call-deadline.js";
import { deadlineBound } from "../../../src/storage/operation-deadline.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { uniqueId } from "./fixtures.js";

describe("deadlineBound", () => {
  const { db } = useTestDatabase("opdeadline");
  const plain = db.collection<{ _id: string; n: number }>("things");
  const bound = deadlineBound(plain);

  it("runs operations as usual outside a call", async () => {
    const _id = uniqueId("outside");
    await bound.insertOne({ _id, n: 1 });
    await bound.updateOne({ _id }, { $inc: { n: 1 } });
    expect(await bound.findOne({ _id })).toEqual({ _id, n: 2 });
    expect(await bound.find({ _id }).toArray()).toHaveLength(1);
    expect(bound.collectionName).toBe("things");
    expect(String(bound.toString)).toContain("function");
  });

  it("runs operations within a call's remaining time", async () => {
    const _id = uniqueId("inside");
    await withCallDeadline(Date.now() + 5_000, async () => {
      await bound.insertOne({ _id, n: 1 });
      expect(await bound.countDocuments({ _id })).toBe(1);
      expect(await bound.find({ _id }).toArray()).toEqual([{ _id, n: 1 }]);
    });
  });

  it("refuses an operation started after the call's deadline, writing nothing", async () => {
    const _id = uniqueId("late");
    await withCallDeadline(Date.now() + 20, async () => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      // Refused where it is started (the repositories start operations inside guard, which rejects).
      expect(() => bound.insertOne({ _id, n: 1 })).toThrow(expect.objectContaining({ kind: "unavailable" }));
      expect(() => bound.find({ _id })).toThrow("deadline passed");
    });
    expect(await plain.findOne({ _id })).toBeNull();
  });

  it("no longer applies a deadline once its call has ended (background work it started)", async () => {
    const _id = uniqueId("after");
    let later: Promise<unknown> = Promise.resolve();
    await withCallDeadline(Date.now() + 20, async () => {
      later = new Promise((resolve) => setTimeout(resolve, 40)).then(() => bound.insertOne({ _id, n: 1 }));
    });
    await later;
    expect(await plain.findOne({ _id })).toEqual({ _id, n: 1 });
  });
});
