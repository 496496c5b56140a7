/**
 * The error boundary both transports use: whatever a service implementation throws becomes a ConnectError
 * whose message is safe to send. Raw exception text never reaches a client; it stays in the error's cause,
 * which the request log records.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";
import { rpcErrorOf } from "../rpc/error-codes.js";

/** INTERNAL_ERROR_MESSAGE is the only text a client ever sees for an unexpected exception. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/**
 * toRpcError turns a thrown value into the error a client receives (docs/architecture.md, "Errors"). When the
 * call was already aborted (`abortReason`), an exception it caused reports that reason, not INTERNAL.
 */
export function toRpcError(error: unknown, abortReason?: unknown): ConnectError {
  if (error instanceof ConnectError) {
    return error;
  }
  if (error instanceof DomainError) {
    return rpcErrorOf(error);
  }
  if (abortReason instanceof ConnectError) {
    return new ConnectError(abortReason.rawMessage, abortReason.code, undefined, undefined, error);
  }
  return new ConnectError(INTERNAL_ERROR_MESSAGE, Code.Internal, undefined, undefined, error);
}

/** isServerFault tells whether a status code means the server (or a dependency) failed, not the caller. */
export function isServerFault(code: Code): boolean {
  return (
    code === Code.Internal || code === Code.Unknown || code === Code.DataLoss || code === Code.Unavailable
  );
}
