/**
 * Spans leave the process the way an operator switches them on: the standard OTEL_* variables, the real
 * OTLP/HTTP exporter and batch processor, and a collector — here a tiny HTTP server that keeps what is
 * posted to /v1/traces. A call continuing a W3C traceparent reaches it within the configured batch delay,
 * and spans still waiting in the batch are sent at shutdown.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer, type TestServer } from "../helpers/start-server.js";

/** ExportedSpan is what the test reads of a span in an OTLP/JSON export request. */
interface ExportedSpan {
  readonly traceId: string;
  readonly parentSpanId?: string;
  readonly name: string;
}

/** FakeCollector receives OTLP/HTTP export requests and keeps their spans. */
interface FakeCollector {
  readonly endpoint: string;
  readonly spans: ExportedSpan[];
  /** requests are the method, path and content type of each request the exporter made. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  return (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
}

/** spansOf reads the spans of an OTLP/JSON ExportTraceServiceRequest (ids are hex in OTLP/JSON). */
function spansOf(body: string): ExportedSpan[] {
  const request = JSON.parse(body) as {
    resourceSpans?: { scopeSpans?: { spans?: ExportedSpan[] }[] }[];
  };
  return (request.resourceSpans ?? []).flatMap((resource) =>
    (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []),
  );
}

async function startFakeCollector(): Promise<FakeCollector> {
  const spans: ExportedSpan[] = [];
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url} ${request.headers["content-type"]}`);
    void bodyOf(request).then((body) => {
      spans.push(...spansOf(body));
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function checkWithTraceparent(server: TestServer): Promise<{ traceId: string; parentSpanId: string }> {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${server.grpcAddress}` }));
  await health.check({}, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
  return { traceId, parentSpanId };
}

describe("spans exported over OTLP/HTTP", () => {
  const database = useTestDatabase("otlpexport");
  let collector: FakeCollector;

  beforeAll(async () => {
    collector = await startFakeCollector();
  });
  afterAll(async () => {
    await collector.close();
  });

  it("reach the collector's /v1/traces within the batch delay, in the caller's trace", async () => {
    const server = await startTestServer(database, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "100" },
    });
    try {
      const scheduleDelayMs = server.config.tracing?.scheduleDelayMs ?? Number.NaN;
      expect(scheduleDelayMs).toBe(100);
      const { traceId, parentSpanId } = await checkWithTraceparent(server);

      // A span waits at most one delay in the batch; the rest of the budget is the post to a local server.
      // The budget stays below the SDK's own 5 s default, so a delay left unapplied fails here.
      await expect
        .poll(() => collector.spans.find((span) => span.traceId === traceId), {
          timeout: scheduleDelayMs * 40,
          interval: scheduleDelayMs / 4,
        })
        .toMatchObject({ name: "grpc.health.v1.Health/Check", parentSpanId });
      expect(collector.requests).toContain("POST /v1/traces application/json");
    } finally {
      await server.shutdown();
    }
  });

  it("sends the spans still waiting in the batch at shutdown", async () => {
    const server = await startTestServer(database, {
      // A delay far beyond the test: only the shutdown flush can deliver the span.
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "600000" },
    });
    const { traceId } = await checkWithTraceparent(server);
    expect(collector.spans.some((span) => span.traceId === traceId)).toBe(false);

    await server.shutdown();
    expect(collector.spans.filter((span) => span.traceId === traceId)).toEqual([
      expect.objectContaining({ name: "grpc.health.v1.Health/Check" }),
    ]);
  });
});
