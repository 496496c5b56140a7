/** Per-call context values both transports set, read without knowing which transport carried the call. */
import { type ConnectError, createContextKey } from "@connectrpc/connect";

/** kPeerAddress is the socket peer of the call as "address:port" (the calling service, not the end user). */
export const kPeerAddress = createContextKey<string>("unknown", { description: "peer address" });

/** kRequestId identifies the call in logs: the caller's x-request-id when valid, else a generated id. */
export const kRequestId = createContextKey<string>("", { description: "request id" });

/**
 * kAbortCall ends a streaming call from the server side at once, even while its writer waits on flow control
 * (gRPC: after the queued messages; HTTP/2: a stream reset; HTTP/1.1: the connection closes). Default: no-op.
 */
export const kAbortCall = createContextKey<(reason: ConnectError) => void>(() => undefined, {
  description: "abort the call",
});
