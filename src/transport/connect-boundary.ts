/**
 * The connect-node side of the transport, besides the interceptors both ports share: the per-call context
 * values (peer, request id) and kAbortCall, which ends a call whose response is stuck behind flow control.
 */
import { constants as http2Constants } from "node:http2";
import { Code, type ConnectError, type ContextValues, createContextValues } from "@connectrpc/connect";
import { kAbortCall, kPeerAddress, kRequestId } from "../rpc/context-keys.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./request-id.js";

/** The part of a Node.js HTTP/1.1 or HTTP/2 server request the context values read. */
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

interface NodeCallResponse {
  destroy(): unknown;
  emit(event: "drain"): boolean;
}

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
