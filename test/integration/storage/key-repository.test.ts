import { type CommandStartedEvent, MongoClient } from "mongodb";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ApiKeyRecord,
  type ExpirationState,
  expirationStateAt,
  type KeyStatus,
  keyStatusAt,
} from "../../../src/domain/api-key.js";
import type { DomainError } from "../../../src/domain/errors.js";
import type { KeyListQuery, KeyRepository } from "../../../src/domain/ports.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { KEYS_COLLECTION } from "../../../src/storage/key-document.js";
import { createMongoKeyRepository, keyIndexes } from "../../../src/storage/key-repository.js";
import { encodeCursor } from "../../../src/storage/page-cursor.js";
import { mongoUri, useTestDatabase } from "../../helpers/mongo.js";
import { at, keyRecord, T0, uniqueId } from "./fixtures.js";

const DAY = 24 * 60 * 60 * 1000;
const WINDOW = 7 * DAY;

function listQuery(tenantId: string, overrides: Partial<KeyListQuery> = {}): KeyListQuery {
  return {
    tenantId,
    limit: 100,
    after: null,
    status: null,
    expirationState: null,
    userId: null,
    groupId: null,
    nameContains: null,
    includeDeleted: false,
    now: at(10 * DAY),
    expiringSoonWindowMs: WINDOW,
    ...overrides,
  };
}

/** newestFirst orders keys the way list() must: createdAt desc, then id desc. */
function newestFirst(keys: readonly ApiKeyRecord[]): string[] {
  return [...keys]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((key) => key.id);
}

async function listAll(repository: KeyRepository, query: KeyListQuery): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 1000; page += 1) {
    const result = await repository.list({ ...query, after });
    ids.push(...result.items.map((key) => key.id));
    if (result.nextCursor === null) {
      return ids;
    }
    after = result.nextCursor;
  }
  throw new Error("listing did not end");
}

