import { readFileSync } from "node:fs";
import { Command } from "commander";
import type { CommandRuntime } from "./command-context.js";
import { registerAuditCommands } from "./commands/audit-command.js";
import { registerBootstrapCommand } from "./commands/bootstrap-command.js";
import { createActionRunner } from "./commands/command-helpers.js";
import { registerGroupsCommands } from "./commands/groups-command.js";
import { registerKeysCommands } from "./commands/keys-command.js";
import { registerRecoverSuperUserCommand } from "./commands/recover-super-user-command.js";
import { registerStatsCommand } from "./commands/stats-command.js";
import { registerTenantCommands } from "./commands/tenant-command.js";
import { registerUsageCommand } from "./commands/usage-command.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { parsePositiveInt } from "./option-parsers.js";

/** ProgramHooks let the runner learn which command printed help because its subcommand was missing. */
export interface ProgramHooks {
  onHelpAsError(commandPath: string): void;
}

const SHORT_EXIT_CODES =
  "\nExit codes: 0 ok, 1 unexpected, 2 usage, 3 auth, 4 not found, 5 rejected, 6 unavailable, 7 limit (details: apikeys --help).";

/**
 * createProgram builds the `apikeys` command tree on commander: global options, every command, help with
 * the exit code table, and errors routed to the runner (commander never exits the process itself).
 */
export function createProgram(runtime: CommandRuntime, hooks: ProgramHooks): Command {
  const program = new Command("apikeys")
    .description(
      "Manage the apikeys service: API keys, authorization groups, tenant key limits, usage logs and the audit stream.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .option(
      "--server <host:port>",
      "gRPC address of the service, https://host:port for TLS (env: APIKEYS_SERVER; default: localhost:50051)",
    )
    .option(
      "--url <url>",
      "use the Connect protocol (HTTP/1.1) at this URL instead of gRPC (env: APIKEYS_URL)",
    )
    .option(
      "--key <admin-key>",
      "admin API key (env: APIKEYS_ADMIN_KEY, preferred: arguments are visible to other local users); never printed",
    )
    .option(
      "--ca-file <pem>",
      "CA certificate(s) to trust for a TLS server (env: APIKEYS_CA_FILE); implies TLS for a host:port --server",
    )
    .option(
      "--cert-file <pem>",
      "client certificate for mutual TLS, with --key-file (env: APIKEYS_CERT_FILE); implies TLS",
    )
    .option("--key-file <pem>", "private key of --cert-file (env: APIKEYS_KEY_FILE)")
    .option("--json", "print protobuf JSON (for scripts) instead of tables")
    .option(
      "-y, --yes",
      "do not ask for confirmation (required for rotate/revoke/delete when stdin is not a terminal)",
    )
    .option("--timeout <ms>", "deadline of each call in milliseconds (default: 10000)", parsePositiveInt)
    .option("-v, --verbose", "print the request id of a change on stderr before it is sent")
    .addHelpText("after", EXIT_CODES_HELP)
    .showSuggestionAfterError(true)
    .exitOverride();

  const run = createActionRunner(runtime);
  registerBootstrapCommand(program, run);
  registerKeysCommands(program, run);
  registerGroupsCommands(program, run);
  registerTenantCommands(program, run);
  registerUsageCommand(program, run);
  registerStatsCommand(program, run);
  registerAuditCommands(program, run);
  registerRecoverSuperUserCommand(program, run);

  for (const command of allCommands(program)) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => runtime.io.out(text),
      // Help printed because a subcommand is missing: the runner prints one line instead.
      writeErr: () => hooks.onHelpAsError(commandPath(command)),
      // Errors are reported by the runner as one "apikeys: …" line.
      outputError: () => undefined,
    });
    if (command !== program) {
      command.addHelpText("after", SHORT_EXIT_CODES);
    }
  }
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(" ");
}

function packageVersion(): string {
  try {
    // Same relative path from src/cli (tsx) and dist/cli (built).
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
