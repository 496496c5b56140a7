/**
 * The caller's x-request-id comes back in the response headers (or, for a failed call, the error's
 * metadata) on both ports, so a caller can match an answer, or a line in our logs, to its request. Only an
 * id the request log accepted as the caller's (short and plain) is echoed; an id we generated is not sent.
 */
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { kRequestId } from "../../rpc/context-keys.js";
import { REQUEST_ID_HEADER } from "../request-id.js";

/** requestIdEchoInterceptor echoes the caller's accepted x-request-id. */
export function requestIdEchoInterceptor(): Interceptor {
  return (next) => async (req) => {
    const presented = req.header.get(REQUEST_ID_HEADER);
    if (presented === null || presented !== req.contextValues.get(kRequestId)) {
      return next(req);
    }
    try {
      const response = await next(req);
      response.header.set(REQUEST_ID_HEADER, presented);
      return response;
    } catch (thrown) {
      const error = ConnectError.from(thrown);
      error.metadata.set(REQUEST_ID_HEADER, presented);
      throw error;
    }
  };
}
