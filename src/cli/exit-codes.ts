import { Code } from "@connectrpc/connect";

/** ExitCode is the table of `apikeys` exit codes scripts can rely on; EXIT_CODES_HELP says what each means. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  rejected: 5,
  unavailable: 6,
  exhausted: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

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
