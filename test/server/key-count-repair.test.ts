/**
 * The server repairs tenant key counters by itself: a counter left one high by a crash between reserving a
 * slot and inserting the key is corrected by the background repair the composition root starts, logged, and
 * recorded as an admin audit event by the system actor.
 */
import { describe, expect, it } from "vitest";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { TENANTS_COLLECTION, type TenantDocument } from "../../src/storage/tenant-repository.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer } from "../helpers/start-server.js";

const database = useTestDatabase("keycountsrv");

// Short budgets so the repair's settle time (longest call plus one socket timeout) passes within the test.
const ENV = {
  MAX_DEADLINE_MS: "1000",
  DEFAULT_DEADLINE_MS: "1000",
  KEY_LOOKUP_TIMEOUT_MS: "200",
  MONGODB_SOCKET_TIMEOUT_MS: "1000",
  KEY_COUNT_REPAIR_INTERVAL_MS: "1000",
  USAGE_FLUSH_INTERVAL_MS: "50",
};

describe("the server's key counter repair", () => {
  it("corrects a counter left one high after a crash, and says so in the log and the audit trail", async () => {
    const tenants = database.db.collection<TenantDocument>(TENANTS_COLLECTION);
    // What a crash after the reservation leaves behind: a slot counted, no key.
    await tenants.insertOne({ _id: "crashed-tenant", usedKeys: 1, slotChanges: 1 });
    const server = await startTestServer(database, { env: ENV });
    try {
      const settleMs = server.config.limits.maxDeadlineMs + server.config.mongo.socketTimeoutMs;
      const boundMs = settleMs + 3 * server.config.keyCountRepairIntervalMs;
      await expect
        .poll(async () => (await tenants.findOne({ _id: "crashed-tenant" }))?.usedKeys, { timeout: boundMs })
        .toBe(0);
      await expect
        .poll(() => server.logs.text(), { timeout: boundMs })
        .toContain("corrected a tenant key counter");
      await expect
        .poll(
          () =>
            database.db
              .collection(AUDIT_EVENTS_COLLECTION)
              .countDocuments({ tenantId: "crashed-tenant", "detail.actorKeyId": "system" }),
          { timeout: boundMs },
        )
        .toBe(1);
    } finally {
      await server.shutdown();
    }
  });
});
