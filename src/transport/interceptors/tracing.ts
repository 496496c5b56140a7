/**
 * OpenTelemetry tracing on both ports: each call becomes a SERVER span named `service/method`, a child of
 * the caller's span when the request carries a W3C `traceparent` (and `tracestate`), so a trace crosses
 * into this service whether the caller used gRPC, Connect or gRPC-Web. The span carries the RPC semantic
 * conventions' attributes and ends with the call's status code (a stream, when it ends). Only installed
 * when tracing is configured: with tracing off there is no interceptor and no cost.
 */

import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from "@opentelemetry/api";
import { isServerFault } from "../error-boundary.js";
import { reportAfter } from "./report-after.js";

/** CallTracing is what the tracing interceptor needs: a tracer and the propagator that reads the caller's context. */
export interface CallTracing {
  readonly tracer: Tracer;
  readonly propagator: TextMapPropagator;
}

const headerGetter: TextMapGetter<Headers> = {
  get: (header, key) => header.get(key) ?? undefined,
  keys: (header) => [...header.keys()],
};

function rpcSystemOf(header: Headers): string {
  return (header.get("content-type") ?? "").startsWith("application/grpc") ? "grpc" : "connect_rpc";
}

function endSpan(span: Span, code: number, error: ConnectError | undefined): void {
  span.setAttribute("rpc.grpc.status_code", code);
  if (error !== undefined && isServerFault(code)) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
  }
  span.end();
}

/** tracingInterceptor starts a server span per call, continuing the caller's trace. */
export function tracingInterceptor(tracing: CallTracing): Interceptor {
  const { tracer, propagator } = tracing;
  return (next) => async (req) => {
    const parent = propagator.extract(ROOT_CONTEXT, req.header, headerGetter);
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": rpcSystemOf(req.header),
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
        },
      },
      parent,
    );
    let response: Awaited<ReturnType<typeof next>>;
    try {
      response = await next(req);
    } catch (thrown) {
      const error = ConnectError.from(thrown);
      endSpan(span, error.code, error);
      throw thrown;
    }
    if (!response.stream) {
      endSpan(span, 0, undefined);
      return response;
    }
    return {
      ...response,
      message: reportAfter(response.message, (error) => endSpan(span, error?.code ?? 0, error)),
    };
  };
}
