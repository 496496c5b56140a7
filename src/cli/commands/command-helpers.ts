import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type FieldMask, FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { type Command, Option } from "commander";
import { usageError } from "../cli-error.js";
import { type CommandContext, type CommandRuntime, createCommandContext } from "../command-context.js";
import { collectLabels } from "../option-parsers.js";
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

export const requestIdOption = (): Option =>
  new Option(
    "--request-id <id>",
    "idempotency id of this change (default: a new UUID); reuse it to retry safely",
  );

export const labelOption = (what: string): Option =>
  new Option("--label <key=value>", `${what} (repeatable)`).argParser(collectLabels);

/** printAnswer prints an answer as protobuf JSON with --json, else the text made of it (if any). */
export function printAnswer<Desc extends DescMessage>(
  ctx: CommandContext,
  schema: Desc,
  answer: MessageShape<Desc>,
  text: () => string | undefined,
): void {
  if (ctx.globals.json === true) {
    ctx.printJson(schema, answer);
    return;
  }
  const shown = text();
  if (shown !== undefined) {
    ctx.io.out(`${shown}\n`);
  }
}

/**
 * valueOrCleared reads an option pair like --label/--clear-labels: the value given, `cleared` for the clear
 * flag, undefined for neither; both at once is a usage error.
 */
export function valueOrCleared<T>(
  value: T | undefined,
  clear: boolean | undefined,
  cleared: T,
  [option, clearOption]: readonly [string, string],
): T | undefined {
  if (value !== undefined && clear === true) {
    throw usageError(`use either ${option} or ${clearOption}, not both`);
  }
  return clear === true ? cleared : value;
}

/**
 * changedFields keeps the fields an update gives (undefined: not given) and makes their update mask
 * ("userId" is "user_id"), in the order given; an update that gives none is a usage error saying `what` to give.
 */
export function changedFields<T extends object>(
  changes: T,
  what: string,
): { fields: { [K in keyof T]?: Exclude<T[K], undefined> }; paths: string[]; updateMask: FieldMask } {
  const given = Object.entries(changes).filter(([, value]) => value !== undefined);
  if (given.length === 0) {
    throw usageError(`nothing to update: give ${what}`);
  }
  const paths = given.map(([field]) => field.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`));
  return {
    fields: Object.fromEntries(given) as { [K in keyof T]?: Exclude<T[K], undefined> },
    paths,
    updateMask: create(FieldMaskSchema, { paths }),
  };
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
