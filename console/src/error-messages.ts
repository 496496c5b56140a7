/**
 * Errors as a person reads them: a title and a sentence per status code, never a raw code dump; the server's
 * own message where it is written for the caller; the form field an INVALID_ARGUMENT names.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** ErrorDescription is what the console shows for an error. */
export interface ErrorDescription {
  readonly title: string;
  readonly detail: string;
  /** signedOut is true when the key is no longer accepted: the console goes back to sign in. */
  readonly signedOut: boolean;
}

/** Server messages worth showing as they are (they name what is wrong and never hold secrets). */
const CALLER_MESSAGE_CODES = new Set([
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.ResourceExhausted,
  Code.OutOfRange,
  Code.NotFound,
]);

const TITLES: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: "Check the form",
  [Code.PermissionDenied]: "Not allowed",
  [Code.NotFound]: "Not found",
  [Code.AlreadyExists]: "Already exists",
  [Code.FailedPrecondition]: "Not possible now",
  [Code.ResourceExhausted]: "Limit reached",
  [Code.Aborted]: "Changed at the same time",
  [Code.OutOfRange]: "Out of range",
  [Code.Unauthenticated]: "Signed out",
  [Code.Unavailable]: "Service unavailable",
  [Code.DeadlineExceeded]: "No answer in time",
  [Code.Canceled]: "Cancelled",
};

const DETAILS: Partial<Record<Code, string>> = {
  [Code.PermissionDenied]: "This key may not do that.",
  [Code.NotFound]: "It does not exist, or it belongs to a tenant this key cannot see.",
  [Code.Aborted]: "Someone changed it at the same moment. Reload and try again.",
  [Code.Unauthenticated]:
    "The key was not accepted: it is unknown, revoked, expired, or not allowed from this address. Sign in again.",
  [Code.Unavailable]: "The service or its database cannot be reached right now. Try again in a moment.",
  [Code.DeadlineExceeded]: "The service took too long to answer. Try again.",
  [Code.Canceled]: "The request was cancelled.",
};

/** describeError turns anything thrown by a call into what the console shows. */
export function describeError(error: unknown): ErrorDescription {
  const connectError = ConnectError.from(error);
  const code = connectError.code;
  const message = connectError.rawMessage.trim();
  const detail =
    CALLER_MESSAGE_CODES.has(code) && message !== ""
      ? sentence(message)
      : (DETAILS[code] ??
        "Something went wrong. Try again, and if it keeps happening, check the service's log.");
  return {
    title: TITLES[code] ?? "Something went wrong",
    detail,
    signedOut: code === Code.Unauthenticated,
  };
}

/** FieldError is an INVALID_ARGUMENT that names one request field. */
export interface FieldError {
  /** field is the request field path without message prefix or index: "name", "ip_allowlist", "expire_time". */
  readonly field: string;
  /** message says what is wrong, without the field name. */
  readonly message: string;
}

/** The server writes "<field path>: <what is wrong>", e.g. "ip_allowlist[1]: \"10.0.0.1/8\" has host bits set". */
const FIELD_MESSAGE = /^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)((?:\[\d+\])?): (.+)$/s;

/**
 * fieldErrorOf reads the field an INVALID_ARGUMENT names. Message prefixes of the enclosing message ("key.",
 * "group.") are dropped, so "key.name" in UpdateKey and "name" in CreateKey are the same form field.
 */
export function fieldErrorOf(error: unknown): FieldError | null {
  const connectError = ConnectError.from(error);
  if (connectError.code !== Code.InvalidArgument) {
    return null;
  }
  const match = FIELD_MESSAGE.exec(connectError.rawMessage.trim());
  if (match === null) {
    return null;
  }
  const [, path = "", index = "", rest = ""] = match;
  const field = path.replace(/^(key|group)\./, "");
  const entry = index === "" ? "" : `Line ${Number(index.slice(1, -1)) + 1}: `;
  return { field, message: sentence(`${entry}${rest}`) };
}

function sentence(text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
