/**
 * Errors as a person reads them: a title and a sentence per status code, never a raw code dump; the server's
 * own message where it is written for the caller; the form field an INVALID_ARGUMENT names.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";

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
  [Code.Aborted]: "Changed meanwhile",
  [Code.OutOfRange]: "Out of range",
  [Code.Unauthenticated]: "Signed out",
  [Code.Unavailable]: "Service unavailable",
  [Code.DeadlineExceeded]: "No answer in time",
  [Code.Canceled]: "Cancelled",
};

const DETAILS: Partial<Record<Code, string>> = {
  [Code.PermissionDenied]: "This key may not do that.",
  [Code.NotFound]: "It does not exist, or it belongs to a tenant this key cannot see.",
  [Code.Aborted]:
    "Someone changed it since this page read it, so nothing was saved. Reload to see the current version, then try again.",
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

/** FieldError is one request field an INVALID_ARGUMENT names. */
export interface FieldError {
  /** field is the request field path without message prefix or index: "name", "ip_allowlist", "labels". */
  readonly field: string;
  /** message says what is wrong, without the field name. */
  readonly message: string;
}

/** The server writes "<field path>: <what is wrong>", e.g. "ip_allowlist[1]: \"10.0.0.1/8\" has host bits set". */
const FIELD_MESSAGE = /^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)((?:\[[^\]]*\])?): (.+)$/s;
/** A violation's path: "key.ip_allowlist[2]", "labels[tier]", "key_limit". */
const FIELD_PATH = /^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)((?:\[[^\]]*\])?)$/;

/**
 * fieldErrorOfPath names the form field of a request field path and says which entry is wrong. Message prefixes
 * of the enclosing message ("key.", "group.") are dropped, so "key.name" in UpdateKey and "name" in CreateKey are
 * the same form field; "[2]" is the third line of a list, "[tier]" the label "tier".
 */
function fieldErrorOfPath(path: string, index: string, description: string): FieldError {
  const field = path.replace(/^(key|group)\./, "");
  const inner = index.slice(1, -1);
  const entry =
    index === "" ? "" : /^\d+$/.test(inner) ? `Line ${Number(inner) + 1}: ` : `Label “${inner}”: `;
  return { field, message: sentence(`${entry}${description}`) };
}

/**
 * fieldErrorsOf reads every field an INVALID_ARGUMENT names: the google.rpc.BadRequest field violations when the
 * server sent them (one per bad field), otherwise the field its message starts with. Empty for other errors.
 */
export function fieldErrorsOf(error: unknown): FieldError[] {
  const connectError = ConnectError.from(error);
  if (connectError.code !== Code.InvalidArgument) {
    return [];
  }
  const violations = connectError
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations);
  const fromViolations = violations.flatMap(({ field, description }) => {
    const match = FIELD_PATH.exec(field.trim());
    return match === null || description.trim() === ""
      ? []
      : [fieldErrorOfPath(match[1] ?? "", match[2] ?? "", description.trim())];
  });
  if (fromViolations.length > 0) {
    return fromViolations;
  }
  const match = FIELD_MESSAGE.exec(connectError.rawMessage.trim());
  return match === null ? [] : [fieldErrorOfPath(match[1] ?? "", match[2] ?? "", match[3] ?? "")];
}

/** fieldErrorOf is the first field an INVALID_ARGUMENT names, or null. */
export function fieldErrorOf(error: unknown): FieldError | null {
  return fieldErrorsOf(error)[0] ?? null;
}

/**
 * formErrorsOf puts an INVALID_ARGUMENT's field errors on the form inputs `inputOf` maps them to (the first
 * message per input). Null when no named field is on the form: the error is then shown as a whole.
 */
export function formErrorsOf<Input extends string>(
  error: unknown,
  inputOf: (requestField: string) => Input | null,
): Partial<Record<Input, string>> | null {
  const errors: Partial<Record<Input, string>> = {};
  for (const { field, message } of fieldErrorsOf(error)) {
    const input = inputOf(field);
    if (input !== null && errors[input] === undefined) {
      errors[input] = message;
    }
  }
  return Object.keys(errors).length === 0 ? null : errors;
}

/** isConflict: the change was refused because the resource changed since it was read (a stale etag). */
export function isConflict(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Aborted;
}

function sentence(text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
