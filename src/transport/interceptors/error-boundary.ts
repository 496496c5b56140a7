/**
 * The error boundary as an interceptor: whatever the calls inside it throw (handlers, the caller-token
 * check) reaches the transport as the ConnectError toRpcError makes of it, with the call's abort reason
 * taken into account; a stream the transport or the server ended (client cancel, deadline, shutdown, a
 * stalled reader) reports why instead of a plain OK.
 */
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { toRpcError } from "../error-boundary.js";

function abortReasonOf(signal: AbortSignal): unknown {
  return signal.aborted ? signal.reason : undefined;
}

/** errorBoundaryInterceptor maps everything thrown inside it through toRpcError. */
export function errorBoundaryInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      const response = await next(req);
      return response.stream ? { ...response, message: bounded(response.message, req.signal) } : response;
    } catch (thrown) {
      throw toRpcError(thrown, abortReasonOf(req.signal));
    }
  };
}

async function* bounded<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (thrown) {
    throw toRpcError(thrown, abortReasonOf(signal));
  }
  if (signal.reason instanceof ConnectError) {
    throw signal.reason;
  }
}
