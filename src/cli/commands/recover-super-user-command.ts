import type { Command } from "commander";
import { DomainError } from "../../domain/errors.js";
import { CliError, usageError } from "../cli-error.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { terminalText } from "../terminal-text.js";
import { type ActionRunner, printSecretOnce } from "./command-helpers.js";

/**
 * registerRecoverSuperUserCommand adds `apikeys recover-super-user`: the offline way back in when every
 * super-user secret is lost (Bootstrap works once). It talks to MongoDB directly, never to the service.
 */
export function registerRecoverSuperUserCommand(program: Command, run: ActionRunner): void {
  program
    .command("recover-super-user")
    .description(
      "OFFLINE, with database access: issue a new super-user key directly in the service's MongoDB when every super-user secret is lost (no running service needed). Needs the service's KEY_HASH_PEPPER (and KEY_HASH_PEPPER_VERSION, KEY_PREFIX when set) in the environment; a pepper the database does not record is refused. Audited as an offline recovery; the secret is printed once",
    )
    .option("--mongodb-uri <uri>", "the service's MongoDB connection string (env: MONGODB_URI)")
    .option("--db <name>", "the service's database (env: MONGODB_DB; default: apikeys)")
    .option("--name <name>", "name of the key (default: recovered super user)")
    .action(
      run(async (ctx, _args, options: { mongodbUri?: string; db?: string; name?: string }) => {
        const uri = options.mongodbUri ?? ctx.io.env.MONGODB_URI;
        if (uri === undefined || uri === "") {
          throw usageError("no database: pass --mongodb-uri or set MONGODB_URI");
        }
        ctx.registerSecret(uri);
        // Loaded only here: the MongoDB driver and the storage layer are no concern of the other commands.
        const recovery = await import("../../server/super-user-recovery.js");
        const { ConfigError } = await import("../../server/config.js");
        let issued: Awaited<ReturnType<typeof recovery.recoverSuperUserOffline>>;
        try {
          issued = await recovery.recoverSuperUserOffline(ctx.io.env, {
            mongodbUri: uri,
            dbName: options.db ?? null,
            name: options.name ?? "",
          });
        } catch (error) {
          if (error instanceof ConfigError) {
            throw usageError(error.message);
          }
          if (error instanceof recovery.RecoveryRefusedError) {
            throw new CliError(`recovery refused: ${error.message}`, ExitCode.rejected);
          }
          if (error instanceof DomainError) {
            throw new CliError(error.message, exitCodeOfKind(error.kind));
          }
          throw error;
        }
        const { key, secret } = issued;
        if (ctx.globals.json === true) {
          ctx.io.out(
            `${JSON.stringify({ keyId: key.id, tenantId: key.tenantId, name: key.name, secret: secret?.key ?? "" }, null, 2)}\n`,
          );
          return;
        }
        ctx.io.out(
          `Recovered: created super-user key "${terminalText(key.name)}" (${terminalText(key.id)}) in tenant ${terminalText(key.tenantId)}; the admin audit records it as an offline recovery.\n`,
        );
        printSecretOnce(ctx, secret?.key ?? "", false, key.id);
        ctx.io.out(
          "Use it as the admin key: export APIKEYS_ADMIN_KEY=<secret>; revoke the super-user keys whose secrets were lost.\n",
        );
      }),
    );
}

function exitCodeOfKind(kind: DomainError["kind"]): ExitCodeValue {
  switch (kind) {
    case "unavailable":
    case "aborted":
      return ExitCode.unavailable;
    case "resource_exhausted":
      return ExitCode.exhausted;
    case "invalid_argument":
    case "failed_precondition":
    case "already_exists":
    case "out_of_range":
      return ExitCode.rejected;
    default:
      return ExitCode.unexpected;
  }
}
