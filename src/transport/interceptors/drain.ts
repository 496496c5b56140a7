/**
 * Graceful drain on both transports: in-flight calls are counted so shutdown can wait for them, new calls
 * are refused with UNAVAILABLE once draining begins (except the services that must keep answering, health),
 * and open streams are told to end: a stream has no natural end, so it is ended rather than waited for.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { CallGate } from "../call-gate.js";

/** drainInterceptor counts calls through `gate` and refuses new ones while it drains, except `alwaysServe`. */
export function drainInterceptor(gate: CallGate, alwaysServe: readonly DescService[]): Interceptor {
  const served = new Set(alwaysServe);
  return (next) => async (req) => {
    if (gate.draining && !served.has(req.service)) {
      throw gate.drainSignal.reason;
    }
    gate.enter();
    if (!req.stream) {
      try {
        return await next(req);
      } finally {
        gate.leave();
      }
    }
    let response: Awaited<ReturnType<typeof next>>;
    try {
      response = await next({ ...req, signal: AbortSignal.any([req.signal, gate.drainSignal]) });
    } catch (error) {
      gate.leave();
      throw error;
    }
    return response.stream ? { ...response, message: leaveAfter(response.message, gate) } : response;
  };
}

async function* leaveAfter<T>(messages: AsyncIterable<T>, gate: CallGate): AsyncGenerator<T> {
  try {
    yield* messages;
  } finally {
    gate.leave();
  }
}
