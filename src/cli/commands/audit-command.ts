import { toJson } from "@bufbuild/protobuf";
import { type Command, Option } from "commander";
import { type AuditEvent, AuditEventKind, AuditEventSchema } from "../../gen/apikeys/v1/audit_pb.js";
import { ListAdminEventsResponseSchema } from "../../gen/apikeys/v1/audit_service_pb.js";
import { type AuditStart, followAuditEvents } from "../audit-follower.js";
import { adminChangeLines, auditEventLine } from "../audit-presentation.js";
import { usageError } from "../cli-error.js";
import { collectList, parsePositiveInt } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import { parseTimeInput } from "../time-input.js";
import type { ActionRunner } from "./command-helpers.js";
import { addPagingOptions, fetchPages, type PagingOptions, printPage } from "./paged-listing.js";

interface TailOptions {
  tenant?: string;
  keyId?: string;
  kind?: string[];
  since?: string;
  cursor?: string;
  maxEvents?: number;
}

const kindNames: Readonly<Record<string, AuditEventKind>> = {
  usage: AuditEventKind.USAGE,
  admin: AuditEventKind.ADMIN,
};

/** registerAuditCommands adds `apikeys audit tail` (live, resumable) and `apikeys audit history`. */
export function registerAuditCommands(program: Command, run: ActionRunner): void {
  const audit = program.command("audit").description("follow the audit stream, or read admin history");

  audit
    .command("tail")
    .description(
      "follow audit events live (one line each; --json: one JSON object per line); reconnects by itself and resumes from the last cursor",
    )
    .option("--tenant <tenant-id>", "only this tenant's events (required for tenant admins)")
    .option("--key-id <key-id>", "only this key's events")
    .option("--kind <kind>", "only these kinds: usage, admin (repeatable)", collectList)
    .option("--since <time>", "start at this time (ISO 8601, or a duration ago like 1h); default: now")
    .option("--cursor <cursor>", "resume right after this cursor (printed when tail stops)")
    .addOption(new Option("--max-events <n>", "stop after n events").argParser(parsePositiveInt))
    .action(
      run(async (ctx, _args, options: TailOptions) => {
        if (options.since !== undefined && options.cursor !== undefined) {
          throw usageError("use either --since or --cursor, not both");
        }
        const kinds = (options.kind ?? []).map((name) => {
          const kind = kindNames[name.toLowerCase()];
          if (kind === undefined) {
            throw usageError(`invalid --kind '${name}': use usage or admin`);
          }
          return kind;
        });
        const start: AuditStart =
          options.cursor !== undefined
            ? { kind: "cursor", cursor: options.cursor }
            : options.since !== undefined
              ? { kind: "time", time: parseTimeInput(options.since, "--since", ctx.io.now(), "past") }
              : { kind: "now" };
        const client = ctx.connection().audit;
        const json = ctx.globals.json === true;
        const result = await followAuditEvents({
          open: (request, callOptions) => client.streamAuditEvents(request, callOptions),
          tenantId: options.tenant ?? "",
          keyId: options.keyId ?? "",
          kinds,
          start,
          signal: ctx.io.interrupt,
          sleep: ctx.io.sleep,
          now: ctx.io.now,
          ...(options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents }),
          onEvent(event) {
            ctx.io.out(
              json ? `${JSON.stringify(toJson(AuditEventSchema, event))}\n` : `${auditEventLine(event)}\n`,
            );
          },
          onReconnect(notice) {
            const from =
              notice.cursor === null ? "" : `, resuming after cursor ${terminalText(notice.cursor)}`;
            ctx.io.err(
              `apikeys: audit stream interrupted (${terminalText(notice.reason)}); reconnecting in ${(notice.delayMs / 1000).toFixed(1)} s${from}\n`,
            );
          },
        });
        if (result.cursor !== null) {
          ctx.io.err(
            `apikeys: stopped after ${result.events} events; resume with --cursor ${terminalText(result.cursor)}\n`,
          );
        }
      }),
    );

  addPagingOptions(
    audit
      .command("history")
      .description("list admin changes (who changed what, when), newest first")
      .option("--tenant <tenant-id>", "tenant (default: your key's tenant)")
      .option("--key-id <key-id>", "only changes of this key")
      .option("--group-id <group-id>", "only changes of this group"),
    "events",
  ).action(
    run(
      async (ctx, _args, options: PagingOptions & { tenant?: string; keyId?: string; groupId?: string }) => {
        const filter = {
          tenantId: options.tenant ?? "",
          keyId: options.keyId ?? "",
          groupId: options.groupId ?? "",
        };
        const page = await fetchPages(
          options,
          (request) => ctx.connection().audit.listAdminEvents({ ...filter, ...request }, ctx.callOptions()),
          "events",
        );
        const lines = (events: readonly AuditEvent[]) =>
          events.flatMap((event) => [auditEventLine(event), ...adminChangeLines(event)]).join("\n");
        printPage(ctx, ListAdminEventsResponseSchema, page, page.events, lines, "events", "No admin events.");
      },
    ),
  );
}
