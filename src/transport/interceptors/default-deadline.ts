/**
 * The server's default deadline: a unary call that arrives without one (no grpc-timeout, no
 * connect-timeout-ms) gets `defaultDeadlineMs`. Its handler's signal aborts then and the client gets
 * DEADLINE_EXCEEDED, even if the handler ignores the signal. Server-streaming calls get none: a feed or a
 * health watch is meant to stay open, and shutdown ends it.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** defaultDeadlineInterceptor applies `defaultDeadlineMs` to unary calls that came without a deadline. */
export function defaultDeadlineInterceptor(defaultDeadlineMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.stream || req.header.has("grpc-timeout") || req.header.has("connect-timeout-ms")) {
      return next(req);
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new ConnectError("deadline exceeded (server default deadline)", Code.DeadlineExceeded);
        controller.abort(error);
        reject(error);
      }, defaultDeadlineMs);
    });
    try {
      return await Promise.race([
        next({ ...req, signal: AbortSignal.any([req.signal, controller.signal]) }),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}
