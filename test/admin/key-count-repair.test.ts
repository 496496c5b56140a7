/**
 * The tenant key counter repair on the real storage: drift left by a crash between reserving a slot and
 * inserting the key is corrected once, logged as an admin event, and never at the cost of a create or revoke
 * another replica is making meanwhile.
 */
import { describe, expect, it } from "vitest";
import type { AdminDetail } from "../../src/domain/audit-event.js";
import {
  createKeyCountRepair,
  KEY_COUNT_REPAIR_ACTOR,
  type KeyCountRepairDependencies,
  type KeyCountStore,
} from "../../src/domain/key-count-repair.js";
import { createMongoKeyCountStore } from "../../src/storage/key-count-store.js";
import { createInput, uniqueTenant, useAdminFixture } from "./helpers/admin-fixture.js";

const fixture = useAdminFixture("keycount");
const { keyAdmin, superuser, tenants, clock, audit } = fixture;

/** SETTLE_MS stands for the longest call; the fixture clock is moved past it between runs. */
const SETTLE_MS = 40_000;

function repairWith(overrides: Partial<KeyCountRepairDependencies> = {}) {
  return createKeyCountRepair({
    store: createMongoKeyCountStore(fixture.db),
    audit,
    clock,
    settleMs: SETTLE_MS,
    tenantsPerRun: 1_000,
    ...overrides,
  });
}

async function holders(tenantId: string): Promise<number> {
  return fixture.db.collection("keys").countDocuments({ tenantId, revokedAt: null, deletedAt: null });
}

function repairEvents(tenantId: string): AdminDetail[] {
  return audit.events
    .filter((event) => event.tenantId === tenantId && event.detail.kind === "admin")
    .map((event) => event.detail as AdminDetail)
    .filter((detail) => detail.actorKeyId === KEY_COUNT_REPAIR_ACTOR.keyId);
}

/** tenantWithKeys makes a tenant holding `count` keys, one of them revoked and one deleted on top. */
async function tenantWithKeys(count: number): Promise<string> {
  const tenantId = uniqueTenant();
  await tenants.setKeyLimit(tenantId, 100);
  for (let i = 0; i < count + 2; i += 1) {
    await keyAdmin.createKey(superuser, createInput(tenantId, { name: `k${i}` }));
  }
  const { items } = await fixture.keys.list({
    tenantId,
    limit: 10,
    after: null,
    status: null,
    expirationState: null,
    userId: null,
    groupId: null,
    nameContains: null,
    includeDeleted: false,
    now: clock.now(),
    expiringSoonWindowMs: 0,
  });
  await keyAdmin.revokeKey(superuser, { keyId: items[0]!.id, reason: "", requestId: "" });
  await keyAdmin.deleteKey(superuser, { keyId: items[1]!.id, requestId: "" });
  return tenantId;
}

