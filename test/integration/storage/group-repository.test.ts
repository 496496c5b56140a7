import { beforeAll, describe, expect, it } from "vitest";
import { createMongoGroupRepository, groupIndexes } from "../../../src/storage/group-repository.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { at, groupRecord, uniqueId } from "./fixtures.js";

describe("MongoGroupRepository", () => {
  const { db } = useTestDatabase("grouprepo");
  const repository = createMongoGroupRepository(db);

  beforeAll(async () => {
    await ensureIndexes(db, groupIndexes);
  });

  it("round-trips a group and answers null for an unknown id", async () => {
    const group = groupRecord({ tenantId: uniqueId("t"), description: "ops team", permissions: ["a", "b"] });
    await repository.insert(group);
    expect(await repository.findById(group.id)).toEqual(group);
    expect(await repository.findById(uniqueId("grp"))).toBeNull();
  });

  it("refuses a second group with the same name in the tenant, but allows it in another tenant", async () => {
    const tenantId = uniqueId("t");
    await repository.insert(groupRecord({ tenantId, name: "admins" }));
    await expect(repository.insert(groupRecord({ tenantId, name: "admins" }))).rejects.toHaveProperty(
      "kind",
      "already_exists",
    );
    await expect(repository.insert(groupRecord({ tenantId: uniqueId("t"), name: "admins" }))).resolves.toBe(
      undefined,
    );
    expect((await repository.list(tenantId, 10, null)).items).toHaveLength(1);
  });

  it("lets exactly one of many concurrent inserts of one name win", async () => {
    const tenantId = uniqueId("t");
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => repository.insert(groupRecord({ tenantId, name: "race" }))),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(result.reason).toHaveProperty("kind", "already_exists");
      }
    }
  });

  it("finds the groups that exist among the ids, ignoring unknown and repeated ids", async () => {
    const tenantId = uniqueId("t");
    const a = groupRecord({ tenantId });
    const b = groupRecord({ tenantId });
    await repository.insert(a);
    await repository.insert(b);
    const found = await repository.findByIds([a.id, uniqueId("grp"), b.id, a.id]);
    expect(found.map((group) => group.id).sort()).toEqual([a.id, b.id].sort());
    expect(await repository.findByIds([])).toEqual([]);
  });

  it("lists a tenant's groups by name across pages", async () => {
    const tenantId = uniqueId("t");
    const names = ["delta", "Alpha", "charlie", "bravo", "echo"];
    for (const name of names) {
      await repository.insert(groupRecord({ tenantId, name }));
    }
    await repository.insert(groupRecord({ tenantId: uniqueId("t"), name: "alpha" }));
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await repository.list(tenantId, 2, after);
      seen.push(...page.items.map((group) => group.name));
      after = page.nextCursor;
      pages += 1;
    } while (after !== null && pages < 10);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);
  });

  it("continues after the cursor even when groups are added and removed between pages", async () => {
    const tenantId = uniqueId("t");
    const groups = ["a1", "a2", "a3", "a4"].map((name) => groupRecord({ tenantId, name }));
    for (const group of groups) {
      await repository.insert(group);
    }
    const first = await repository.list(tenantId, 2, null);
    expect(first.items.map((group) => group.name)).toEqual(["a1", "a2"]);
    await repository.delete(groups[1]!.id, 1);
    await repository.insert(groupRecord({ tenantId, name: "a0" }));
    const second = await repository.list(tenantId, 2, first.nextCursor);
    expect(second.items.map((group) => group.name)).toEqual(["a3", "a4"]);
  });

  it.each([0, -1, 1.5])(
    "refuses a page limit of %s instead of letting the driver read it as unlimited",
    async (limit) => {
      await expect(repository.list(uniqueId("t"), limit, null)).rejects.toBeInstanceOf(RangeError);
    },
  );

  it("rejects a garbage cursor with an invalid-argument error", async () => {
    await expect(repository.list(uniqueId("t"), 2, "%%%")).rejects.toHaveProperty("kind", "invalid_argument");
  });

  it("replaces under the version guard and reports a name clash as DomainError", async () => {
    const tenantId = uniqueId("t");
    const group = groupRecord({ tenantId, name: "readers" });
    await repository.insert(group);
    await repository.insert(groupRecord({ tenantId, name: "writers" }));

    const edited = { ...group, permissions: ["read", "list"], updatedAt: at(1), version: 2 };
    expect(await repository.replace(edited, 1)).toBe(true);
    expect(await repository.findById(group.id)).toEqual(edited);
    expect(await repository.replace({ ...group, description: "stale", version: 2 }, 1)).toBe(false);
    await expect(repository.replace({ ...edited, name: "writers", version: 3 }, 2)).rejects.toHaveProperty(
      "kind",
      "already_exists",
    );
    expect((await repository.findById(group.id))?.name).toBe("readers");
  });

  it("deletes only at the expected version", async () => {
    const group = groupRecord({ tenantId: uniqueId("t") });
    await repository.insert(group);
    expect(await repository.delete(group.id, 2)).toBe(false);
    expect(await repository.findById(group.id)).not.toBeNull();
    expect(await repository.delete(group.id, 1)).toBe(true);
    expect(await repository.findById(group.id)).toBeNull();
    expect(await repository.delete(group.id, 1)).toBe(false);
  });
});
