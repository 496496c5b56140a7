/**
 * Cache freshness across replicas, on one real database: two (or more) verification runtimes with their own
 * connection pools stand in for replicas. A change applied through one replica's KeyChangeNotifier is seen
 * at once there and within the invalidation bound on the others (a correctness bound, polled with a deadline). Also: the
 * lookup/invalidation race, notices lost to pruning, a feed that stops answering, a failed publish, and a
 * spray of unknown keys.
 */
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationCode } from "../../src/domain/audit-event.js";
import { DomainError, KEY_STORE_UNAVAILABLE } from "../../src/domain/errors.js";
import type { ChangeFeed, KeyRepository } from "../../src/domain/ports.js";
import {
  createGroup,
  cryptoRandom,
  issueKey,
  revokeKey,
  rotateKey,
  setGroupPermissions,
  testFormat,
} from "../helpers/key-fixtures.js";
import { mongoUri, useTestDatabase } from "../helpers/mongo.js";
import { INVALIDATION_BOUND_MS } from "../helpers/service-budgets.js";
import { startReplica, type TestReplica } from "./helpers/verify-setup.js";

const { client, dbName } = useTestDatabase("invalidation");
const otherPool = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000 });
const started: TestReplica[] = [];

async function replicaOn(
  pool: MongoClient,
  settings?: Parameters<typeof startReplica>[2],
  options?: Parameters<typeof startReplica>[3],
): Promise<TestReplica> {
  const replica = await startReplica(pool, dbName, settings, options);
  started.push(replica);
  return replica;
}

afterAll(async () => {
  await Promise.all(started.map((replica) => replica.runtime.stop()));
  await otherPool.close();
});

async function codeOf(
  replica: TestReplica,
  key: string,
  requiredPermissions: string[] = [],
): Promise<VerificationCode> {
  const result = await replica.runtime.verifier.verify({
    credential: { kind: "key", key },
    clientIp: "",
    endpoint: "",
    requiredPermissions,
  });
  return result.code;
}

describe("two replicas on one database", () => {
  let a: TestReplica;
  let b: TestReplica;
  beforeAll(async () => {
    a = await replicaOn(client);
    b = await replicaOn(otherPool);
  });

  it("revoke on A: the next verify on A fails, and B follows within the invalidation bound", async () => {
    const key = await issueKey(a.stores.keys);
    expect(await codeOf(a, key.key)).toBe("valid");
    expect(await codeOf(b, key.key)).toBe("valid");
    await revokeKey(a.stores.keys, key.keyId);
    await a.runtime.notifier.keyChanged(key.keyId);
    expect(await codeOf(a, key.key)).toBe("revoked");
    await expect
      .poll(async () => await codeOf(b, key.key), { timeout: INVALIDATION_BOUND_MS })
      .toBe("revoked");
  });

  it("rotation on A: the old secret fails at once on A and within the invalidation bound on B; the new one works on both", async () => {
    const key = await issueKey(a.stores.keys);
    expect(await codeOf(a, key.key)).toBe("valid");
    expect(await codeOf(b, key.key)).toBe("valid");
    const rotated = await rotateKey(a.stores.keys, key.keyId, null);
    await a.runtime.notifier.keyChanged(key.keyId);
    expect(await codeOf(a, key.key)).toBe("not_found");
    expect(await codeOf(a, rotated.key)).toBe("valid");
    await expect
      .poll(async () => await codeOf(b, key.key), { timeout: INVALIDATION_BOUND_MS })
      .toBe("not_found");
    expect(await codeOf(b, rotated.key)).toBe("valid");
  });

  it("a group edit on A reaches B's cached keys within the invalidation bound", async () => {
    const group = await createGroup(a.stores.groups, { permissions: ["reports:read"] });
    const key = await issueKey(a.stores.keys, { groupId: group.id });
    expect(await codeOf(b, key.key, ["reports:read"])).toBe("valid");
    await setGroupPermissions(a.stores.groups, group.id, []);
    await a.runtime.notifier.groupChanged(group.id);
    expect(await codeOf(a, key.key, ["reports:read"])).toBe("insufficient_permissions");
    await expect
      .poll(async () => await codeOf(b, key.key, ["reports:read"]), { timeout: INVALIDATION_BOUND_MS })
      .toBe("insufficient_permissions");
  });

  it("a key created after its id was cached as unknown verifies once the creation is announced", async () => {
    const key = await issueKey(a.stores.keys, {});
    // Simulate the (astronomically unlikely) earlier lookup of the same id before it existed.
    a.runtime.cache.invalidateKey(key.keyId);
    await a.runtime.notifier.keyChanged(key.keyId);
    expect(await codeOf(a, key.key)).toBe("valid");
    await expect.poll(async () => await codeOf(b, key.key), { timeout: INVALIDATION_BOUND_MS }).toBe("valid");
  });
});

