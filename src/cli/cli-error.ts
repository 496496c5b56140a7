import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** CliError is a failure the CLI reports as one line on stderr with a specific exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** usageError makes a CliError with the usage exit code (2). */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}
