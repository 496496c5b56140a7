import { type Command, Option } from "commander";
import {
  type GetUsageStatsResponse,
  GetUsageStatsResponseSchema,
  UsageGranularity,
} from "../../gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../gen/apikeys/v1/key_verify_service_pb.js";
import { usageError } from "../cli-error.js";
import { formatTable } from "../text-table.js";
import { formatTime } from "../time-format.js";
import { timeRange } from "../time-input.js";
import { type ActionRunner, printAnswer } from "./command-helpers.js";

interface StatsOptions {
  keyId?: string;
  tenant?: string;
  by: "hour" | "day";
  since?: string;
  until?: string;
}

/**
 * registerStatsCommand adds `apikeys stats`: exact verification counts per verdict of one key or one tenant,
 * per hour or day (GetUsageStats).
 */
export function registerStatsCommand(program: Command, run: ActionRunner): void {
  program
    .command("stats")
    .description("show exact verification counts per verdict of a key or a tenant, per hour or per day")
    .option("--key-id <key-id>", "count one key")
    .option("--tenant <tenant-id>", "count every key of a tenant (default: your key's tenant)")
    .addOption(new Option("--by <bucket>", "bucket width").choices(["hour", "day"]).default("hour"))
    .option(
      "--since <time>",
      "first bucket (ISO 8601, or a duration ago like 6h; default 24 hours or 30 days)",
    )
    .option("--until <time>", "end of the last bucket (ISO 8601, or a duration ago; default now)")
    .action(
      run(async (ctx, _args, options: StatsOptions) => {
        if (options.keyId !== undefined && options.tenant !== undefined) {
          throw usageError("use either --key-id or --tenant, not both");
        }
        const response = await ctx.connection().audit.getUsageStats(
          {
            keyId: options.keyId ?? "",
            tenantId: options.tenant ?? "",
            granularity: options.by === "day" ? UsageGranularity.DAY : UsageGranularity.HOUR,
            ...timeRange(options, ctx.io.now()),
          },
          ctx.callOptions(),
        );
        printAnswer(ctx, GetUsageStatsResponseSchema, response, () => statsTable(response, options.by));
      }),
    );
}

/** statsTable is one row per bucket: its start, the total, and a column per verdict that occurred. */
function statsTable(response: GetUsageStatsResponse, by: "hour" | "day"): string {
  const present = new Set(response.buckets.flatMap((bucket) => bucket.counts.map((count) => count.code)));
  const codes = [...present].sort((a, b) => a - b);
  const headers = [by === "day" ? "DAY" : "HOUR", "TOTAL", ...codes.map((code) => VerificationCode[code])];
  const rows = response.buckets.map((bucket) => {
    const counts = new Map(bucket.counts.map((count) => [count.code, count.count]));
    const start = formatTime(bucket.startTime);
    return [
      by === "day" ? start.slice(0, 10) : start,
      String(bucket.total),
      ...codes.map((code) => String(counts.get(code) ?? 0n)),
    ];
  });
  return formatTable(headers, rows);
}
