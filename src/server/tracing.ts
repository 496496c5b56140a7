/**
 * OpenTelemetry tracing of the service's calls: a tracer provider of its own (never registered globally, so
 * nothing else in the process starts spans behind our back), the W3C trace-context propagator, and the
 * OTLP/HTTP exporter the OTEL_* variables configure. Off unless configured; when off nothing here is built.
 */
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { CallTracing } from "../transport/interceptors/tracing.js";
import type { CloseHook } from "../transport/start-server.js";
import type { TracingConfig } from "./config.js";

/** The tracing the transports use, and the hook that sends the last spans at shutdown. */
export interface ServiceTracing {
  readonly tracing: CallTracing;
  readonly closeHook: CloseHook;
}

/** createServiceTracing traces calls as `serviceName`, handing each finished span to `spanProcessor`. */
export function createServiceTracing(serviceName: string, spanProcessor: SpanProcessor): ServiceTracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [spanProcessor],
  });
  return {
    tracing: {
      tracer: provider.getTracer("apikeys"),
      propagator: new W3CTraceContextPropagator(),
    },
    closeHook: { name: "tracing", close: () => provider.shutdown() },
  };
}

/** createOtlpTracing exports spans in batches to the configured collector; closing sends the rest. */
export function createOtlpTracing(config: TracingConfig): ServiceTracing {
  return createServiceTracing(
    config.serviceName,
    new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }), {
      scheduledDelayMillis: config.scheduleDelayMs,
    }),
  );
}
