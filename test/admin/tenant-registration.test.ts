/**
 * Databases from before tenants were created on purpose keep working: at start, every tenant that holds keys
 * or groups is registered (its key count kept), idempotently, with one log line the first time only.
 */
import { expect, it } from "vitest";
import { GROUPS_COLLECTION } from "../../src/storage/group-repository.js";
import { KEYS_COLLECTION, keyToDocument } from "../../src/storage/key-document.js";
import { TENANTS_COLLECTION } from "../../src/storage/tenant-repository.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer } from "../helpers/start-server.js";
import { keyRecord } from "../integration/storage/fixtures.js";

const database = useTestDatabase("tenantreg");
const REGISTERED = "registered the existing tenants that hold keys or groups";

it("registers the tenants holding keys or groups at start, keeps their counts, and logs it once", async () => {
  const { db } = database;
  // A tenant whose first key created its counter document, one with keys but no document, one with a group.
  await db
    .collection(KEYS_COLLECTION)
    .insertOne(keyToDocument(keyRecord({ tenantId: "legacy-counted" })) as never);
  await db
    .collection(TENANTS_COLLECTION)
    .insertOne({ _id: "legacy-counted", usedKeys: 1, slotChanges: 1 } as never);
  await db
    .collection(KEYS_COLLECTION)
    .insertMany([
      keyToDocument(keyRecord({ tenantId: "legacy-uncounted" })) as never,
      keyToDocument(keyRecord({ tenantId: "legacy-uncounted", revokedAt: new Date() })) as never,
    ]);
  await db.collection(GROUPS_COLLECTION).insertOne({
    _id: "grp_legacy0000000000",
    tenantId: "legacy-groups",
    name: "readers",
    nameLower: "readers",
    description: "",
    permissions: [],
    createdAt: new Date(),
    updatedAt: new Date(),
    version: 1,
  } as never);

  const first = await startTestServer(database);
  const registered = first.logs.records().filter((record) => record.msg === REGISTERED);
  await first.shutdown();
  expect(registered).toHaveLength(1);
  expect(registered[0]).toMatchObject({
    count: 3,
    tenants: ["legacy-counted", "legacy-groups", "legacy-uncounted"],
  });
  const tenants = await db.collection(TENANTS_COLLECTION).find({}).sort({ _id: 1 }).toArray();
  expect(tenants.map((tenant) => [tenant._id, tenant.usedKeys, tenant.createdAt instanceof Date])).toEqual([
    ["legacy-counted", 1, true],
    ["legacy-groups", 0, true],
    ["legacy-uncounted", 1, true],
  ]);

  const second = await startTestServer(database);
  const again = second.logs.records().filter((record) => record.msg === REGISTERED);
  await second.shutdown();
  expect(again).toHaveLength(0);
  expect(await db.collection(TENANTS_COLLECTION).countDocuments({})).toBe(3);
});
