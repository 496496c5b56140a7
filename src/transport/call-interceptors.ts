/**
 * The interceptors every call goes through, in the same order on both ports (the connect-node adapter and
 * the grpc-js bridge run the same list): the request log outermost, so it times the whole call and sees
 * every refusal; drain; the default deadline, then the call's deadline handed on to its database operations;
 * the error boundary, inside them so it sees the deadline's and the drain's abort; the caller check last,
 * right before the handler.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { CallGate } from "./call-gate.js";
import { callDeadlineInterceptor } from "./interceptors/call-deadline.js";
import { type CallerCheck, callerTokenInterceptor } from "./interceptors/caller-token.js";
import { defaultDeadlineInterceptor } from "./interceptors/default-deadline.js";
import { drainInterceptor } from "./interceptors/drain.js";
import { errorBoundaryInterceptor } from "./interceptors/error-boundary.js";
import { type CallObserver, requestLogInterceptor } from "./interceptors/request-log.js";

/** CallInterceptorOptions configure the interceptors of one port. */
export interface CallInterceptorOptions {
  readonly observer: CallObserver;
  readonly gate: CallGate;
  /** defaultDeadlineMs applies to unary calls that arrive without a deadline. */
  readonly defaultDeadlineMs: number;
  /** alwaysServe lists the services that keep answering while the server drains (health). */
  readonly alwaysServe: readonly DescService[];
  /** callerCheck guards one service (VerifyKey), when its callers must prove something. */
  readonly callerCheck?: CallerCheck;
}

/** createCallInterceptors returns the interceptor list of one port, outermost first. */
export function createCallInterceptors(options: CallInterceptorOptions): Interceptor[] {
  const { callerCheck } = options;
  return [
    requestLogInterceptor(options.observer),
    drainInterceptor(options.gate, options.alwaysServe),
    defaultDeadlineInterceptor(options.defaultDeadlineMs),
    callDeadlineInterceptor(options.defaultDeadlineMs),
    errorBoundaryInterceptor(),
    ...(callerCheck === undefined || (callerCheck.token === null && callerCheck.refusal === null)
      ? []
      : [callerTokenInterceptor(callerCheck)]),
  ];
}
