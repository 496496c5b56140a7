import { describe, expect, it } from "vitest";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { allStorageIndexes } from "../../../src/storage/storage-indexes.js";
import { useTestDatabase } from "../../helpers/mongo.js";

describe("allStorageIndexes", () => {
  const { db } = useTestDatabase("storageidx");

  it("names every index uniquely and says which query it serves", () => {
    const names = allStorageIndexes.map(
      (declaration) => `${declaration.collection}.${declaration.options.name}`,
    );
    expect(new Set(names).size).toBe(names.length);
    for (const declaration of allStorageIndexes) {
      expect(declaration.why.length).toBeGreaterThan(10);
    }
  });

  it("creates every declared index on the real server, and creating them again changes nothing", async () => {
    await ensureIndexes(db, allStorageIndexes);
    await ensureIndexes(db, allStorageIndexes);
    for (const declaration of allStorageIndexes) {
      const existing = await db.collection(declaration.collection).listIndexes().toArray();
      const created = existing.find((index) => index.name === declaration.options.name);
      expect(created?.key, `${declaration.collection}.${declaration.options.name}`).toEqual(declaration.key);
      expect(Boolean(created?.unique)).toBe(Boolean(declaration.options.unique));
      expect(created?.expireAfterSeconds).toBe(declaration.options.expireAfterSeconds);
    }
  });
});
