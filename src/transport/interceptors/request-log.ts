/**
 * The request log: the interceptor that tells observers about every call when it ends, on both transports,
 * and the observer that writes one line per finished call with service, method, protocol, code, duration,
 * peer and request id; never a request or response body, never metadata values.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type Interceptor,
} from "@connectrpc/connect";
import type { Logger } from "pino";
import { kPeerAddress, kRequestId } from "../../rpc/context-keys.js";
import { statusName } from "../../rpc/error-codes.js";
import { isServerFault } from "../error-boundary.js";
import { reportAfter } from "./report-after.js";

/**
 * kUnreadRequestBytes is the size of a request that was refused because it could not be read (a message
 * that does not parse, for example); the request log writes it as requestBytes, and never the bytes.
 */
export const kUnreadRequestBytes = createContextKey<number | undefined>(undefined, {
  description: "size of an unread request",
});

/** kCallLogged is set once the request log interceptor has a call: its end is reported by the interceptor. */
export const kCallLogged = createContextKey<boolean>(false, { description: "call reached the request log" });

/** CallValues is what an observer may read about a call: its context values (peer, request id). */
export interface CallValues {
  readonly values: ContextValues;
}

/** CallObserver is told once about every RPC, on either transport, when it ends. */
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
      const unreadBytes = call.values.get(kUnreadRequestBytes);
      if (unreadBytes !== undefined) {
        fields.requestBytes = unreadBytes;
      }
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

/** protocolOf names a call's protocol from its request content type. */
export function protocolOf(header: Headers): string {
  const contentType = header.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) {
    return "grpc-web";
  }
  return contentType.startsWith("application/grpc") ? "grpc" : "connect";
}

/**
 * requestLogInterceptor tells `observer` how each call ended: put it first, so it times the whole call and
 * sees the refusals of the interceptors after it. What it sees thrown is already a ConnectError (the error
 * boundary and the refusals inside it make sure).
 */
export function requestLogInterceptor(observer: CallObserver): Interceptor {
  return (next) => async (req) => {
    const startedAt = performance.now();
    req.contextValues.set(kCallLogged, true);
    const report = (error: ConnectError | undefined) =>
      observer.callEnded(
        req.method,
        protocolOf(req.header),
        error === undefined ? 0 : error.code,
        performance.now() - startedAt,
        { values: req.contextValues },
        error,
      );
    try {
      const response = await next(req);
      if (!response.stream) {
        report(undefined);
        return response;
      }
      return { ...response, message: reportAfter(response.message, report) };
    } catch (thrown) {
      report(ConnectError.from(thrown));
      throw thrown;
    }
  };
}
