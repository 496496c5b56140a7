/**
 * A failed RPC normalised across clients (connect-es and grpc-js): its gRPC status name, message and
 * google.rpc.ErrorInfo reason, so one assertion covers every transport.
 */
import { ConnectError } from "@connectrpc/connect";
import { statusName } from "../../src/rpc/error-codes.js";
import { errorInfoOf } from "../../src/rpc/error-info.js";
import { captureError } from "./capture-error.js";
import { grpcErrorInfo, isServiceError } from "./grpc-client.js";

/** RpcFailure is a failed call, normalised across transports. */
export interface RpcFailure {
  /** code is the gRPC status name, for example "INVALID_ARGUMENT". */
  readonly code: string;
  readonly message: string;
  /** reason is the google.rpc.ErrorInfo reason the error carried, or null. */
  readonly reason: string | null;
}

/** rpcFailureOf normalises an RPC error; anything else is rethrown. */
export function rpcFailureOf(error: unknown): RpcFailure {
  if (error instanceof ConnectError) {
    return {
      code: statusName(error.code),
      message: error.rawMessage,
      reason: errorInfoOf(error)?.reason ?? null,
    };
  }
  if (isServiceError(error)) {
    return {
      code: statusName(error.code),
      message: error.details,
      reason: grpcErrorInfo(error)?.reason ?? null,
    };
  }
  throw error;
}

/** rpcFailure awaits a call expected to fail and returns its status; it fails the test on success. */
export async function rpcFailure(promise: Promise<unknown>): Promise<RpcFailure> {
  return rpcFailureOf(await captureError(promise));
}
