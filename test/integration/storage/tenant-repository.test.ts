import { describe, expect, it } from "vitest";
import type { TenantRepository } from "../../../src/domain/ports.js";
import { createMongoTenantRepository } from "../../../src/storage/tenant-repository.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { uniqueId } from "./fixtures.js";

async function reserveUntilRefused(repository: TenantRepository, tenantId: string, defaultLimit: number) {
  let granted = 0;
  while (await repository.reserveKeySlot(tenantId, defaultLimit)) {
    granted += 1;
    if (granted > 1000) {
      throw new Error("never refused");
    }
  }
  return granted;
}

describe("MongoTenantRepository", () => {
  const { db } = useTestDatabase("tenantrepo");
  const repository = createMongoTenantRepository(db);

  it("reports a never-seen tenant with no override and no keys", async () => {
    const tenantId = uniqueId("t");
    expect(await repository.get(tenantId)).toEqual({ id: tenantId, keyLimit: null, usedKeys: 0 });
  });

  it.each([
    ["a fresh tenant at the default limit", null, 3, 3],
    ["an override above the default", 5, 2, 5],
    ["an override below the default", 1, 10, 1],
    ["a default of zero", null, 0, 0],
    ["an override of zero", 0, 10, 0],
  ])("grants exactly the effective limit to %s", async (_label, override, defaultLimit, expected) => {
    const tenantId = uniqueId("t");
    if (override !== null) {
      await repository.setKeyLimit(tenantId, override);
    }
    expect(await reserveUntilRefused(repository, tenantId, defaultLimit)).toBe(expected);
    expect((await repository.get(tenantId)).usedKeys).toBe(expected);
  });

  it("grants exactly 10 of 50 concurrent reservations on a first-ever tenant at a limit of 10", async () => {
    const tenantId = uniqueId("t");
    const results = await Promise.all(
      Array.from({ length: 50 }, () => repository.reserveKeySlot(tenantId, 10)),
    );
    expect(results.filter(Boolean)).toHaveLength(10);
    expect((await repository.get(tenantId)).usedKeys).toBe(10);
  });

  it("grants exactly the free slots of 50 concurrent reservations on a partly used tenant", async () => {
    const tenantId = uniqueId("t");
    await repository.setKeyLimit(tenantId, 10);
    for (let index = 0; index < 4; index += 1) {
      await repository.reserveKeySlot(tenantId, 100);
    }
    const results = await Promise.all(
      Array.from({ length: 50 }, () => repository.reserveKeySlot(tenantId, 100)),
    );
    expect(results.filter(Boolean)).toHaveLength(6);
    expect(await repository.get(tenantId)).toEqual({ id: tenantId, keyLimit: 10, usedKeys: 10 });
  });

  it("never exceeds the limit while slots are released concurrently, and keeps an exact count", async () => {
    const tenantId = uniqueId("t");
    expect(await reserveUntilRefused(repository, tenantId, 10)).toBe(10);
    const releases = 5;
    const operations: Promise<boolean | undefined>[] = [];
    for (let index = 0; index < 50; index += 1) {
      operations.push(repository.reserveKeySlot(tenantId, 10));
      if (index % 10 === 5) {
        operations.push(repository.releaseKeySlot(tenantId).then(() => undefined));
      }
    }
    const results = await Promise.all(operations);
    const granted = results.filter((result) => result === true).length;
    expect(operations).toHaveLength(50 + releases);
    // Every release frees one slot (the count never drops below 5), so at most that many reservations win.
    expect(granted).toBeLessThanOrEqual(releases);
    const usedKeys = (await repository.get(tenantId)).usedKeys;
    expect(usedKeys).toBe(10 - releases + granted);
    expect(await reserveUntilRefused(repository, tenantId, 10)).toBe(10 - usedKeys);
  });

  it("releases a slot, but never below zero", async () => {
    const tenantId = uniqueId("t");
    await repository.releaseKeySlot(tenantId);
    expect((await repository.get(tenantId)).usedKeys).toBe(0);
    await repository.reserveKeySlot(tenantId, 5);
    await repository.reserveKeySlot(tenantId, 5);
    await Promise.all(Array.from({ length: 5 }, () => repository.releaseKeySlot(tenantId)));
    expect((await repository.get(tenantId)).usedKeys).toBe(0);
    expect(await reserveUntilRefused(repository, tenantId, 5)).toBe(5);
  });

  it("sets and clears the override without touching the count", async () => {
    const tenantId = uniqueId("t");
    await repository.reserveKeySlot(tenantId, 10);
    await repository.reserveKeySlot(tenantId, 10);
    expect(await repository.setKeyLimit(tenantId, 2)).toEqual({ id: tenantId, keyLimit: 2, usedKeys: 2 });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
    expect(await repository.setKeyLimit(tenantId, null)).toEqual({
      id: tenantId,
      keyLimit: null,
      usedKeys: 2,
    });
    expect(await repository.get(tenantId)).toEqual({ id: tenantId, keyLimit: null, usedKeys: 2 });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(true);
  });

  it("lowers a limit below the current use: existing keys stay, new reservations are refused", async () => {
    const tenantId = uniqueId("t");
    expect(await reserveUntilRefused(repository, tenantId, 4)).toBe(4);
    expect(await repository.setKeyLimit(tenantId, 1)).toEqual({ id: tenantId, keyLimit: 1, usedKeys: 4 });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
    await repository.releaseKeySlot(tenantId);
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
  });

  it("sets a limit for a never-seen tenant, also when several first writes race", async () => {
    const tenantId = uniqueId("t");
    const results = await Promise.all([3, 3, 3, 3].map((limit) => repository.setKeyLimit(tenantId, limit)));
    expect(results).toEqual(Array(4).fill({ id: tenantId, keyLimit: 3, usedKeys: 0 }));
    expect(await reserveUntilRefused(repository, tenantId, 10)).toBe(3);
  });
});
