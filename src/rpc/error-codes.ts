/**
 * The one table that maps domain error meanings to RPC status codes. Both transports use it (through
 * toRpcError); connect's Code has the same numeric values as gRPC status codes, so the grpc-js bridge sends
 * these numbers unchanged.
 */
import { Code } from "@connectrpc/connect";
import type { DomainErrorKind } from "../domain/errors.js";

/** errorCodes maps each DomainErrorKind to the status code a client receives. */
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

/** statusName returns the gRPC spelling of a numeric status code ("CODE_<n>" for unknown numbers). */
export function statusName(code: number): string {
  return statusNames[code] ?? `CODE_${code}`;
}
