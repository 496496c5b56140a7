import { describe, expect, it } from "vitest";
import type { TenantRecord } from "../../../src/domain/api-key.js";
import type { Page, TenantRepository } from "../../../src/domain/ports.js";
import { createMongoTenantRepository } from "../../../src/storage/tenant-repository.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { T0, uniqueId } from "./fixtures.js";

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

  /** tenant creates a tenant that exists (no override unless given). */
  async function tenant(keyLimit: number | null = null): Promise<string> {
    const tenantId = uniqueId("t");
    await repository.create({ id: tenantId, displayName: "", keyLimit, createdAt: T0 });
    return tenantId;
  }

  it("reports a tenant that does not exist with no override, no keys and no creation time", async () => {
    const tenantId = uniqueId("t");
    expect(await repository.get(tenantId)).toEqual({
      id: tenantId,
      keyLimit: null,
      usedKeys: 0,
      displayName: "",
      createdAt: null,
      updatedAt: null,
      version: 0,
    });
  });

  it("refuses to reserve a slot of a tenant that does not exist, creating nothing", async () => {
    const tenantId = uniqueId("t");
    await expect(repository.reserveKeySlot(tenantId, 10)).rejects.toHaveProperty("kind", "not_found");
    expect((await repository.get(tenantId)).createdAt).toBeNull();
  });

  it("creates a tenant once: a second create is already-exists; a counted document from before is taken over", async () => {
    const tenantId = await tenant(7);
    expect(await repository.get(tenantId)).toMatchObject({
      keyLimit: 7,
      usedKeys: 0,
      version: 1,
      createdAt: T0,
    });
    await expect(
      repository.create({ id: tenantId, displayName: "", keyLimit: null, createdAt: T0 }),
    ).rejects.toHaveProperty("kind", "already_exists");
    const counted = uniqueId("t");
    await db.collection("tenants").insertOne({ _id: counted, usedKeys: 3 } as never);
    const taken = await repository.create({ id: counted, displayName: "Old", keyLimit: null, createdAt: T0 });
    expect(taken).toMatchObject({ usedKeys: 3, displayName: "Old", version: 1 });
  });

  it("replaces the configuration under its version guard, never the count", async () => {
    const tenantId = await tenant();
    await repository.reserveKeySlot(tenantId, 10);
    const current = await repository.get(tenantId);
    const next = { ...current, displayName: "Renamed", keyLimit: 4, updatedAt: T0, version: 2, usedKeys: 99 };
    expect(await repository.replace(next, 1)).toBe(true);
    expect(await repository.replace({ ...next, version: 2 }, 1)).toBe(false);
    expect(await repository.get(tenantId)).toMatchObject({
      displayName: "Renamed",
      keyLimit: 4,
      usedKeys: 1,
      version: 2,
    });
    expect(await repository.replace({ ...next, keyLimit: null, version: 3 }, 2)).toBe(true);
    expect((await repository.get(tenantId)).keyLimit).toBeNull();
  });

  it("lists the tenants that exist by id, page by page", async () => {
    const ids = await Promise.all([tenant(), tenant(), tenant()]);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page<TenantRecord> = await repository.list(2, after);
      seen.push(...page.items.map((item) => item.id));
      after = page.nextCursor;
    } while (after !== null);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(ids));
  });

  it.each([
    ["a fresh tenant at the default limit", null, 3, 3],
    ["an override above the default", 5, 2, 5],
    ["an override below the default", 1, 10, 1],
    ["a default of zero", null, 0, 0],
    ["an override of zero", 0, 10, 0],
  ])("grants exactly the effective limit to %s", async (_label, override, defaultLimit, expected) => {
    const tenantId = await tenant(override);
    expect(await reserveUntilRefused(repository, tenantId, defaultLimit)).toBe(expected);
    expect((await repository.get(tenantId)).usedKeys).toBe(expected);
  });

  it("grants exactly 10 of 50 concurrent reservations on a new tenant at a limit of 10", async () => {
    const tenantId = await tenant();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => repository.reserveKeySlot(tenantId, 10)),
    );
    expect(results.filter(Boolean)).toHaveLength(10);
    expect((await repository.get(tenantId)).usedKeys).toBe(10);
  });

  it("grants exactly the free slots of 50 concurrent reservations on a partly used tenant", async () => {
    const tenantId = await tenant(10);
    for (let index = 0; index < 4; index += 1) {
      await repository.reserveKeySlot(tenantId, 100);
    }
    const results = await Promise.all(
      Array.from({ length: 50 }, () => repository.reserveKeySlot(tenantId, 100)),
    );
    expect(results.filter(Boolean)).toHaveLength(6);
    expect(await repository.get(tenantId)).toMatchObject({ id: tenantId, keyLimit: 10, usedKeys: 10 });
  });

  it("never exceeds the limit while slots are released concurrently, and keeps an exact count", async () => {
    const tenantId = await tenant();
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
    const tenantId = await tenant();
    await repository.releaseKeySlot(tenantId);
    expect((await repository.get(tenantId)).usedKeys).toBe(0);
    await repository.reserveKeySlot(tenantId, 5);
    await repository.reserveKeySlot(tenantId, 5);
    await Promise.all(Array.from({ length: 5 }, () => repository.releaseKeySlot(tenantId)));
    expect((await repository.get(tenantId)).usedKeys).toBe(0);
    expect(await reserveUntilRefused(repository, tenantId, 5)).toBe(5);
  });

  it("sets and clears the override without touching the count", async () => {
    const tenantId = await tenant();
    await repository.reserveKeySlot(tenantId, 10);
    await repository.reserveKeySlot(tenantId, 10);
    expect(await repository.setKeyLimit(tenantId, 2)).toMatchObject({
      id: tenantId,
      keyLimit: 2,
      usedKeys: 2,
    });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
    expect(await repository.setKeyLimit(tenantId, null)).toMatchObject({
      id: tenantId,
      keyLimit: null,
      usedKeys: 2,
    });
    expect(await repository.get(tenantId)).toMatchObject({ id: tenantId, keyLimit: null, usedKeys: 2 });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(true);
  });

  it("lowers a limit below the current use: existing keys stay, new reservations are refused", async () => {
    const tenantId = await tenant();
    expect(await reserveUntilRefused(repository, tenantId, 4)).toBe(4);
    expect(await repository.setKeyLimit(tenantId, 1)).toMatchObject({
      id: tenantId,
      keyLimit: 1,
      usedKeys: 4,
    });
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
    await repository.releaseKeySlot(tenantId);
    expect(await repository.reserveKeySlot(tenantId, 10)).toBe(false);
  });

  it("sets a limit for a never-seen tenant, also when several first writes race", async () => {
    const tenantId = uniqueId("t");
    const results = await Promise.all([3, 3, 3, 3].map((limit) => repository.setKeyLimit(tenantId, limit)));
    expect(results).toEqual(
      Array(4).fill(expect.objectContaining({ id: tenantId, keyLimit: 3, usedKeys: 0 })),
    );
    await repository.create({ id: tenantId, displayName: "", keyLimit: 3, createdAt: T0 });
    expect(await reserveUntilRefused(repository, tenantId, 10)).toBe(3);
  });
});
