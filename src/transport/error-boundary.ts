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
 * toRpcError turns a thrown value into the error a client receives:
 * - a DomainError → what the error table makes of it (rpcErrorOf: code, message, and the BadRequest or
 *   ErrorInfo details);
 * - a ConnectError → unchanged (it was built for the caller on purpose);
 * - anything else → INTERNAL "internal error", keeping the original as `cause` for the log. When the call
 *   was already aborted with a ConnectError (`abortReason`: deadline, cancellation, shutdown), an exception
 *   it caused reports that reason instead, so a timed-out call says DEADLINE_EXCEEDED, not INTERNAL.
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
