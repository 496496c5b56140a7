/** The one table from domain error kinds to status codes (connect's Code numbers are gRPC's). */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DomainError, DomainErrorKind } from "../domain/errors.js";
import { errorWithInfo, errorWithViolations } from "./error-info.js";

export const errorCodes: Readonly<Record<DomainErrorKind, Code>> = Object.freeze({
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  resource_exhausted: Code.ResourceExhausted,
  out_of_range: Code.OutOfRange,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
});

/**
 * rpcErrorOf is what a client receives for a DomainError: bad fields as a BadRequest, a specific reason (not
 * just the code's name) as an ErrorInfo; the DomainError stays the cause, for the request log, never sent.
 */
export function rpcErrorOf(error: DomainError): ConnectError {
  const code = errorCodes[error.kind];
  const reason = error.reason === error.kind.toUpperCase() ? null : error.reason;
  if (error.kind === "invalid_argument" && error.violations.length > 0) {
    return errorWithViolations(error.message, code, error.violations, reason, error);
  }
  return reason === null
    ? new ConnectError(error.message, code, undefined, undefined, error)
    : errorWithInfo(error.message, code, reason, {}, error);
}

/** statusNames gives the gRPC spelling of every status code (index = numeric code), for logs. */
export const statusNames: readonly string[] = Object.freeze([
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
]);

export function statusName(code: number): string {
  return statusNames[code] ?? `CODE_${code}`;
}
