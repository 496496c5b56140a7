import type { Command } from "commander";
import { BootstrapResponseSchema } from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { usageError } from "../cli-error.js";
import { terminalText } from "../terminal-text.js";
import { type ActionRunner, printSecretOnce } from "./command-helpers.js";

/** registerBootstrapCommand adds `apikeys bootstrap`: the first super-user key, printed once. */
export function registerBootstrapCommand(program: Command, run: ActionRunner): void {
  program
    .command("bootstrap")
    .description(
      "create the first super-user key (needs the server's BOOTSTRAP_TOKEN; works once — a lost super user is recovered with recover-super-user); its secret is printed once",
    )
    .option("--token <token>", "the server's bootstrap token (env: BOOTSTRAP_TOKEN)")
    .option("--name <name>", "name of the key (server default: bootstrap super user)")
    .action(
      run(async (ctx, _args, options: { token?: string; name?: string }) => {
        const token = options.token ?? ctx.io.env.BOOTSTRAP_TOKEN;
        if (token === undefined || token === "") {
          throw usageError("no bootstrap token: set BOOTSTRAP_TOKEN or pass --token");
        }
        ctx.registerSecret(token);
        const response = await ctx
          .connection(false)
          .keyAdmin.bootstrap({ bootstrapToken: token, name: options.name ?? "" }, ctx.callOptions());
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
