/** The standard error details google.rpc.ErrorInfo and google.rpc.BadRequest (proto/google/rpc). */
import { type Code, ConnectError } from "@connectrpc/connect";
import type { FieldViolation } from "../domain/errors.js";
import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";

/** ERROR_INFO_DOMAIN is the ErrorInfo domain of this service's errors (DNS-style, as googleapis' are). */
export const ERROR_INFO_DOMAIN = "apikeys.dev";

export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** errorWithInfo builds a ConnectError with one ErrorInfo; `cause` is for the request log, never sent. */
export function errorWithInfo(
  message: string,
  code: Code,
  reason: string,
  metadata: Readonly<Record<string, string>>,
  cause?: unknown,
): ConnectError {
  return new ConnectError(
    message,
    code,
    undefined,
    [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_INFO_DOMAIN, metadata: { ...metadata } } }],
    cause,
  );
}

/** errorInfoOf returns the first ErrorInfo detail of a ConnectError received by a client, or null. */
export function errorInfoOf(error: ConnectError): ErrorInfo | null {
  const [info] = error.findDetails(ErrorInfoSchema);
  return info === undefined ? null : { reason: info.reason, domain: info.domain, metadata: info.metadata };
}

/** errorWithViolations builds an INVALID_ARGUMENT with a BadRequest (and an ErrorInfo for a `reason`). */
export function errorWithViolations(
  message: string,
  code: Code,
  violations: readonly FieldViolation[],
  reason: string | null,
  cause?: unknown,
): ConnectError {
  const badRequest = {
    desc: BadRequestSchema,
    value: { fieldViolations: violations.map(({ field, description }) => ({ field, description })) },
  };
  const info =
    reason === null
      ? []
      : [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_INFO_DOMAIN, metadata: {} } }];
  return new ConnectError(message, code, undefined, [badRequest, ...info], cause);
}

/** fieldViolationsOf returns the field violations of every BadRequest detail of a received ConnectError. */
export function fieldViolationsOf(error: ConnectError): FieldViolation[] {
  return error
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) =>
      badRequest.fieldViolations.map(({ field, description }) => ({ field, description })),
    );
}
