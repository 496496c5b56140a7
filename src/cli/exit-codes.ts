import { Code } from "@connectrpc/connect";

/**
 * ExitCode is the table of `apikeys` exit codes scripts can rely on. Every failure prints exactly one line
 * `apikeys: <message>` on stderr and exits with one of these.
 */
export const ExitCode = {
  /** ok: the command succeeded. */
  ok: 0,
  /** unexpected: an unexpected error (internal server error, unknown failure), or the prompt was declined. */
  unexpected: 1,
  /** usage: bad command line (unknown option, missing argument, bad value), or confirmation needed. */
  usage: 2,
  /** auth: no or bad admin key (UNAUTHENTICATED), or not allowed (PERMISSION_DENIED). */
  auth: 3,
  /** notFound: the key, group or tenant does not exist or is not visible to the caller (NOT_FOUND). */
  notFound: 4,
  /** rejected: the server refused the request (INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE). */
  rejected: 5,
  /** unavailable: the server could not be reached or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED); retry with the same --request-id. */
  unavailable: 6,
  /** exhausted: a limit was hit (RESOURCE_EXHAUSTED), for example the tenant key limit. */
  exhausted: 7,
} as const;

/** ExitCodeValue is one of the ExitCode numbers. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** exitCodeForConnectCode maps an RPC status code to the CLI exit code. */
export function exitCodeForConnectCode(code: Code): ExitCodeValue {
  switch (code) {
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return ExitCode.auth;
    case Code.NotFound:
      return ExitCode.notFound;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.OutOfRange:
      return ExitCode.rejected;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Aborted:
      return ExitCode.unavailable;
    case Code.ResourceExhausted:
      return ExitCode.exhausted;
    default:
      return ExitCode.unexpected;
  }
}

/** EXIT_CODES_HELP is the exit code table as shown at the end of `apikeys --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  unexpected error, or confirmation declined
  2  usage error (bad option or argument; confirmation needed but stdin is not a terminal and --yes is missing)
  3  unauthenticated or permission denied (no or bad --key / APIKEYS_ADMIN_KEY)
  4  not found
  5  invalid argument, failed precondition, already exists, out of range
  6  unavailable or deadline exceeded (safe to retry with the same --request-id)
  7  resource exhausted (for example the tenant key limit)
Errors are printed as one line on stderr: "apikeys: <message>".`;