describe("MongoKeyRepository", () => {
  const { db } = useTestDatabase("keyrepo");
  const repository = createMongoKeyRepository(db);

  beforeAll(async () => {
    await ensureIndexes(db, keyIndexes);
  });

  describe("insert and findById", () => {
    it("round-trips every field unchanged, nulls and dates included", async () => {
      const tenantId = uniqueId("t");
      const key = keyRecord({
        tenantId,
        name: "Clé 🔑 prod",
        description: "for the billing service",
        userId: "user-1",
        groupId: "grp-1",
        permissions: ["billing:read", "billing:write"],
        ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
        expiresAt: at(30 * DAY),
        lastUsedAt: at(5),
        secrets: [
          { generation: 1, hash: "h1", pepperVersion: 1, hint: "hint1", createdAt: T0, expiresAt: at(DAY) },
          { generation: 2, hash: "h2", pepperVersion: 2, hint: "hint2", createdAt: at(1), expiresAt: null },
        ],
      });
      await repository.insert(key);
      expect(await repository.findById(key.id)).toEqual(key);
    });

    it("stores _id as the key id, instants as BSON dates and absent values as explicit nulls", async () => {
      const key = keyRecord({ tenantId: uniqueId("t") });
      await repository.insert(key);
      const stored = await db.collection(KEYS_COLLECTION).findOne({ _id: key.id as never });
      expect(stored).not.toBeNull();
      expect(stored?._id).toBe(key.id);
      expect(stored?.createdAt).toBeInstanceOf(Date);
      expect(stored?.secrets[0].createdAt).toBeInstanceOf(Date);
      for (const field of ["expiresAt", "revokedAt", "deletedAt", "lastUsedAt"]) {
        expect(stored).toHaveProperty(field, null);
      }
      expect(Object.keys(stored?.secrets[0] ?? {}).sort()).toEqual(
        ["createdAt", "expiresAt", "generation", "hash", "hint", "pepperVersion"].sort(),
      );
    });

    it("rejects a second key with the same id with an already-exists error and keeps the first", async () => {
      const tenantId = uniqueId("t");
      const first = keyRecord({ tenantId, name: "first" });
      await repository.insert(first);
      await expect(repository.insert({ ...first, name: "second" })).rejects.toHaveProperty(
        "kind",
        "already_exists",
      );
      expect((await repository.findById(first.id))?.name).toBe("first");
    });

    it("answers null for an unknown id", async () => {
      expect(await repository.findById(uniqueId("ak_test"))).toBeNull();
    });

    it("finds deleted keys too", async () => {
      const key = keyRecord({ tenantId: uniqueId("t"), deletedAt: at(1) });
      await repository.insert(key);
      expect((await repository.findById(key.id))?.deletedAt).toEqual(at(1));
    });
  });

  describe("list paging", () => {
    it("returns a tenant's keys newest first across pages, ties broken by id, and only that tenant's", async () => {
      const tenantId = uniqueId("t");
      const keys = Array.from({ length: 7 }, (_, index) =>
        // Pairs share a createdAt so the id tie-break is exercised across page boundaries.
        keyRecord({ tenantId, createdAt: at(Math.floor(index / 2) * 1000) }),
      );
      for (const key of keys) {
        await repository.insert(key);
      }
      await repository.insert(keyRecord({ tenantId: uniqueId("other") }));

      const firstPage = await repository.list(listQuery(tenantId, { limit: 3 }));
      expect(firstPage.items).toHaveLength(3);
      expect(firstPage.nextCursor).not.toBeNull();
      expect(await listAll(repository, listQuery(tenantId, { limit: 3 }))).toEqual(newestFirst(keys));
      expect(await listAll(repository, listQuery(tenantId, { limit: 7 }))).toEqual(newestFirst(keys));
    });

    it("ends with a null cursor when the last page is exactly full", async () => {
      const tenantId = uniqueId("t");
      for (let index = 0; index < 4; index += 1) {
        await repository.insert(keyRecord({ tenantId, createdAt: at(index) }));
      }
      const first = await repository.list(listQuery(tenantId, { limit: 2 }));
      const second = await repository.list(listQuery(tenantId, { limit: 2, after: first.nextCursor }));
      expect(second.items).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
    });

    it("neither repeats nor skips existing keys while keys are created between pages", async () => {
      const tenantId = uniqueId("t");
      const existing = Array.from({ length: 20 }, (_, index) =>
        keyRecord({ tenantId, createdAt: at(Math.floor(index / 3) * 1000) }),
      );
      await Promise.all(existing.map((key) => repository.insert(key)));
      const existingIds = new Set(existing.map((key) => key.id));

      const seen: string[] = [];
      let after: string | null = null;
      let created = 0;
      for (;;) {
        const page = await repository.list(listQuery(tenantId, { limit: 3, after }));
        seen.push(...page.items.map((key) => key.id).filter((id) => existingIds.has(id)));
        // Concurrent creates: newer keys, and keys at the very instant of the cursor (a clock tie).
        const cursorTime = page.items.at(-1)?.createdAt ?? T0;
        await Promise.all([
          repository.insert(keyRecord({ tenantId, createdAt: at(100_000 + created) })),
          repository.insert(keyRecord({ tenantId, createdAt: cursorTime })),
        ]);
        created += 1;
        if (page.nextCursor === null) {
          break;
        }
        after = page.nextCursor;
      }
      expect(seen).toEqual(newestFirst(existing));
    });

    it.each([0, -3, 2.5])("refuses a page limit of %s", async (limit) => {
      await expect(repository.list(listQuery(uniqueId("t"), { limit }))).rejects.toBeInstanceOf(RangeError);
    });

    it.each([
      ["not base64url", "!!!"],
      ["base64url of non-JSON", Buffer.from("nope").toString("base64url")],
      ["a JSON array", Buffer.from("[1,2]").toString("base64url")],
      ["a missing id", encodeCursor({ t: 5 })],
      ["a string time", encodeCursor({ t: "5", i: "x" })],
      ["an operator object smuggled in", Buffer.from('{"t":{"$gt":0},"i":"x"}').toString("base64url")],
      ["an oversized token", "A".repeat(5000)],
    ])("rejects a cursor that is %s with an invalid-argument error on page_token", async (_label, cursor) => {
      const error = await repository
        .list(listQuery(uniqueId("t"), { after: cursor }))
        .catch((e: unknown) => e);
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe("page_token");
    });
  });

  describe("list filters", () => {
    const tenantId = uniqueId("t");
    const now = at(10 * DAY);
    const fixtures: ApiKeyRecord[] = [
      keyRecord({ tenantId, createdAt: at(1), name: "no expiry", userId: "u1", groupId: "g1" }),
      keyRecord({
        tenantId,
        createdAt: at(2),
        name: "far",
        expiresAt: at(10 * DAY + 30 * DAY),
        userId: "u1",
      }),
      keyRecord({
        tenantId,
        createdAt: at(3),
        name: "soon",
        expiresAt: at(10 * DAY + 3 * DAY),
        groupId: "g1",
      }),
      keyRecord({ tenantId, createdAt: at(4), name: "window edge", expiresAt: at(10 * DAY + WINDOW) }),
      keyRecord({ tenantId, createdAt: at(5), name: "window+1", expiresAt: at(10 * DAY + WINDOW + 1) }),
      keyRecord({ tenantId, createdAt: at(6), name: "expires now", expiresAt: now, userId: "u2" }),
      keyRecord({ tenantId, createdAt: at(7), name: "expires in 1ms", expiresAt: at(10 * DAY + 1) }),
      keyRecord({ tenantId, createdAt: at(8), name: "expired", expiresAt: at(9 * DAY), groupId: "g2" }),
      keyRecord({ tenantId, createdAt: at(9), name: "revoked", revokedAt: at(DAY), revokedBy: "admin" }),
      keyRecord({
        tenantId,
        createdAt: at(10),
        name: "revoked+expired",
        revokedAt: at(DAY),
        expiresAt: at(DAY),
      }),
      keyRecord({
        tenantId,
        createdAt: at(11),
        name: "revoked+soon",
        revokedAt: at(DAY),
        expiresAt: at(11 * DAY),
      }),
      keyRecord({
        tenantId,
        createdAt: at(12),
        name: "deleted",
        deletedAt: at(DAY),
        userId: "u1",
        groupId: "g1",
      }),
      keyRecord({
        tenantId,
        createdAt: at(13),
        name: "deleted+revoked",
        deletedAt: at(DAY),
        revokedAt: at(DAY),
      }),
    ];

    beforeAll(async () => {
      for (const key of fixtures) {
        await repository.insert(key);
      }
      await repository.insert(keyRecord({ tenantId: uniqueId("other"), userId: "u1", groupId: "g1" }));
    });

    const statuses: (KeyStatus | null)[] = [null, "active", "expired", "revoked"];
    const states: (ExpirationState | null)[] = [null, "valid", "expiring_soon", "expired"];
    const combinations = statuses.flatMap((status) =>
      states.flatMap((expirationState) =>
        [false, true].map((includeDeleted) => ({ status, expirationState, includeDeleted })),
      ),
    );

    it.each(combinations)(
      "status=$status expirationState=$expirationState includeDeleted=$includeDeleted agrees with the domain rules",
      async ({ status, expirationState, includeDeleted }) => {
        const expected = fixtures.filter(
          (key) =>
            (includeDeleted || key.deletedAt === null) &&
            (status === null || keyStatusAt(key, now) === status) &&
            (expirationState === null || expirationStateAt(key, now, WINDOW) === expirationState),
        );
        const ids = await listAll(
          repository,
          listQuery(tenantId, { status, expirationState, includeDeleted, now, limit: 4 }),
        );
        expect(ids).toEqual(newestFirst(expected));
      },
    );

    it.each([
      [
        "status active",
        { status: "active" as const },
        ["no expiry", "far", "soon", "window edge", "window+1", "expires in 1ms"],
      ],
      ["status expired", { status: "expired" as const }, ["expires now", "expired"]],
      ["status revoked", { status: "revoked" as const }, ["revoked", "revoked+expired", "revoked+soon"]],
      [
        "expiring soon",
        { expirationState: "expiring_soon" as const },
        ["soon", "window edge", "expires in 1ms", "revoked+soon"],
      ],
      ["user u1", { userId: "u1" }, ["no expiry", "far"]],
      ["user u1 with deleted", { userId: "u1", includeDeleted: true }, ["no expiry", "far", "deleted"]],
      ["group g1", { groupId: "g1" }, ["no expiry", "soon"]],
      ["group g1, expiring soon", { groupId: "g1", expirationState: "expiring_soon" as const }, ["soon"]],
      ["unknown user", { userId: "nobody" }, []],
    ])("%s selects exactly the expected keys", async (_label, filter, names) => {
      const items = (await repository.list(listQuery(tenantId, { now, ...filter }))).items;
      expect(items.map((key) => key.name).sort()).toEqual([...names].sort());
    });
  });

  describe("list name search", () => {
    const tenantId = uniqueId("t");
    const names = [
      "Alpha Service",
      "alphabet",
      '{"$gt":""}',
      ".*",
      "a+b (prod)",
      "[abc]",
      "back\\slash",
      "^anchored$",
      "$where",
      "Ünïcode CLÉ",
      "plain",
    ];

    beforeAll(async () => {
      for (const [index, name] of names.entries()) {
        await repository.insert(keyRecord({ tenantId, name, createdAt: at(index) }));
      }
    });

    it.each([
      ["ALPHA", ["Alpha Service", "alphabet"]],
      ["pha ser", ["Alpha Service"]],
      ['{"$gt":""}', ['{"$gt":""}']],
      ['"$gt"', ['{"$gt":""}']],
      [".*", [".*"]],
      [".", [".*"]],
      ["*", [".*"]],
      ["a+b", ["a+b (prod)"]],
      ["(prod)", ["a+b (prod)"]],
      ["[abc]", ["[abc]"]],
      ["\\", ["back\\slash"]],
      ["^", ["^anchored$"]],
      ["$", ['{"$gt":""}', "^anchored$", "$where"]],
      ["$where", ["$where"]],
      ["ünïcode clé", ["Ünïcode CLÉ"]],
      ["|", []],
      ["\u0000", []],
      ["nothing like it", []],
    ])("%j matches literally and case-insensitively", async (search, expected) => {
      const items = (await repository.list(listQuery(tenantId, { nameContains: search }))).items;
      expect(items.map((key) => key.name).sort()).toEqual([...expected].sort());
    });

    it("treats an empty search as no filter", async () => {
      const items = (await repository.list(listQuery(tenantId, { nameContains: "" }))).items;
      expect(items).toHaveLength(names.length);
    });
  });

  describe("replace", () => {
    it("writes the next version when the stored version matches, and refuses a stale one", async () => {
      const key = keyRecord({ tenantId: uniqueId("t") });
      await repository.insert(key);
      const renamed = { ...key, name: "renamed", version: 2, updatedAt: at(1) };
      expect(await repository.replace(renamed, 1)).toBe(true);
      expect(await repository.findById(key.id)).toEqual(renamed);
      expect(await repository.replace({ ...key, name: "stale", version: 2 }, 1)).toBe(false);
      expect((await repository.findById(key.id))?.name).toBe("renamed");
    });

    it("returns false for a key that does not exist and creates nothing", async () => {
      const key = keyRecord({ tenantId: uniqueId("t"), version: 2 });
      expect(await repository.replace(key, 1)).toBe(false);
      expect(await repository.findById(key.id)).toBeNull();
    });

    it("lets exactly one of many concurrent writers with the same expected version win", async () => {
      const key = keyRecord({ tenantId: uniqueId("t") });
      await repository.insert(key);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          repository.replace({ ...key, name: `w${index}`, version: 2 }, 1),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await repository.findById(key.id))?.name).toBe(`w${winner}`);
    });

    it("keeps a lastUsedAt written after the caller read the key", async () => {
      const key = keyRecord({ tenantId: uniqueId("t"), lastUsedAt: at(1) });
      await repository.insert(key);
      await repository.recordLastUsed([{ id: key.id, at: at(50) }]);
      expect(await repository.replace({ ...key, revokedAt: at(60), version: 2 }, 1)).toBe(true);
      const stored = await repository.findById(key.id);
      expect(stored?.lastUsedAt).toEqual(at(50));
      expect(stored?.revokedAt).toEqual(at(60));
    });

    it("keeps the name search in step with a renamed key", async () => {
      const tenantId = uniqueId("t");
      const key = keyRecord({ tenantId, name: "Old Name" });
      await repository.insert(key);
      await repository.replace({ ...key, name: "New Name", version: 2 }, 1);
      expect((await repository.list(listQuery(tenantId, { nameContains: "old" }))).items).toHaveLength(0);
      expect((await repository.list(listQuery(tenantId, { nameContains: "new" }))).items).toHaveLength(1);
    });

    it("rejects a next version that does not advance by one", async () => {
      const key = keyRecord({ tenantId: uniqueId("t") });
      await repository.insert(key);
      await expect(repository.replace({ ...key, version: 3 }, 1)).rejects.toBeInstanceOf(RangeError);
      expect((await repository.findById(key.id))?.version).toBe(1);
    });
  });

  describe("countByGroup and hasAnyWithPermission", () => {
    it("counts a group's non-deleted keys within the tenant only", async () => {
      const tenantId = uniqueId("t");
      const groupId = uniqueId("g");
      await repository.insert(keyRecord({ tenantId, groupId }));
      await repository.insert(keyRecord({ tenantId, groupId, revokedAt: at(1) }));
      await repository.insert(keyRecord({ tenantId, groupId, deletedAt: at(1) }));
      await repository.insert(keyRecord({ tenantId, groupId: "other" }));
      await repository.insert(keyRecord({ tenantId: uniqueId("t"), groupId }));
      expect(await repository.countByGroup(tenantId, groupId)).toBe(2);
      expect(await repository.countByGroup(tenantId, uniqueId("g"))).toBe(0);
    });

    it.each([
      ["an active key", {}, true],
      ["a key that expires later", { expiresAt: at(2 * DAY) }, true],
      ["a revoked key", { revokedAt: at(1) }, true],
      ["a deleted key", { deletedAt: at(1) }, true],
      ["an expired key", { expiresAt: at(1) }, true],
      ["a key with other permissions", { permissions: ["other"] }, false],
    ])(
      "tells whether the tenant ever had the permission, through %s",
      async (_label, overrides, expected) => {
        const tenantId = uniqueId("t");
        await repository.insert(
          keyRecord({ tenantId, permissions: ["apikeys:admin", "read"], ...overrides }),
        );
        await repository.insert(keyRecord({ tenantId: uniqueId("other"), permissions: ["apikeys:admin"] }));
        expect(await repository.hasAnyWithPermission(tenantId, "apikeys:admin")).toBe(expected);
      },
    );
  });

  describe("recordLastUsed", () => {
    it("only ever moves lastUsedAt forward, keeps the newest of a batch and ignores unknown ids", async () => {
      const tenantId = uniqueId("t");
      const fresh = keyRecord({ tenantId });
      const used = keyRecord({ tenantId, lastUsedAt: at(100) });
      await repository.insert(fresh);
      await repository.insert(used);
      await repository.recordLastUsed([
        { id: fresh.id, at: at(10) },
        { id: fresh.id, at: at(30) },
        { id: fresh.id, at: at(20) },
        { id: used.id, at: at(50) },
        { id: uniqueId("ak_test"), at: at(10) },
      ]);
      expect((await repository.findById(fresh.id))?.lastUsedAt).toEqual(at(30));
      expect((await repository.findById(used.id))?.lastUsedAt).toEqual(at(100));
      await repository.recordLastUsed([{ id: used.id, at: at(200) }]);
      const stored = await repository.findById(used.id);
      expect(stored?.lastUsedAt).toEqual(at(200));
      expect(stored?.version).toBe(1);
    });

    it("sends one write command for a batch and none for an empty one", async () => {
      const tenantId = uniqueId("t");
      const keys = [keyRecord({ tenantId }), keyRecord({ tenantId }), keyRecord({ tenantId })];
      for (const key of keys) {
        await repository.insert(key);
      }
      const monitored = new MongoClient(mongoUri(), {
        monitorCommands: true,
        serverSelectionTimeoutMS: 5_000,
      });
      const commands: string[] = [];
      monitored.on("commandStarted", (event: CommandStartedEvent) => commands.push(event.commandName));
      try {
        const monitoredRepository = createMongoKeyRepository(monitored.db(db.databaseName));
        await monitored.connect();
        commands.length = 0;
        await monitoredRepository.recordLastUsed([]);
        expect(commands).toEqual([]);
        await monitoredRepository.recordLastUsed(
          keys.map((key, index) => ({ id: key.id, at: at(index + 1) })),
        );
        expect(commands).toEqual(["update"]);
      } finally {
        await monitored.close();
      }
      for (const [index, key] of keys.entries()) {
        expect((await repository.findById(key.id))?.lastUsedAt).toEqual(at(index + 1));
      }
    });
  });
});
