/** Per-call context values both transports set, read without knowing which transport carried the call. */
import { type ConnectError, createContextKey } from "@connectrpc/connect";

/** kPeerAddress is the socket peer of the call as "address:port" (the calling service, not the end user). */
export const kPeerAddress = createContextKey<string>("unknown", { description: "peer address" });

/** kRequestId identifies the call in logs: the caller's x-request-id when valid, else a generated id. */
export const kRequestId = createContextKey<string>("", { description: "request id" });

/**
 * kAbortCall ends a streaming call from the server side at once, even while its writer waits for a client
 * that stopped reading (flow control): the gRPC port then ends the call with `reason` after the messages
 * already queued; the HTTP port resets the HTTP/2 stream (ENHANCE_YOUR_CALM for RESOURCE_EXHAUSTED, which
 * clients read as RESOURCE_EXHAUSTED) or closes the HTTP/1.1 connection. The default does nothing (unary
 * calls, tests without a transport).
 */
export const kAbortCall = createContextKey<(reason: ConnectError) => void>(() => undefined, {
  description: "abort the call",
});
