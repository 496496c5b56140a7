/**
 * The connect-node side of the call boundary: one interceptor that gives calls on the HTTP port the same
 * treatment the grpc-js bridge gives calls on the gRPC port — refusal while draining, a default deadline
 * for unary calls, the shared error boundary, in-flight counting and the request log.
 */
import { constants as http2Constants } from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type StreamResponse,
  type UnaryResponse,
} from "@connectrpc/connect";
import type { CallGate } from "./call-gate.js";
import { kAbortCall, kPeerAddress, kRequestId } from "./context-keys.js";
import { toRpcError } from "./error-boundary.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./request-id.js";
import type { CallObserver } from "./request-log.js";

/** ConnectBoundaryOptions configure the interceptor. */
export interface ConnectBoundaryOptions {
  readonly observer: CallObserver;
  readonly gate: CallGate;
  /** defaultDeadlineMs applies to unary calls that arrive without a timeout header. */
  readonly defaultDeadlineMs: number;
  /** alwaysServe lists service type names that keep answering while draining (health). */
  readonly alwaysServe: ReadonlySet<string>;
}

function protocolOf(header: Headers): string {
  const contentType = header.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) {
    return "grpc-web";
  }
  if (contentType.startsWith("application/grpc")) {
    return "grpc";
  }
  return "connect";
}

function hasTimeout(header: Headers): boolean {
  return header.has("grpc-timeout") || header.has("connect-timeout-ms");
}

/**
 * createConnectBoundary returns the interceptor. Put it first in the adapter's interceptor list: everything
 * it lets through comes back as a ConnectError, never as an exception connect-node would turn into UNKNOWN
 * with the raw message.
 */
export function createConnectBoundary(options: ConnectBoundaryOptions): Interceptor {
  const { observer, gate, defaultDeadlineMs, alwaysServe } = options;
  const report = (
    method: DescMethod,
    header: Headers,
    values: ContextValues,
    startedAt: number,
    error: ConnectError | undefined,
  ) => {
    observer.callEnded(
      method,
      protocolOf(header),
      error === undefined ? 0 : error.code,
      performance.now() - startedAt,
      { values },
      error,
    );
  };
  return (next) => async (req) => {
    const startedAt = performance.now();
    if (gate.draining && !alwaysServe.has(req.service.typeName)) {
      const refusal = gate.drainSignal.reason as ConnectError;
      report(req.method, req.header, req.contextValues, startedAt, refusal);
      throw refusal;
    }
    gate.enter();
    if (!req.stream) {
      let timer: NodeJS.Timeout | undefined;
      let signal = req.signal;
      try {
        let response: UnaryResponse;
        if (hasTimeout(req.header)) {
          response = (await next(req)) as UnaryResponse;
        } else {
          const controller = new AbortController();
          signal = AbortSignal.any([req.signal, controller.signal]);
          const expired = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const error = new ConnectError(
                "deadline exceeded (server default deadline)",
                Code.DeadlineExceeded,
              );
              controller.abort(error);
              reject(error);
            }, defaultDeadlineMs);
          });
          response = (await Promise.race([next({ ...req, signal }), expired])) as UnaryResponse;
        }
        report(req.method, req.header, req.contextValues, startedAt, undefined);
        return response;
      } catch (thrown) {
        const error = toRpcError(thrown, signal.aborted ? signal.reason : undefined);
        report(req.method, req.header, req.contextValues, startedAt, error);
        throw error;
      } finally {
        clearTimeout(timer);
        gate.leave();
      }
    }
    // A stream has no natural end: it is ended when draining begins rather than waited for.
    const signal = AbortSignal.any([req.signal, gate.drainSignal]);
    let response: StreamResponse;
    try {
      response = (await next({ ...req, signal })) as StreamResponse;
    } catch (thrown) {
      const error = toRpcError(thrown, signal.aborted ? signal.reason : undefined);
      report(req.method, req.header, req.contextValues, startedAt, error);
      gate.leave();
      throw error;
    }
    const messages = response.message;
    async function* observed(): AsyncGenerator<unknown> {
      let error: ConnectError | undefined;
      try {
        yield* messages;
        if (signal.aborted && signal.reason instanceof ConnectError && !req.signal.aborted) {
          // The server ended the stream (shutdown): say why instead of a plain OK.
          error = signal.reason;
        }
      } catch (thrown) {
        error = toRpcError(thrown, signal.aborted ? signal.reason : undefined);
      } finally {
        report(req.method, req.header, req.contextValues, startedAt, error);
        gate.leave();
      }
      if (error !== undefined) {
        throw error;
      }
    }
    return { ...response, message: observed() } as StreamResponse;
  };
}

/** NodeCallRequest is the part of a Node.js HTTP/1.1 or HTTP/2 server request the context values read. */
interface NodeCallRequest {
  readonly socket: {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
    destroy(): void;
  };
  readonly headers: Record<string, string | string[] | undefined>;
  /** stream is the HTTP/2 stream (HTTP/2 requests only). */
  readonly stream?: { close(code?: number): void };
}

/** NodeCallResponse is the part of a Node.js HTTP/1.1 or HTTP/2 server response abortNodeCall uses. */
export interface NodeCallResponse {
  destroy(): unknown;
  emit(event: "drain"): boolean;
}

/** nodeResponses pairs each RPC request on the HTTP port with its response (see trackNodeResponse). */
const nodeResponses = new WeakMap<object, NodeCallResponse>();

/**
 * trackNodeResponse records the response of `req` before the connect-node adapter handles it, so kAbortCall
 * can end the call (the adapter's context-values hook sees only the request). The HTTP port calls it.
 */
export function trackNodeResponse(req: object, res: NodeCallResponse): void {
  nodeResponses.set(req, res);
}

/**
 * abortNodeCall ends a call whose response may be stuck behind flow control: HTTP/2 resets the stream
 * (ENHANCE_YOUR_CALM, which gRPC and Connect clients read as RESOURCE_EXHAUSTED, for a resource limit;
 * CANCEL otherwise); HTTP/1.1 has no per-request reset, so the response (and its connection) is destroyed.
 * connect-node's writer waits for "drain" or "error" only, and a closed stream emits neither, so it is woken
 * with "drain": its next write then fails and the call (and its handler) is released.
 */
function abortNodeCall(req: NodeCallRequest, reason: ConnectError): void {
  const res = nodeResponses.get(req);
  if (req.stream !== undefined) {
    req.stream.close(
      reason.code === Code.ResourceExhausted
        ? http2Constants.NGHTTP2_ENHANCE_YOUR_CALM
        : http2Constants.NGHTTP2_CANCEL,
    );
  } else if (res !== undefined) {
    res.destroy();
  } else {
    req.socket.destroy();
  }
  res?.emit("drain");
}

/**
 * createConnectContextValues returns the connect-node `contextValues` hook: the socket peer (as
 * "address:port", like grpc-js getPeer), the request id, and kAbortCall.
 */
export function createConnectContextValues(): (req: NodeCallRequest) => ContextValues {
  return (req) => {
    const { remoteAddress, remotePort } = req.socket;
    const presented = req.headers[REQUEST_ID_HEADER];
    return createContextValues()
      .set(
        kPeerAddress,
        remoteAddress === undefined
          ? "unknown"
          : remotePort === undefined
            ? remoteAddress
            : `${remoteAddress}:${remotePort}`,
      )
      .set(kRequestId, requestIdFor(typeof presented === "string" ? presented : undefined))
      .set(kAbortCall, (reason) => abortNodeCall(req, reason));
  };
}
