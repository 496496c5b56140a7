/** GetUsageStats' dense series as the key page shows it: the verdicts that occurred, totals, busy hours. */
import type { UsageBucket } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import type { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";

/** UsageSummary is a series reduced to what a small table and a bar row need. */
export interface UsageSummary {
  /** total verifications in the series. */
  readonly total: bigint;
  /** codes that occurred, in VerificationCode order, with their totals. */
  readonly codes: readonly (readonly [VerificationCode, bigint])[];
  /** busiest is the largest bucket total (0 when nothing happened): the bar row's full height. */
  readonly busiest: bigint;
  /** busyBuckets are the buckets with at least one verification, oldest first. */
  readonly busyBuckets: readonly UsageBucket[];
}

/** summarizeUsage adds up a series; empty buckets only count toward the bar row. */
export function summarizeUsage(buckets: readonly UsageBucket[]): UsageSummary {
  const byCode = new Map<VerificationCode, bigint>();
  let total = 0n;
  let busiest = 0n;
  for (const bucket of buckets) {
    total += bucket.total;
    busiest = bucket.total > busiest ? bucket.total : busiest;
    for (const { code, count } of bucket.counts) {
      byCode.set(code, (byCode.get(code) ?? 0n) + count);
    }
  }
  return {
    total,
    codes: [...byCode].sort(([a], [b]) => a - b),
    busiest,
    busyBuckets: buckets.filter((bucket) => bucket.total > 0n),
  };
}

/** countOf is a bucket's count of one verdict (0 when it did not occur). */
export function countOf(bucket: UsageBucket, code: VerificationCode): bigint {
  return bucket.counts.find((entry) => entry.code === code)?.count ?? 0n;
}

/** barPercent is a bucket's bar height in percent of the busiest bucket; a non-empty bucket shows at least 4%. */
export function barPercent(total: bigint, busiest: bigint): number {
  if (total <= 0n || busiest <= 0n) {
    return 0;
  }
  return Math.max(4, Math.round(Number((total * 100n) / busiest)));
}
