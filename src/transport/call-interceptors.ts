/**
 * The interceptors every call goes through, in the same order on both ports (docs/architecture.md, "Call
 * interceptors"): metrics and the request log outermost, so they time the whole call and see every refusal;
 * the error boundary inside drain and deadlines, so it sees their abort; the caller check right before the
 * handler.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { CallGate } from "./call-gate.js";
import { callDeadlineInterceptor } from "./interceptors/call-deadline.js";
import { type CallerCheck, callerTokenInterceptor } from "./interceptors/caller-token.js";
import { defaultDeadlineInterceptor } from "./interceptors/default-deadline.js";
import { drainInterceptor } from "./interceptors/drain.js";
import { errorBoundaryInterceptor } from "./interceptors/error-boundary.js";
import { requestIdEchoInterceptor } from "./interceptors/request-id-echo.js";
import { type CallObserver, requestLogInterceptor } from "./interceptors/request-log.js";
import { type CallTracing, tracingInterceptor } from "./interceptors/tracing.js";

interface CallInterceptorOptions {
  readonly observer: CallObserver;
  /** rpcMetrics counts every call (one interceptor shared by both ports: it holds the counters). */
  readonly rpcMetrics?: Interceptor;
  /** tracing, when set, starts a span per call; absent or null installs no tracing interceptor at all. */
  readonly tracing?: CallTracing | null;
  readonly gate: CallGate;
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
    ...(options.tracing === undefined || options.tracing === null
      ? []
      : [tracingInterceptor(options.tracing)]),
    ...(options.rpcMetrics === undefined ? [] : [options.rpcMetrics]),
    requestLogInterceptor(options.observer),
    requestIdEchoInterceptor(),
    drainInterceptor(options.gate, options.alwaysServe),
    defaultDeadlineInterceptor(options.defaultDeadlineMs),
    callDeadlineInterceptor(options.defaultDeadlineMs),
    errorBoundaryInterceptor(),
    ...(callerCheck === undefined || (callerCheck.token === null && callerCheck.refusal === null)
      ? []
      : [callerTokenInterceptor(callerCheck)]),
  ];
}
