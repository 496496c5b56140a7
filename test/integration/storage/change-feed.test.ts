import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import type { ChangeNotice } from "../../../src/domain/ports.js";
import {
  CHANGES_COLLECTION,
  changeFeedIndexes,
  createMongoChangeFeed,
} from "../../../src/storage/change-feed.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { ManualClock } from "../../helpers/fake-clock.js";
import { mongoUri, uniqueDbName, useTestDatabase } from "../../helpers/mongo.js";
import { at } from "./fixtures.js";

describe("MongoChangeFeed", () => {
  const { client } = useTestDatabase("changefeed");
  /** freshDb gives each test its own collection, so seqs start at 1. */
  const created: string[] = [];
  const freshDb = async () => {
    const db = client.db(uniqueDbName("feed"));
    created.push(db.databaseName);
    await ensureIndexes(db, changeFeedIndexes);
    return db;
  };
  // A second connection pool stands in for another replica.
  const otherReplica = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000 });
  afterAll(async () => {
    // The wire server used here has no dropDatabase; a real server drops them.
    await Promise.all(
      created.map((name) =>
        client
          .db(name)
          .dropDatabase()
          .catch(() => undefined),
      ),
    );
    await otherReplica.close();
  });

  it("starts at 0 and appends notices with consecutive seqs that after() returns in order", async () => {
    const feed = createMongoChangeFeed(await freshDb());
    expect(await feed.latestSeq()).toBe(0);
    expect(await feed.after(0, 10)).toEqual([]);
    await feed.publish("key", "ak_1");
    await feed.publish("group", "grp_1");
    await feed.publish("key", "ak_2");
    expect(await feed.latestSeq()).toBe(3);
    expect(await feed.after(0, 10)).toEqual([
      { seq: 1, kind: "key", id: "ak_1", at: expect.any(Date) },
      { seq: 2, kind: "group", id: "grp_1", at: expect.any(Date) },
      { seq: 3, kind: "key", id: "ak_2", at: expect.any(Date) },
    ]);
    expect(await feed.after(1, 1)).toEqual([{ seq: 2, kind: "group", id: "grp_1", at: expect.any(Date) }]);
    expect(await feed.after(3, 10)).toEqual([]);
  });

  it("continues the sequence when another replica published meanwhile", async () => {
    const db = await freshDb();
    const a = createMongoChangeFeed(db);
    const b = createMongoChangeFeed(otherReplica.db(db.databaseName));
    await a.publish("key", "a1");
    await b.publish("key", "b1");
    await b.publish("key", "b2");
    await a.publish("key", "a2");
    expect((await a.after(0, 10)).map((notice) => `${notice.seq}:${notice.id}`)).toEqual([
      "1:a1",
      "2:b1",
      "3:b2",
      "4:a2",
    ]);
  });

  it("gives a polling reader every notice of concurrent publishers exactly once, in order, without gaps", async () => {
    const db = await freshDb();
    const publishers = [
      createMongoChangeFeed(db),
      createMongoChangeFeed(db),
      createMongoChangeFeed(db),
      createMongoChangeFeed(otherReplica.db(db.databaseName)),
      createMongoChangeFeed(otherReplica.db(db.databaseName)),
    ];
    const perPublisher = 40;
    const reader = createMongoChangeFeed(otherReplica.db(db.databaseName));
    const received: ChangeNotice[] = [];
    let lastSeen = 0;
    let publishing = true;
    const poll = async () => {
      const batch = await reader.after(lastSeen, 7);
      for (const notice of batch) {
        // The property under test: the next notice a reader sees is always the very next seq.
        expect(notice.seq).toBe(lastSeen + 1);
        received.push(notice);
        lastSeen = notice.seq;
      }
    };
    const reading = (async () => {
      while (publishing) {
        await poll();
      }
    })();
    await Promise.all(
      publishers.map(async (feed, publisher) => {
        for (let index = 0; index < perPublisher; index += 1) {
          await feed.publish(index % 2 === 0 ? "key" : "group", `p${publisher}-${index}`);
        }
      }),
    );
    publishing = false;
    await reading;
    await poll();
    await poll();

    const total = publishers.length * perPublisher;
    expect(received.map((notice) => notice.seq)).toEqual(
      Array.from({ length: total }, (_, index) => index + 1),
    );
    const expectedIds = publishers.flatMap((_, publisher) =>
      Array.from({ length: perPublisher }, (_, index) => `p${publisher}-${index}`),
    );
    expect(received.map((notice) => notice.id).sort()).toEqual(expectedIds.sort());
    expect(await reader.latestSeq()).toBe(total);
  });

  it("prunes old notices but keeps the newest, so seq never goes backwards", async () => {
    const db = await freshDb();
    const clock = new ManualClock(at(0));
    const feed = createMongoChangeFeed(db, { clock, pruneEvery: 0 });
    for (let index = 0; index < 5; index += 1) {
      await feed.publish("key", `k${index}`);
    }
    // Everything is older than the cutoff: all but the newest go.
    expect(await feed.prune(at(60_000))).toBe(4);
    expect(await feed.latestSeq()).toBe(5);
    expect(await feed.after(0, 10)).toEqual([{ seq: 5, kind: "key", id: "k4", at: at(0) }]);
    // A replica starting now (no memory of earlier seqs) continues after the newest.
    const restarted = createMongoChangeFeed(db, { clock, pruneEvery: 0 });
    await restarted.publish("group", "g1");
    expect(await restarted.after(4, 10)).toEqual([
      { seq: 5, kind: "key", id: "k4", at: at(0) },
      { seq: 6, kind: "group", id: "g1", at: at(0) },
    ]);
    expect(await feed.prune(at(60_000))).toBe(1);
    expect(await feed.latestSeq()).toBe(6);
  });

  it("keeps notices younger than the cutoff", async () => {
    const db = await freshDb();
    const clock = new ManualClock(at(0));
    const feed = createMongoChangeFeed(db, { clock, pruneEvery: 0 });
    await feed.publish("key", "old");
    clock.set(at(10_000));
    await feed.publish("key", "young");
    await feed.publish("key", "newest");
    expect(await feed.prune(at(5_000))).toBe(1);
    expect((await feed.after(0, 10)).map((notice) => notice.id)).toEqual(["young", "newest"]);
  });

  it("prunes by itself every n-th publish, with the retention measured on its clock", async () => {
    const db = await freshDb();
    const clock = new ManualClock(at(0));
    const feed = createMongoChangeFeed(db, { clock, pruneEvery: 3, retentionMs: 1_000 });
    await feed.publish("key", "a");
    await feed.publish("key", "b");
    clock.set(at(5_000));
    await feed.publish("key", "c");
    expect((await feed.after(0, 10)).map((notice) => notice.seq)).toEqual([3]);
    const stored = await db.collection(CHANGES_COLLECTION).countDocuments({});
    expect(stored).toBe(1);
  });
});
