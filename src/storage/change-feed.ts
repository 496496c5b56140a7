/**
 * ChangeFeed on MongoDB: the cross-replica cache-invalidation channel, on plain indexed queries.
 *
 * Design. Notices live in `key_changes` with `_id` = seq (a number). Readers poll
 * `find({_id: {$gt: lastSeen}}).sort({_id: 1})` and must never skip a notice, which requires that seq N+1
 * can only become visible after seq N is.
 *
 * - Why not change streams: they need a replica set (a standalone mongod and the in-memory test server have
 *   none), and the feed has to work on every deployment.
 * - Why not a counter document plus a separate insert: allocation and insert are then two writes, so a
 *   publisher could allocate N, stall, and insert N after another publisher inserted N+1. A reader that
 *   polled in between has already moved past N and would skip it forever.
 * - What we do instead: the unique `_id` is the allocator. A publisher inserts max(seq)+1; if another
 *   publisher took that seq first, the insert fails with a duplicate key and the publisher reads the max
 *   again. Since a publisher only learns N from a committed (visible) document, N+1 is inserted after N is
 *   visible: readers see seqs in order, without gaps.
 *
 * Retention. Old notices are pruned (older than `retentionMs`, by publish() now and then, or by prune()),
 * but the newest notice is never deleted, so max(seq) and therefore seq never goes backwards even when no
 * notice was published for longer than the retention. A TTL index could not keep "the newest one", so
 * pruning is an explicit query. Seqs are gapless, so a reader that finds the first seq it reads greater
 * than lastSeen + 1 knows notices were pruned before it saw them and must drop its whole cache.
 */
import type { Db } from "mongodb";
import { DomainError } from "../domain/errors.js";
import type { ChangeFeed, ChangeNotice, Clock } from "../domain/ports.js";
import type { IndexDeclaration } from "./indexes.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";

/** CHANGES_COLLECTION is where change notices live. */
export const CHANGES_COLLECTION = "key_changes";

/** ChangeNoticeDocument is one stored notice; `_id` is its seq. */
export interface ChangeNoticeDocument {
  _id: number;
  kind: ChangeNotice["kind"];
  id: string;
  /** at is when it was published, for retention. */
  at: Date;
}

/** changeFeedIndexes are the indexes the feed queries rely on (`after` and `latestSeq` use `_id`). */
export const changeFeedIndexes: readonly IndexDeclaration[] = [
  {
    collection: CHANGES_COLLECTION,
    key: { at: 1 },
    options: { name: "key_changes_at" },
    why: "prune notices older than the retention",
  },
];

/** ChangeFeedOptions tune retention. */
export interface ChangeFeedOptions {
  /** clock stamps notices; defaults to the system clock. */
  readonly clock?: Clock;
  /** retentionMs is how long notices are kept (the newest always stays); default one day. */
  readonly retentionMs?: number;
  /** pruneEvery makes publish() prune after every n-th seq; default 1000, 0 disables. */
  readonly pruneEvery?: number;
}

/** MongoChangeFeed is the ChangeFeed plus the maintenance operation the composition root may schedule. */
export interface MongoChangeFeed extends ChangeFeed {
  /** prune deletes notices published before `before`, except the newest; resolves with the count deleted. */
  prune(before: Date): Promise<number>;
}

/** DEFAULT_CHANGE_RETENTION_MS is one day: far longer than any replica may lag before flushing its cache. */
export const DEFAULT_CHANGE_RETENTION_MS = 24 * 60 * 60 * 1000;

/** MAX_PUBLISH_ATTEMPTS bounds how often publish() loses the race for a seq before giving up. */
const MAX_PUBLISH_ATTEMPTS = 100;

/** createMongoChangeFeed gives the ChangeFeed backed by the `key_changes` collection of `db`. */
export function createMongoChangeFeed(db: Db, options: ChangeFeedOptions = {}): MongoChangeFeed {
  const notices = deadlineBound(db.collection<ChangeNoticeDocument>(CHANGES_COLLECTION));
  const clock = options.clock ?? { now: () => new Date() };
  const retentionMs = options.retentionMs ?? DEFAULT_CHANGE_RETENTION_MS;
  const pruneEvery = options.pruneEvery ?? 1000;

  const readLatest = async (): Promise<number> => {
    const newest = await notices
      .find({}, { projection: { _id: 1 } })
      .sort({ _id: -1 })
      .limit(1)
      .next();
    return newest?._id ?? 0;
  };

  const prune = (before: Date) =>
    guard(async () => {
      const latest = await readLatest();
      const result = await notices.deleteMany({ _id: { $lt: latest }, at: { $lt: before } });
      return result.deletedCount;
    });

  return {
    publish: (kind, id) =>
      guard(async () => {
        for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt += 1) {
          // Always the current max, never a remembered one: a remembered seq may have been pruned since,
          // and inserting it again would put a notice behind readers that have already passed it.
          const candidate = (await readLatest()) + 1;
          try {
            await notices.insertOne({ _id: candidate, kind, id, at: clock.now() });
          } catch (error) {
            if (!isDuplicateKeyError(error)) {
              throw error;
            }
            continue;
          }
          if (pruneEvery > 0 && candidate % pruneEvery === 0) {
            // Best effort: the notice is durable already, and the next prune catches up.
            await prune(new Date(clock.now().getTime() - retentionMs)).catch(() => 0);
          }
          return;
        }
        throw new DomainError("unavailable", "the change feed is too busy, try again");
      }),

    latestSeq: () => guard(readLatest),

    after: (seq, limit) =>
      guard(async () => {
        const documents = await notices
          .find({ _id: { $gt: seq } })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray();
        return documents.map((document) => ({
          seq: document._id,
          kind: document.kind,
          id: document.id,
          at: document.at,
        }));
      }),

    prune,
  };
}
