import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { ListKeyUsageResponseSchema } from "../../gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../gen/apikeys/v1/key_verify_service_pb.js";
import { usageTable } from "../audit-presentation.js";
import { usageError } from "../cli-error.js";
import { collectList } from "../option-parsers.js";
import { timeRange } from "../time-input.js";
import type { ActionRunner } from "./command-helpers.js";
import { addPagingOptions, fetchPages, type PagingOptions, printPage } from "./paged-listing.js";

interface UsageOptions extends PagingOptions {
  since?: string;
  until?: string;
  code?: string[];
}

/** parseVerificationCode accepts "valid", "not-found", "NOT_FOUND" or "VERIFICATION_CODE_NOT_FOUND". */
export function parseVerificationCode(value: string): VerificationCode {
  const name = value
    .trim()
    .toUpperCase()
    .replace(/-/g, "_")
    .replace(/^VERIFICATION_CODE_/, "");
  const code = VerificationCode[name as keyof typeof VerificationCode];
  if (code === undefined || code === VerificationCode.UNSPECIFIED) {
    throw usageError(
      `invalid --code '${value}': use valid, not-found, expired, revoked, ip-not-allowed or insufficient-permissions`,
    );
  }
  return code;
}

/** registerUsageCommand adds `apikeys usage <key-id>`: a key's usage log (ListKeyUsage). */
export function registerUsageCommand(program: Command, run: ActionRunner): void {
  addPagingOptions(
    program
      .command("usage")
      .description("show a key's usage log, newest first: time, endpoint, IP address, verdict, HTTP status")
      .argument("<key-id>", "id of the key")
      .option("--since <time>", "only calls at or after this time (ISO 8601, or a duration ago like 24h)")
      .option("--until <time>", "only calls before this time (ISO 8601, or a duration ago)")
      .option("--code <code>", "only these verdicts, e.g. not-found,expired (repeatable)", collectList),
    "events",
  ).action(
    run(async (ctx, [keyId], options: UsageOptions) => {
      const range = timeRange(options, ctx.io.now());
      if (range.startTime && range.endTime && timestampMs(range.endTime) <= timestampMs(range.startTime)) {
        throw usageError("--until must be after --since");
      }
      const codes = (options.code ?? []).map(parseVerificationCode);
      const page = await fetchPages(
        options,
        (request) =>
          ctx
            .connection()
            .audit.listKeyUsage({ keyId: keyId ?? "", codes, ...request, ...range }, ctx.callOptions()),
        "events",
      );
      printPage(
        ctx,
        ListKeyUsageResponseSchema,
        page,
        page.events,
        usageTable,
        "events",
        "No usage recorded.",
      );
    }),
  );
}
