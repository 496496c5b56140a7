/** GetUsageStats ⇄ domain: granularity and range in; the dense series out, with a total per bucket. */

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { VERIFICATION_CODES } from "../domain/audit-event.js";
import { invalidArgument } from "../domain/errors.js";
import type {
  UsageGranularity as DomainGranularity,
  UsageCounts,
  UsageStats,
  UsageStatsRequest,
} from "../domain/usage-stats.js";
import {
  type GetUsageStatsRequest,
  type GetUsageStatsResponse,
  GetUsageStatsResponseSchema,
  UsageGranularity,
} from "../gen/apikeys/v1/audit_service_pb.js";
import { verificationCodeOf } from "./audit-mappers.js";
import { dateOf } from "./key-mappers.js";

const GRANULARITY_OUT: Readonly<Record<DomainGranularity, UsageGranularity>> = {
  hour: UsageGranularity.HOUR,
  day: UsageGranularity.DAY,
};

/** usageStatsRequestOf maps a GetUsageStats request to the domain (an undefined granularity is refused). */
export function usageStatsRequestOf(request: GetUsageStatsRequest): UsageStatsRequest {
  let granularity: DomainGranularity | null;
  switch (request.granularity) {
    case UsageGranularity.UNSPECIFIED:
      granularity = null;
      break;
    case UsageGranularity.HOUR:
      granularity = "hour";
      break;
    case UsageGranularity.DAY:
      granularity = "day";
      break;
    default:
      throw invalidArgument("granularity", `${request.granularity} is not a UsageGranularity`);
  }
  return {
    tenantId: request.tenantId,
    keyId: request.keyId,
    granularity,
    startTime: dateOf(request.startTime, "start_time"),
    endTime: dateOf(request.endTime, "end_time"),
  };
}

export function usageStatsResponseOf(stats: UsageStats): GetUsageStatsResponse {
  return create(GetUsageStatsResponseSchema, {
    tenantId: stats.tenantId,
    keyId: stats.keyId,
    granularity: GRANULARITY_OUT[stats.granularity],
    startTime: timestampFromDate(stats.start),
    endTime: timestampFromDate(stats.end),
    buckets: stats.buckets.map((bucket) => ({
      startTime: timestampFromDate(bucket.start),
      total: BigInt(totalOf(bucket.counts)),
      counts: VERIFICATION_CODES.filter((code) => (bucket.counts[code] ?? 0) > 0).map((code) => ({
        code: verificationCodeOf(code),
        count: BigInt(bucket.counts[code] ?? 0),
      })),
    })),
  });
}

export function totalOf(counts: UsageCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
}
