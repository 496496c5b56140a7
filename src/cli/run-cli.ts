import { Code, ConnectError } from "@connectrpc/connect";
import { CommanderError } from "commander";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import type { CommandRuntime } from "./command-context.js";
import { ExitCode, type ExitCodeValue, exitCodeForConnectCode } from "./exit-codes.js";
import { createProgram } from "./program.js";
import { oneLine } from "./terminal-text.js";

/**
 * runCli runs one `apikeys` command line and returns its exit code. Output goes through io; every failure
 * is one line `apikeys: <message>` on stderr (followed by one indented line per bad field when the service
 * names several), with known secrets (admin key, bootstrap token) redacted.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCodeValue> {
  const secrets = new Set<string>();
  registerArgvSecrets(argv, io, secrets);
  let helpAsError: string | null = null;
  const runtime: CommandRuntime = { io, secrets };
  const program = createProgram(runtime, {
    onHelpAsError(commandPath) {
      helpAsError = commandPath;
    },
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    const { message, exitCode } = describeFailure(error, helpAsError, io.interrupt.aborted);
    if (message !== null) {
      // A change that timed out, was cut off or failed inside the server may still have been applied: its id
      // lets a retry apply it at most once. (A refused change was not applied; a retry needs no id.)
      const mayHaveApplied = exitCode === ExitCode.unavailable || exitCode === ExitCode.unexpected;
      const retry =
        runtime.requestId !== undefined && error instanceof ConnectError && mayHaveApplied
          ? `; request id ${runtime.requestId}: retry with --request-id ${runtime.requestId}`
          : "";
      io.err(`apikeys: ${redact(oneLine(message + retry), secrets)}\n`);
      for (const line of violationLines(error, message)) {
        io.err(`  ${redact(oneLine(line), secrets)}\n`);
      }
    }
    return exitCode;
  }
}

function describeFailure(
  error: unknown,
  helpAsError: string | null,
  interrupted: boolean,
): { message: string | null; exitCode: ExitCodeValue } {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
      return { message: null, exitCode: ExitCode.ok };
    }
    if (error.code === "commander.help" && error.exitCode === 0) {
      // `apikeys help keys`: help was asked for.
      return { message: null, exitCode: ExitCode.ok };
    }
    if (error.code === "commander.help") {
      const path = helpAsError ?? "apikeys";
      return { message: `missing command; see '${path} --help'`, exitCode: ExitCode.usage };
    }
    return { message: error.message.replace(/^error: /, ""), exitCode: ExitCode.usage };
  }
  if (error instanceof CliError) {
    return { message: error.message, exitCode: error.exitCode };
  }
  if (error instanceof ConnectError) {
    if (interrupted && error.code === Code.Canceled) {
      return { message: "interrupted", exitCode: ExitCode.unexpected };
    }
    const code = Code[error.code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() ?? String(error.code);
    return {
      message: `${error.rawMessage || "request failed"} (${code})`,
      exitCode: exitCodeForConnectCode(error.code),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: `unexpected error: ${message}`, exitCode: ExitCode.unexpected };
}

/**
 * violationLines lists an INVALID_ARGUMENT's field violations (google.rpc.BadRequest), one "field: what is
 * wrong" line each, under the error line; nothing when the error line already says exactly that.
 */
function violationLines(error: unknown, message: string): string[] {
  if (!(error instanceof ConnectError)) {
    return [];
  }
  const lines = error
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations)
    .map(({ field, description }) => `${field}: ${description}`);
  return lines.length === 1 && message.startsWith(`${lines[0]} (`) ? [] : lines;
}

/** redact replaces every known secret in a message. */
export function redact(message: string, secrets: ReadonlySet<string>): string {
  let out = message;
  for (const secret of secrets) {
    out = out.split(secret).join("[redacted]");
  }
  return out;
}

// Secrets given on the command line are known before parsing, so even a parse error cannot echo them.
function registerArgvSecrets(argv: readonly string[], io: CliIo, secrets: Set<string>): void {
  const add = (value: string | undefined): void => {
    if (value !== undefined && value.length >= 4) {
      secrets.add(value);
    }
  };
  add(io.env.APIKEYS_ADMIN_KEY);
  add(io.env.BOOTSTRAP_TOKEN);
  argv.forEach((arg, index) => {
    for (const option of ["--key", "--token"]) {
      if (arg === option) {
        add(argv[index + 1]);
      } else if (arg.startsWith(`${option}=`)) {
        add(arg.slice(option.length + 1));
      }
    }
  });
}
