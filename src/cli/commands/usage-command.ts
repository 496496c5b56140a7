import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import type { AuditEvent } from "../../gen/apikeys/v1/audit_pb.js";
import { ListKeyUsageResponseSchema } from "../../gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../gen/apikeys/v1/key_verify_service_pb.js";
import { usageTable } from "../audit-presentation.js";
import { usageError } from "../cli-error.js";
import { collectList, parsePositiveInt } from "../option-parsers.js";
import { parseTimeInput } from "../time-input.js";
import { type ActionRunner, fetchPages, printNextPageHint } from "./command-helpers.js";

interface UsageOptions {
  since?: string;
  until?: string;
  code?: string[];
  limit?: number;
  pageToken?: string;
  all?: boolean;
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
  program
    .command("usage")
    .description("show a key's usage log, newest first: time, endpoint, IP address, verdict, HTTP status")
    .argument("<key-id>", "id of the key")
    .option("--since <time>", "only calls at or after this time (ISO 8601, or a duration ago like 24h)")
    .option("--until <time>", "only calls before this time (ISO 8601, or a duration ago)")
    .option("--code <code>", "only these verdicts, e.g. not-found,expired (repeatable)", collectList)
    .option("--limit <n>", "events per page (server default 50)", parsePositiveInt)
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "fetch every page")
    .action(
      run(async (ctx, [keyId], options: UsageOptions) => {
        const now = ctx.io.now();
        const since =
          options.since === undefined ? undefined : parseTimeInput(options.since, "--since", now, "past");
        const until =
          options.until === undefined ? undefined : parseTimeInput(options.until, "--until", now, "past");
        if (since !== undefined && until !== undefined && until <= since) {
          throw usageError("--until must be after --since");
        }
        const codes = (options.code ?? []).map(parseVerificationCode);
        const { items: events, nextPageToken } = await fetchPages<AuditEvent>(options, async (pageToken) => {
          const page = await ctx.connection().audit.listKeyUsage(
            {
              keyId: keyId ?? "",
              codes,
              pageSize: options.limit ?? 0,
              pageToken,
              ...(since === undefined ? {} : { startTime: timestampFromDate(since) }),
              ...(until === undefined ? {} : { endTime: timestampFromDate(until) }),
            },
            ctx.callOptions(),
          );
          return { items: page.events, nextPageToken: page.nextPageToken };
        });
        if (ctx.globals.json === true) {
          ctx.printJson(
            ListKeyUsageResponseSchema,
            create(ListKeyUsageResponseSchema, { events, nextPageToken }),
          );
          return;
        }
        ctx.io.out(events.length === 0 ? "No usage recorded.\n" : `${usageTable(events)}\n`);
        printNextPageHint(ctx, nextPageToken, "events");
      }),
    );
}
