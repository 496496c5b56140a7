import { Code, ConnectError } from "@connectrpc/connect";
import type { Command } from "commander";
import { BootstrapResponseSchema } from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { CliError, usageError } from "../cli-error.js";
import { ExitCode } from "../exit-codes.js";
import { terminalText } from "../terminal-text.js";
import { type ActionRunner, printSecretOnce } from "./command-helpers.js";

/** registerBootstrapCommand adds `apikeys bootstrap`: the first super-user key, printed once. */
export function registerBootstrapCommand(program: Command, run: ActionRunner): void {
  program
    .command("bootstrap")
    .description(
      "create the first super-user key (needs the server's BOOTSTRAP_TOKEN); its secret is printed once",
    )
    .option("--token <token>", "the server's bootstrap token (env: BOOTSTRAP_TOKEN)")
    .option("--name <name>", "name of the key (server default: bootstrap super user)")
    .option("--force", "create another super-user key even if an active one exists")
    .action(
      run(async (ctx, _args, options: { token?: string; name?: string; force?: boolean }) => {
        const token = options.token ?? ctx.io.env.BOOTSTRAP_TOKEN;
        if (token === undefined || token === "") {
          throw usageError("no bootstrap token: set BOOTSTRAP_TOKEN or pass --token");
        }
        ctx.registerSecret(token);
        const force = options.force === true;
        const response = await ctx
          .connection(false)
          .keyAdmin.bootstrap({ bootstrapToken: token, name: options.name ?? "", force }, ctx.callOptions())
          .catch((error: unknown) => {
            throw withForceHint(error, force);
          });
        if (ctx.globals.json === true) {
          ctx.printJson(BootstrapResponseSchema, response);
          return;
        }
        const key = response.key;
        ctx.io.out(
          `Created super-user key "${terminalText(key?.name)}" (${terminalText(key?.keyId)}) in tenant ${terminalText(key?.tenantId)}.\n`,
        );
        printSecretOnce(ctx, response.secret, false, key?.keyId ?? "");
        ctx.io.out("Use it as the admin key: export APIKEYS_ADMIN_KEY=<secret> (not on the command line).\n");
      }),
    );
}

/**
 * withForceHint names the CLI flag when the server refuses because a super-user key exists (its message
 * speaks of the request's `force` field); other failures pass through unchanged.
 */
function withForceHint(error: unknown, force: boolean): unknown {
  if (
    !force &&
    error instanceof ConnectError &&
    error.code === Code.FailedPrecondition &&
    /\bforce\b/.test(error.rawMessage)
  ) {
    return new CliError(`${error.rawMessage} (failed_precondition; rerun with --force)`, ExitCode.rejected);
  }
  return error;
}
