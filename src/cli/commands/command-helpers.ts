import type { Command } from "commander";
import { type CommandContext, type CommandRuntime, createCommandContext } from "../command-context.js";
import { terminalText } from "../terminal-text.js";

/** CommandHandler is the body of a command: positional arguments and the command's own options. */
export type CommandHandler<O> = (
  ctx: CommandContext,
  args: (string | undefined)[],
  options: O,
) => Promise<void>;

/** ActionRunner turns a CommandHandler into a commander action with a CommandContext. */
// biome-ignore lint/suspicious/noExplicitAny: commander hands options over as an untyped record
export type ActionRunner = <O = any>(handler: CommandHandler<O>) => (...args: unknown[]) => Promise<void>;

/** createActionRunner binds actions to the run's runtime. */
export function createActionRunner(runtime: CommandRuntime): ActionRunner {
  return (handler) =>
    async (...args) => {
      // commander calls actions with (...positional, options, command).
      const command = args[args.length - 1] as Command;
      const options = args[args.length - 2] as Parameters<typeof handler>[2];
      const positional = args.slice(0, -2) as (string | undefined)[];
      await handler(createCommandContext(runtime, command), positional, options);
    };
}

/** Page is a listing's items and the token of the page after them ("" = none). */
export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken: string;
}

/**
 * fetchPages fetches one page (from --page-token) or, with --all, every page, and returns the items in
 * order with the token to continue from ("" with --all).
 */
export async function fetchPages<T>(
  options: { pageToken?: string; all?: boolean },
  fetchPage: (pageToken: string) => Promise<Page<T>>,
): Promise<Page<T>> {
  const items: T[] = [];
  let token = options.pageToken ?? "";
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(token);
    items.push(...page.items);
    if (options.all !== true || page.nextPageToken === "" || seen.has(page.nextPageToken)) {
      return { items, nextPageToken: options.all === true ? "" : page.nextPageToken };
    }
    // A server answering the same token twice would loop forever; stop instead.
    seen.add(page.nextPageToken);
    token = page.nextPageToken;
  }
}

/** printNextPageHint tells how to continue a listing that has more pages of `what`. */
export function printNextPageHint(ctx: CommandContext, nextPageToken: string, what: string): void {
  if (nextPageToken !== "") {
    ctx.io.out(`\nMore ${what}: repeat with --page-token ${terminalText(nextPageToken)} (or --all)\n`);
  }
}

/**
 * SECRET_LINE_PREFIX starts the one line that shows a new secret; nothing else the CLI prints ever holds a
 * secret.
 */
export const SECRET_LINE_PREFIX = "SECRET (shown once, store it now): ";

/**
 * printSecretOnce prints a newly issued secret on its own clearly marked line, with how to send it — or, for
 * a replayed request id, why there is no secret to show.
 */
export function printSecretOnce(
  ctx: CommandContext,
  secret: string,
  alreadyIssued: boolean,
  keyId: string,
): void {
  if (secret === "") {
    ctx.io.out(
      alreadyIssued
        ? "This request id was already used: the key exists and its secret was shown by the first call only. Rotate the key if the secret was lost.\n"
        : "The server returned no secret.\n",
    );
    return;
  }
  ctx.io.out(`${SECRET_LINE_PREFIX}${secret}\n`);
  const id = terminalText(keyId);
  ctx.io.out(
    `Send it as "Authorization: Bearer <secret>" or "X-API-Key: <secret>", or as the two headers accessKey: ${id} and secretKey: <the part after "${id}_">.\n`,
  );
}