describe("a lookup that started before an invalidation", () => {
  it("answers its own callers but never enters the cache", async () => {
    const base = (await replicaOn(client)).stores.keys;
    let gate: (() => void) | null = null;
    let gated = false;
    // The read happens first, then waits: the record it returns predates the revocation below.
    const slowKeys: KeyRepository = {
      ...base,
      async findById(id) {
        const record = await base.findById(id);
        if (gated) {
          await new Promise<void>((resolve) => {
            gate = resolve;
          });
        }
        return record;
      },
    };
    const replica = await replicaOn(client, { lookupTimeoutMs: 10_000 }, { stores: { keys: slowKeys } });
    const key = await issueKey(base);
    gated = true;
    const inFlight = codeOf(replica, key.key);
    await expect.poll(() => gate !== null, { timeout: 2_000 }).toBe(true);
    gated = false;
    await revokeKey(base, key.keyId);
    await replica.runtime.notifier.keyChanged(key.keyId);
    (gate as unknown as () => void)();
    expect(await inFlight, "the call that started before the revocation saw the old state").toBe("valid");
    expect(await codeOf(replica, key.key), "the stale read was not cached").toBe("revoked");
  });
});

describe("notices lost to pruning", () => {
  it("flush the whole cache when the first notice read is beyond lastSeq + 1", async () => {
    const follower = await replicaOn(client);
    const writer = await replicaOn(otherPool);
    const key = await issueKey(writer.stores.keys);
    expect(await codeOf(follower, key.key)).toBe("valid");
    await follower.runtime.follower.stop();
    await revokeKey(writer.stores.keys, key.keyId);
    await writer.runtime.notifier.keyChanged(key.keyId);
    await writer.runtime.notifier.keyChanged("ak_test_someOtherKeyId000");
    // Retention pruning removes every notice but the newest: the follower never sees the revocation notice.
    await writer.stores.mongoFeed.prune(new Date(Date.now() + 86_400_000));
    expect(await codeOf(follower, key.key), "still cached before the follower polls").toBe("valid");
    const gapsBefore = follower.runtime.follower.stats().gapFlushes;
    expect(await follower.runtime.follower.pollOnce()).toBe(true);
    expect(follower.runtime.follower.stats().gapFlushes).toBe(gapsBefore + 1);
    expect(await codeOf(follower, key.key)).toBe("revoked");
  });
});

describe("bounded staleness when the feed stops answering", () => {
  it("refetches entries older than CACHE_MAX_STALE_MS, and answers UNAVAILABLE if the store is down too", async () => {
    let monotonic = 1_000_000;
    let feedDown = false;
    let storeDown = false;
    const base = (await replicaOn(client)).stores;
    const feed: ChangeFeed = {
      publish: (kind, id) => base.feed.publish(kind, id),
      latestSeq: () =>
        feedDown
          ? Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE))
          : base.feed.latestSeq(),
      after: (seq, limit) =>
        feedDown
          ? Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE))
          : base.feed.after(seq, limit),
    };
    const keys: KeyRepository = {
      ...base.keys,
      findById: (id) =>
        storeDown
          ? Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE))
          : base.keys.findById(id),
    };
    const key = await issueKey(base.keys);

    const failing = await replicaOn(
      client,
      { maxStaleMs: 1_000, negativeTtlMs: 500, unavailableBackoffMs: 0 },
      { monotonicNow: () => monotonic, stores: { keys, feed } },
    );
    // Polls are driven by hand here, so the test decides when the feed is read.
    await failing.runtime.follower.stop();
    expect(await codeOf(failing, key.key)).toBe("valid");
    feedDown = true;
    expect(await failing.runtime.follower.pollOnce()).toBe(false);

    // Revoked without any notice reaching this replica: trusted only up to the staleness bound.
    await revokeKey(base.keys, key.keyId);
    monotonic += 900;
    expect(await codeOf(failing, key.key), "inside the bound the cached entry is used").toBe("valid");
    monotonic += 200;
    expect(await codeOf(failing, key.key), "beyond the bound it is read again").toBe("revoked");

    const other = await issueKey(base.keys);
    expect(await codeOf(failing, other.key)).toBe("valid");
    monotonic += 1_100;
    storeDown = true;
    await expect(codeOf(failing, other.key)).rejects.toHaveProperty("kind", "unavailable");
    storeDown = false;
    feedDown = false;
    expect(await failing.runtime.follower.pollOnce()).toBe(true);
    expect(await codeOf(failing, other.key)).toBe("valid");
  });
});

