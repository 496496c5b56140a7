/**
 * The request log and the hook both transports call when an RPC ends. One line per finished call with
 * service, method, protocol, code, duration, peer and request id; never a request or response body, never
 * metadata values.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, type ConnectError, type ContextValues } from "@connectrpc/connect";
import type { Logger } from "pino";
import { kPeerAddress, kRequestId } from "./context-keys.js";
import { isServerFault } from "./error-boundary.js";
import { statusName } from "../rpc/error-codes.js";

/** CallValues is what an observer may read about a call: its context values (peer, request id). */
export interface CallValues {
  readonly values: ContextValues;
}

/**
 * CallObserver is told once about every RPC that reached a service handler, on either transport, when it
 * ends. Arguments are positional so the hot path allocates nothing for an observer that ignores the call;
 * `call.values` is built lazily by the grpc-js bridge, so read it only when needed.
 */
export interface CallObserver {
  callEnded(
    method: DescMethod,
    protocol: string,
    code: number,
    durationMs: number,
    call: CallValues,
    error: ConnectError | undefined,
  ): void;
}

/** RequestLogOptions tune the request log. */
export interface RequestLogOptions {
  /**
   * quietMethods succeed at debug level instead of info: VerifyKey runs on every request of every internal
   * service, so logging each success at info would dominate its cost; health probes are noise.
   */
  readonly quietMethods: readonly DescMethod[];
}

const DEBUG_LEVEL_VALUE = 20;

/** createRequestLog returns the observer that writes the request log to `logger`. */
export function createRequestLog(logger: Logger, options: RequestLogOptions): CallObserver {
  const quiet = new Set(options.quietMethods);
  return {
    callEnded(method, protocol, code, durationMs, call, error) {
      if (code === 0 && quiet.has(method) && logger.levelVal > DEBUG_LEVEL_VALUE) {
        return;
      }
      const fields: Record<string, unknown> = {
        service: method.parent.typeName,
        method: method.name,
        protocol,
        code: statusName(code),
        durationMs: Math.round(durationMs * 1000) / 1000,
        peer: call.values.get(kPeerAddress),
        requestId: call.values.get(kRequestId),
      };
      if (error !== undefined) {
        // The message is the one the client received: written for the caller, safe to log.
        fields.message = error.rawMessage;
        if (isServerFault(error.code) && error.cause !== undefined) {
          fields.err = error.cause;
        }
      }
      if (code === 0) {
        if (quiet.has(method)) {
          logger.debug(fields, "rpc");
        } else {
          logger.info(fields, "rpc");
        }
      } else if (code === Code.Internal || code === Code.Unknown || code === Code.DataLoss) {
        logger.error(fields, "rpc failed");
      } else if (
        code === Code.Unauthenticated ||
        code === Code.PermissionDenied ||
        code === Code.DeadlineExceeded ||
        code === Code.Unavailable ||
        code === Code.ResourceExhausted
      ) {
        logger.warn(fields, "rpc");
      } else {
        logger.info(fields, "rpc");
      }
    },
  };
}

/** combineObservers returns one observer that tells each of `observers`, in order. */
export function combineObservers(...observers: CallObserver[]): CallObserver {
  if (observers.length === 1 && observers[0] !== undefined) {
    return observers[0];
  }
  return {
    callEnded(method, protocol, code, durationMs, call, error) {
      for (const observer of observers) {
        observer.callEnded(method, protocol, code, durationMs, call, error);
      }
    },
  };
}
