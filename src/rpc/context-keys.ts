/**
 * Per-call context values both transports set, so service implementations and the request log can read
 * them without knowing which transport carried the call.
 */
import { createContextKey } from "@connectrpc/connect";

/** kPeerAddress is the socket peer of the call as "address:port" (the calling service, not the end user). */
export const kPeerAddress = createContextKey<string>("unknown", { description: "peer address" });

/** kRequestId identifies the call in logs: the caller's x-request-id when valid, else a generated id. */
export const kRequestId = createContextKey<string>("", { description: "request id" });
