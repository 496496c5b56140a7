/**
 * ChangeFeed on MongoDB: the cross-replica cache-invalidation channel on plain indexed queries, `_id` = seq
 * allocated by the unique index so readers never skip a notice (docs/architecture.md, "Cache invalidation
 * across replicas"). Pruning keeps the newest notice, so seq never goes backwards; a reader that finds a gap
 * after its last seq knows notices were pruned before it saw them and must drop its whole cache.
 */
import type { Db } from "mongodb";
import { DomainError } from "../domain/errors.js";
import type { ChangeFeed, ChangeNotice, Clock } from "../domain/ports.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";

export const CHANGES_COLLECTION = "key_changes";

export interface ChangeNoticeDocument {
  _id: number;
  kind: ChangeNotice["kind"];
  id: string;
  at: Date;
}

export const changeFeedIndexes: readonly IndexDeclaration[] = indexesOf(CHANGES_COLLECTION, [
  {
    key: { at: 1 },
    options: { name: "key_changes_at" },
    why: "prune notices older than the retention",
  },
]);

export interface ChangeFeedOptions {
  readonly clock?: Clock;
  /** retentionMs is how long notices are kept (the newest always stays); default one day. */
  readonly retentionMs?: number;
  /** pruneEvery makes publish() prune after every n-th seq; default 1000, 0 disables. */
  readonly pruneEvery?: number;
}

export interface MongoChangeFeed extends ChangeFeed {
  /** prune deletes notices published before `before`, except the newest; resolves with the count deleted. */
  prune(before: Date): Promise<number>;
}

/** DEFAULT_CHANGE_RETENTION_MS is one day: far longer than any replica may lag before flushing its cache. */
export const DEFAULT_CHANGE_RETENTION_MS = 24 * 60 * 60 * 1000;
const MAX_PUBLISH_ATTEMPTS = 100;

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
