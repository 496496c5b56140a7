/**
 * UsageStatsStore on MongoDB: one document per bucket with a counter per verification code. A batch of
 * increments is one unordered bulkWrite of `$inc` upserts; old buckets go by an indexed delete (no TTL).
 */
import type { Db } from "mongodb";
import { VERIFICATION_CODES, type VerificationCode } from "../domain/audit-event.js";
import type {
  UsageBucket,
  UsageCounts,
  UsageGranularity,
  UsageIncrement,
  UsageScope,
  UsageStatsStore,
} from "../domain/usage-stats.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { guard } from "./mongo-errors.js";

export const USAGE_ROLLUPS_COLLECTION = "usage_rollups";

export interface UsageRollupDocument {
  /** _id is "<scope>|<granularity>|<tenantId>|<keyId>|<start ms>", so an upsert finds its bucket by id. */
  _id: string;
  scope: UsageScope;
  tenantId: string;
  keyId: string;
  granularity: UsageGranularity;
  start: Date;
  counts: Partial<Record<VerificationCode, number>>;
}

export const usageRollupIndexes: readonly IndexDeclaration[] = indexesOf(USAGE_ROLLUPS_COLLECTION, [
  {
    key: { scope: 1, tenantId: 1, keyId: 1, granularity: 1, start: 1 },
    options: { name: "usage_rollups_series" },
    why: "GetUsageStats reads one key's or tenant's buckets in a time range; ListKeys sums keys' last 24 hours",
  },
  {
    key: { granularity: 1, start: 1 },
    options: { name: "usage_rollups_retention" },
    why: "the retention job deletes the buckets older than the retention",
  },
]);

export function rollupId(bucket: Omit<UsageIncrement, "counts">): string {
  return [bucket.scope, bucket.granularity, bucket.tenantId, bucket.keyId, bucket.start.getTime()].join("|");
}

export function createMongoUsageRollupStore(db: Db): UsageStatsStore {
  const rollups = db.collection<UsageRollupDocument>(USAGE_ROLLUPS_COLLECTION);
  return {
    async add(increments) {
      if (increments.length === 0) {
        return;
      }
      await guard(() =>
        rollups.bulkWrite(
          increments.map((increment) => ({
            updateOne: {
              filter: { _id: rollupId(increment) },
              update: {
                $inc: Object.fromEntries(
                  Object.entries(increment.counts).map(([code, n]) => [`counts.${code}`, n]),
                ),
                $setOnInsert: {
                  scope: increment.scope,
                  tenantId: increment.tenantId,
                  keyId: increment.keyId,
                  granularity: increment.granularity,
                  start: increment.start,
                },
              },
              upsert: true,
            },
          })),
          { ordered: false },
        ),
      );
    },

    async series(query) {
      const documents = await guard(() =>
        rollups
          .find({
            scope: query.scope,
            tenantId: query.tenantId,
            keyId: query.keyId,
            granularity: query.granularity,
            start: { $gte: query.start, $lt: query.end },
          })
          .sort({ start: 1 })
          .toArray(),
      );
      return documents.map(
        (document): UsageBucket => ({ start: document.start, counts: countsOf(document) }),
      );
    },

    async requestsSince(tenantId, keyIds, since) {
      const documents = await guard(() =>
        rollups
          .find(
            {
              scope: "key",
              tenantId,
              keyId: { $in: [...keyIds] },
              granularity: "hour",
              start: { $gte: since },
            },
            { projection: { keyId: 1, counts: 1 } },
          )
          .toArray(),
      );
      const totals = new Map<string, number>();
      for (const document of documents) {
        const sum = Object.values(countsOf(document)).reduce((a, b) => a + b, 0);
        totals.set(document.keyId, (totals.get(document.keyId) ?? 0) + sum);
      }
      return totals;
    },

    async deleteBefore(granularity, cutoff) {
      const result = await guard(() => rollups.deleteMany({ granularity, start: { $lt: cutoff } }));
      return result.deletedCount;
    },
  };
}

/** countsOf keeps the known codes with a positive count (a stored document is never trusted blindly). */
function countsOf(document: Pick<UsageRollupDocument, "counts">): UsageCounts {
  const counts: Partial<Record<VerificationCode, number>> = {};
  for (const code of VERIFICATION_CODES) {
    const n = document.counts?.[code];
    if (typeof n === "number" && n > 0) {
      counts[code] = n;
    }
  }
  return counts;
}
