import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../helpers/mongo.js";

describe("test database", () => {
  const { db } = useTestDatabase("localmongo");

  it("round-trips a document and enforces a unique index on the run's server", async () => {
    const collection = db.collection<{ _id: string; email: string }>("probe");
    await collection.createIndex({ email: 1 }, { unique: true, name: "email_unique" });
    await collection.insertOne({ _id: "a", email: "a@example.com" });
    await expect(collection.insertOne({ _id: "b", email: "a@example.com" })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await collection.findOne({ _id: "a" })).toEqual({ _id: "a", email: "a@example.com" });
  });
});
