/** Exact usage statistics per key and tenant, per verification code, per hour and day; and their reading. */
import { adminVisibleKey, requireAdmin, resolveTenant } from "./admin-access.js";
import type { Actor } from "./api-key.js";
import type { VerificationCode } from "./audit-event.js";
import { invalidArgument } from "./errors.js";
import type { Clock, KeyRepository } from "./ports.js";

export type UsageGranularity = "hour" | "day";

/** UsageScope says whose verifications a bucket counts: one key's, or every key's of a tenant. */
export type UsageScope = "key" | "tenant";

/** UsageCounts are verifications per verification code; a code that never occurred is absent. */
export type UsageCounts = Readonly<Partial<Record<VerificationCode, number>>>;

/** UsageIncrement adds `counts` to one bucket (created when missing). */
export interface UsageIncrement {
  readonly scope: UsageScope;
  readonly tenantId: string;
  /** keyId is "" for a tenant bucket. */
  readonly keyId: string;
  readonly granularity: UsageGranularity;
  readonly start: Date;
  readonly counts: UsageCounts;
}

export interface UsageBucket {
  readonly start: Date;
  readonly counts: UsageCounts;
}

/** UsageSeriesQuery selects the stored buckets of one key or tenant in [start, end). */
export interface UsageSeriesQuery {
  readonly scope: UsageScope;
  readonly tenantId: string;
  readonly keyId: string;
  readonly granularity: UsageGranularity;
  readonly start: Date;
  readonly end: Date;
}

export interface UsageStatsStore {
  /** add adds every increment to its bucket, in one batch; the batch is retried whole on failure. */
  add(increments: readonly UsageIncrement[]): Promise<void>;
  /** series returns the stored buckets of a query, oldest first (buckets without data are absent). */
  series(query: UsageSeriesQuery): Promise<UsageBucket[]>;
  /** requestsSince sums the hour buckets of each of a tenant's keys starting at or after `since`. */
  requestsSince(
    tenantId: string,
    keyIds: readonly string[],
    since: Date,
  ): Promise<ReadonlyMap<string, number>>;
  /** deleteBefore deletes the buckets of a granularity that start before `cutoff`; returns how many. */
  deleteBefore(granularity: UsageGranularity, cutoff: Date): Promise<number>;
}

/** VerdictCounter hears every verification verdict of an identified key; it must never block or throw. */
export interface VerdictCounter {
  count(tenantId: string, keyId: string, code: VerificationCode, at: Date): void;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** bucketStartMs is the first instant, in milliseconds, of the UTC hour or day holding `time`. */
export function bucketStartMs(time: number, granularity: UsageGranularity): number {
  const width = granularity === "hour" ? HOUR_MS : DAY_MS;
  return Math.floor(time / width) * width;
}

export function bucketStart(at: Date | number, granularity: UsageGranularity): Date {
  return new Date(bucketStartMs(typeof at === "number" ? at : at.getTime(), granularity));
}

/** MAX_BUCKETS bounds the buckets of one GetUsageStats answer, per granularity (31 days, 400 days). */
export const MAX_BUCKETS: Readonly<Record<UsageGranularity, number>> = Object.freeze({ hour: 744, day: 400 });

/** UsageStatsRequest is a GetUsageStats request in domain terms ("" and null mean "not given"). */
export interface UsageStatsRequest {
  readonly tenantId: string;
  readonly keyId: string;
  readonly granularity: UsageGranularity | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
}

/** UsageStats is the dense series of a query: one bucket per hour or day of [start, end), zeros included. */
export interface UsageStats extends UsageSeriesQuery {
  readonly buckets: readonly UsageBucket[];
}

export interface UsageStatsReader {
  getUsageStats(actor: Actor, request: UsageStatsRequest): Promise<UsageStats>;
  /** requestsLast24h sums each of a tenant's keys' verifications of the current hour and the 23 before it. */
  requestsLast24h(tenantId: string, keyIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

export interface UsageStatsReaderDependencies {
  readonly store: Pick<UsageStatsStore, "series" | "requestsSince">;
  readonly keys: Pick<KeyRepository, "findById">;
  readonly clock: Clock;
}

export function createUsageStatsReader(deps: UsageStatsReaderDependencies): UsageStatsReader {
  return {
    async getUsageStats(actor, request) {
      requireAdmin(actor);
      const granularity = request.granularity ?? "hour";
      const { start, end } = rangeOf(request, granularity, deps.clock.now());
      let scope: { scope: UsageScope; tenantId: string; keyId: string };
      if (request.keyId !== "") {
        if (request.tenantId !== "") {
          throw invalidArgument("tenant_id", "must be empty when key_id is given (the key names its tenant)");
        }
        const key = await adminVisibleKey(deps.keys, actor, request.keyId);
        scope = { scope: "key", tenantId: key.tenantId, keyId: key.id };
      } else {
        const tenantId = resolveTenant(actor, request.tenantId, { field: "tenant_id", required: false });
        scope = { scope: "tenant", tenantId, keyId: "" };
      }
      const stored = await deps.store.series({ ...scope, granularity, start, end });
      return { ...scope, granularity, start, end, buckets: denseSeries(stored, granularity, start, end) };
    },

    requestsLast24h(tenantId, keyIds) {
      if (keyIds.length === 0) {
        return Promise.resolve(new Map());
      }
      const since = bucketStart(deps.clock.now().getTime() - 23 * HOUR_MS, "hour");
      return deps.store.requestsSince(tenantId, keyIds, since);
    },
  };
}

/** rangeOf aligns a range to whole buckets; by default it ends now and starts 24 hours or 30 days before. */
function rangeOf(
  request: UsageStatsRequest,
  granularity: UsageGranularity,
  now: Date,
): { start: Date; end: Date } {
  const width = granularity === "hour" ? HOUR_MS : DAY_MS;
  const endTime = request.endTime ?? now;
  const end = new Date(Math.ceil(endTime.getTime() / width) * width);
  const start = bucketStart(
    request.startTime ?? new Date(end.getTime() - (granularity === "hour" ? 24 : 30) * width),
    granularity,
  );
  if (request.startTime !== null && request.endTime !== null && request.endTime <= request.startTime) {
    throw invalidArgument("end_time", "must be after start_time");
  }
  if (end <= start) {
    throw invalidArgument("start_time", "must be before end_time (default: now)");
  }
  const buckets = (end.getTime() - start.getTime()) / width;
  if (buckets > MAX_BUCKETS[granularity]) {
    throw invalidArgument(
      "start_time",
      `the range spans ${buckets} ${granularity} buckets; at most ${MAX_BUCKETS[granularity]} are allowed`,
    );
  }
  return { start, end };
}

function denseSeries(
  stored: readonly UsageBucket[],
  granularity: UsageGranularity,
  start: Date,
  end: Date,
): UsageBucket[] {
  const width = granularity === "hour" ? HOUR_MS : DAY_MS;
  const byStart = new Map(stored.map((bucket) => [bucket.start.getTime(), bucket.counts]));
  const buckets: UsageBucket[] = [];
  for (let time = start.getTime(); time < end.getTime(); time += width) {
    buckets.push({ start: new Date(time), counts: byStart.get(time) ?? {} });
  }
  return buckets;
}
