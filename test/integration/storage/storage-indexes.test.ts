import { type CommandStartedEvent, MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { allStorageIndexes } from "../../../src/storage/storage-indexes.js";
import { mongoUri, uniqueDbName, useTestDatabase } from "../../helpers/mongo.js";

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

  it("leaves an index that exists as declared alone, and sends one that differs to the server", async () => {
    // The in-memory wire server rebuilds an index on every createIndexes by scanning the collection.
    const client = new MongoClient(mongoUri(), { monitorCommands: true });
    const commands: string[] = [];
    client.on("commandStarted", (event: CommandStartedEvent) => commands.push(event.commandName));
    try {
      const own = client.db(uniqueDbName("idxskip"));
      await ensureIndexes(own, allStorageIndexes);
      expect(commands.filter((name) => name === "createIndexes")).toHaveLength(allStorageIndexes.length);

      commands.length = 0;
      await ensureIndexes(own, allStorageIndexes);
      expect(commands.filter((name) => name === "createIndexes")).toEqual([]);

      // Other options under the same name still reach createIndexes (where a real server refuses them).
      const ttl = allStorageIndexes.find(
        (declaration) => declaration.options.expireAfterSeconds !== undefined,
      );
      expect(ttl).toBeDefined();
      if (ttl !== undefined) {
        commands.length = 0;
        const changed = { ...ttl, options: { ...ttl.options, expireAfterSeconds: 12_345 } };
        await ensureIndexes(own, [changed]).catch(() => undefined);
        expect(commands.filter((name) => name === "createIndexes")).toEqual(["createIndexes"]);
      }
      await own.dropDatabase().catch(() => undefined);
    } finally {
      await client.close();
    }
  });
});
