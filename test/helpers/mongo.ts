/**
 * Per-file test databases on the run's shared server (see test/global-setup.ts).
 */
import { randomBytes } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import { afterAll, inject } from "vitest";

/** mongoUri is the URI of the test run's database server. */
export function mongoUri(): string {
  return inject("mongoUri");
}

/** isRealMongod tells whether the run uses a real MongoDB server (needed by replica-set-only tests). */
export function isRealMongod(): boolean {
  return inject("mongoKind") !== "jongodb";
}

/** uniqueDbName makes a database name no other test file uses. */
export function uniqueDbName(label = "t"): string {
  return `${label.replace(/[^a-z0-9]/gi, "").slice(0, 20)}_${randomBytes(6).toString("hex")}`;
}

/**
 * useTestDatabase connects once for the calling test file and gives it a database of its own, dropped
 * (where the server supports it) when the file ends.
 */
export function useTestDatabase(label = "t"): { client: MongoClient; db: Db; dbName: string; uri: string } {
  const uri = mongoUri();
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  const dbName = uniqueDbName(label);
  const db = client.db(dbName);
  afterAll(async () => {
    // The wire server used here has no dropDatabase; its databases vanish with it.
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });
  return { client, db, dbName, uri };
}
