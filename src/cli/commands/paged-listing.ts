import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Command } from "commander";
import type { CommandContext } from "../command-context.js";
import { parsePositiveInt } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import { printAnswer } from "./command-helpers.js";

export interface PagingOptions {
  limit?: number;
  pageToken?: string;
  all?: boolean;
}

/** addPagingOptions adds --limit, --page-token and --all to the listing of `what`. */
export function addPagingOptions(command: Command, what: string): Command {
  return command
    .option("--limit <n>", `${what} per page (server default 50)`, parsePositiveInt)
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "fetch every page");
}

export interface PageRequest {
  pageSize: number;
  pageToken: string;
}

/**
 * fetchPages fetches one page (from --page-token) or, with --all, every page, and returns the last answer
 * with the items of every page fetched in its `field` (and no next page token with --all).
 */
export async function fetchPages<R extends { nextPageToken: string }, F extends string>(
  options: PagingOptions,
  fetchPage: (page: PageRequest) => Promise<R & Record<F, unknown[]>>,
  field: F,
): Promise<R> {
  const items: unknown[] = [];
  let pageToken = options.pageToken ?? "";
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage({ pageSize: options.limit ?? 0, pageToken });
    items.push(...page[field]);
    if (options.all !== true || page.nextPageToken === "" || seen.has(page.nextPageToken)) {
      return { ...page, [field]: items, nextPageToken: options.all === true ? "" : page.nextPageToken };
    }
    // A server answering the same token twice would loop forever; stop instead.
    seen.add(page.nextPageToken);
    pageToken = page.nextPageToken;
  }
}

/**
 * printPage prints a listing of `items`: as JSON, or as their table (the `none` line when empty) followed by
 * how to continue when more pages of `what` remain.
 */
export function printPage<Desc extends DescMessage, T>(
  ctx: CommandContext,
  schema: Desc,
  page: MessageShape<Desc> & { readonly nextPageToken: string },
  items: readonly T[],
  table: (items: readonly T[]) => string,
  what: string,
  none = `No ${what}.`,
): void {
  printAnswer(ctx, schema, page, () => (items.length === 0 ? none : table(items)));
  if (ctx.globals.json !== true && page.nextPageToken !== "") {
    const token = terminalText(page.nextPageToken);
    ctx.io.out(`\nMore ${what}: repeat with --page-token ${token} (or --all)\n`);
  }
}