describe("a publish that fails", () => {
  it("still drops the local entry, reports UNAVAILABLE, and is re-published when the feed is back", async () => {
    const writerBase = await replicaOn(client);
    let feedDown = true;
    const feed: ChangeFeed = {
      publish: (kind, id) =>
        feedDown
          ? Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE))
          : writerBase.stores.feed.publish(kind, id),
      latestSeq: () => writerBase.stores.feed.latestSeq(),
      after: (seq, limit) => writerBase.stores.feed.after(seq, limit),
    };
    const writer = await replicaOn(client, {}, { stores: { feed } });
    const reader = await replicaOn(otherPool);
    const key = await issueKey(writer.stores.keys);
    expect(await codeOf(writer, key.key)).toBe("valid");
    expect(await codeOf(reader, key.key)).toBe("valid");
    await revokeKey(writer.stores.keys, key.keyId);
    await expect(writer.runtime.notifier.keyChanged(key.keyId)).rejects.toHaveProperty("kind", "unavailable");
    expect(await codeOf(writer, key.key), "the local replica sees the change at once").toBe("revoked");
    expect(writer.runtime.notifier.stats().pending).toBe(1);
    feedDown = false;
    await writer.runtime.notifier.retryPending();
    expect(writer.runtime.notifier.stats().pending).toBe(0);
    await expect
      .poll(async () => await codeOf(reader, key.key), { timeout: INVALIDATION_BOUND_MS })
      .toBe("revoked");
  });
});

describe("a spray of random well-formed keys", () => {
  it("keeps the negative cache within its bound, looks each id up once, and leaves known keys cached", async () => {
    const base = (await replicaOn(client)).stores.keys;
    let inFlight = 0;
    let maxInFlight = 0;
    const counting: KeyRepository = {
      ...base,
      async findById(id) {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await base.findById(id);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const replica = await replicaOn(
      client,
      { negativeMaxEntries: 100, maxConcurrentLookups: 8, lookupTimeoutMs: 10_000 },
      { stores: { keys: counting } },
    );
    const known = await issueKey(base);
    expect(await codeOf(replica, known.key)).toBe("valid");
    const lookupsBefore = replica.runtime.cache.stats().lookups;
    const spray = Array.from({ length: 600 }, () => testFormat.generate(cryptoRandom).key);
    for (let i = 0; i < spray.length; i += 100) {
      const codes = await Promise.all(spray.slice(i, i + 100).map((key) => codeOf(replica, key)));
      expect(codes.every((code) => code === "not_found")).toBe(true);
    }
    const stats = replica.runtime.cache.stats();
    expect(stats.negativeSize).toBeLessThanOrEqual(100);
    expect(stats.lookups - lookupsBefore).toBe(600);
    expect(maxInFlight, "lookups ran at most maxConcurrentLookups at a time").toBeLessThanOrEqual(8);
    const hits = stats.positiveHits;
    expect(await codeOf(replica, known.key)).toBe("valid");
    expect(replica.runtime.cache.stats().positiveHits).toBe(hits + 1);
    expect(replica.runtime.cache.stats().lookups).toBe(stats.lookups);
  });
});