describe("tenant key counter repair", () => {
  it("corrects a counter left one high by a crash after the reservation, once, with an admin event", async () => {
    const tenantId = await tenantWithKeys(3);
    // The crash: the slot was reserved and the key never inserted.
    expect(await tenants.reserveKeySlot(tenantId, 100)).toBe(true);
    expect((await tenants.get(tenantId)).usedKeys).toBe(4);
    const repair = repairWith();

    await repair.run();
    expect((await tenants.get(tenantId)).usedKeys).toBe(4); // first sighting: not settled yet
    clock.advance(SETTLE_MS);
    const run = await repair.run();

    expect(run.corrected).toBe(1);
    expect((await tenants.get(tenantId)).usedKeys).toBe(3);
    expect(await holders(tenantId)).toBe(3);
    const events = repairEvents(tenantId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "tenant_updated",
      actorKeyId: "system",
      changedFields: ["used_keys"],
    });
    // The slot is usable again: the tenant can hold exactly its limit.
    await tenants.setKeyLimit(tenantId, 4);
    await keyAdmin.createKey(superuser, createInput(tenantId, { name: "fourth" }));
  });

  it("corrects a counter left one low (an insert whose reply was lost, then released)", async () => {
    const tenantId = await tenantWithKeys(2);
    await tenants.releaseKeySlot(tenantId);
    const repair = repairWith();
    await repair.run();
    clock.advance(SETTLE_MS);
    await repair.run();
    expect((await tenants.get(tenantId)).usedKeys).toBe(2);
  });

  it("changes nothing when run again, on this or another replica", async () => {
    const tenantId = await tenantWithKeys(2);
    await tenants.reserveKeySlot(tenantId, 100);
    const repair = repairWith();
    await repair.run();
    clock.advance(SETTLE_MS);
    await repair.run();
    const afterFirst = await fixture.db.collection("tenants").findOne({ _id: tenantId as never });

    const other = repairWith();
    for (const replica of [repair, other, repair, other]) {
      clock.advance(SETTLE_MS);
      expect((await replica.run()).corrected).toBe(0);
    }
    expect(await fixture.db.collection("tenants").findOne({ _id: tenantId as never })).toEqual(afterFirst);
    expect(repairEvents(tenantId)).toHaveLength(1);
  });

  it("two replicas that saw the same drift correct it once", async () => {
    const tenantId = await tenantWithKeys(1);
    await tenants.reserveKeySlot(tenantId, 100);
    const [a, b] = [repairWith(), repairWith()];
    await Promise.all([a.run(), b.run()]);
    clock.advance(SETTLE_MS);
    await Promise.all([a.run(), b.run()]);
    expect((await tenants.get(tenantId)).usedKeys).toBe(1);
    expect(repairEvents(tenantId)).toHaveLength(1);
  });

  it("does not undo a reservation made between its recount and its write", async () => {
    const tenantId = await tenantWithKeys(2);
    await tenants.reserveKeySlot(tenantId, 100); // drift: 3 counted, 2 held
    const store = createMongoKeyCountStore(fixture.db);
    const racing: KeyCountStore = {
      ...store,
      // Another replica's create reserves its slot right before the correction is written.
      correct: async (counter, usedKeys) => {
        await tenants.reserveKeySlot(tenantId, 100);
        return store.correct(counter, usedKeys);
      },
    };
    const repair = repairWith({ store: racing });
    await repair.run();
    clock.advance(SETTLE_MS);
    expect((await repair.run()).corrected).toBe(0);
    expect((await tenants.get(tenantId)).usedKeys).toBe(4); // the drift and the new reservation
    expect(repairEvents(tenantId)).toHaveLength(0);
  });

  it("does not take a create in flight at its first sighting for drift", async () => {
    const tenantId = await tenantWithKeys(2);
    await tenants.reserveKeySlot(tenantId, 100); // a create between its two writes: reserved, not inserted
    const repair = repairWith();
    await repair.run();
    clock.advance(SETTLE_MS);
    await keyAdmin.createKey(superuser, createInput(tenantId, { name: "meanwhile" }));
    await repair.run();
    expect((await tenants.get(tenantId)).usedKeys).toBe(4);
    expect(await holders(tenantId)).toBe(3);
    expect(repairEvents(tenantId)).toHaveLength(0);
  });

  it("never leaves a counter below the real count while creates and revokes run on other replicas", async () => {
    const tenantId = await tenantWithKeys(2);
    await tenants.reserveKeySlot(tenantId, 100); // drift to repair meanwhile
    // Real time: calls here take milliseconds, so a settle time of 300 ms is longer than any of them.
    const realClock = { now: () => new Date() };
    const repairs = [
      repairWith({ clock: realClock, settleMs: 300 }),
      repairWith({ clock: realClock, settleMs: 300 }),
    ];
    let writing = true;
    const reconciling = Promise.all(
      repairs.map(async (repair) => {
        while (writing) {
          await repair.run();
        }
      }),
    );
    const created: string[] = [];
    const deadline = Date.now() + 1_500;
    // Bounded by count as well as time: every two iterations add one key, and 4 × 40 / 2 stays under the
    // tenant's limit of 100 however fast the machine is.
    const workers = Array.from({ length: 4 }, async (_, worker) => {
      for (let i = 0; i < 40 && Date.now() < deadline; i += 1) {
        const issued = await keyAdmin.createKey(
          superuser,
          createInput(tenantId, { name: `w${worker}-${i}` }),
        );
        created.push(issued.key.id);
        if (i % 2 === 1) {
          const keyId = created.shift();
          if (keyId !== undefined) {
            await keyAdmin.revokeKey(superuser, { keyId, reason: "", requestId: "" });
          }
        }
      }
    });
    await Promise.all(workers);
    writing = false;
    await reconciling;

    // At rest the counter is the count, or the count plus the drift not corrected yet; never below it.
    const drift = (await tenants.get(tenantId)).usedKeys - (await holders(tenantId));
    expect(drift).toBeGreaterThanOrEqual(0);
    expect(drift).toBeLessThanOrEqual(1);
    // And once nothing moves, the drift settles and is corrected to the exact count.
    const repair = repairWith({ clock: realClock, settleMs: 300 });
    await repair.run();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await repair.run();
    expect((await tenants.get(tenantId)).usedKeys).toBe(await holders(tenantId));
  });
});
