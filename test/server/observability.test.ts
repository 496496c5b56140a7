/**
 * What a platform team reads off the service, on both ports: per-RPC metrics with the gRPC ecosystem's
 * names and labels, a server span per call continuing the caller's W3C traceparent, the caller's
 * x-request-id echoed, and a port in use reported in one line naming its variable.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createServiceTracing } from "../../src/server/tracing.js";
import { createCallGate } from "../../src/transport/call-gate.js";
import { createCallInterceptors } from "../../src/transport/call-interceptors.js";
import { scrapeMetrics } from "../helpers/metrics-scrape.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer, useTestServer } from "../helpers/start-server.js";

const spans = new InMemorySpanExporter();
const server = useTestServer("observability", {
  tracing: createServiceTracing("apikeys-test", new SimpleSpanProcessor(spans)),
});

const ports: readonly [string, () => Transport][] = [
  ["gRPC", () => createGrpcTransport({ baseUrl: `http://${server.current.grpcAddress}` })],
  ["HTTP", () => createConnectTransport({ baseUrl: server.current.httpBaseUrl, httpVersion: "1.1" })],
];

const checkLabels = 'grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_type="unary"';
const getKeyLabels = 'grpc_service="apikeys.v1.KeyAdminService",grpc_method="GetKey",grpc_type="unary"';

describe.each(ports)("on the %s port", (_port, transport) => {
  it("counts calls started, handled (by code) and their handling time", async () => {
    const before = await scrapeMetrics(server.current.httpBaseUrl);
    const health = createClient(Health, transport());
    await health.check({});
    const admin = createClient(KeyAdminService, transport());
    const refused = await admin.getKey({ keyId: "key_x" }).catch((thrown: unknown) => thrown);
    expect(ConnectError.from(refused).code).toBe(Code.Unauthenticated);

    const after = await scrapeMetrics(server.current.httpBaseUrl);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta(`grpc_server_started_total{${checkLabels}}`)).toBe(1);
    expect(delta(`grpc_server_handled_total{${checkLabels},grpc_code="OK"}`)).toBe(1);
    expect(delta(`grpc_server_handling_seconds_count{${checkLabels}}`)).toBe(1);
    expect(delta(`grpc_server_handling_seconds_bucket{${checkLabels},le="+Inf"}`)).toBe(1);
    expect(delta(`grpc_server_started_total{${getKeyLabels}}`)).toBe(1);
    expect(delta(`grpc_server_handled_total{${getKeyLabels},grpc_code="Unauthenticated"}`)).toBe(1);
  });

  it("continues the caller's W3C trace in a server span", async () => {
    const traceId = randomBytes(16).toString("hex");
    const parentSpanId = randomBytes(8).toString("hex");
    const health = createClient(Health, transport());
    await health.check({}, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });

    const span = spans.getFinishedSpans().find((finished) => finished.spanContext().traceId === traceId);
    expect(span?.name).toBe("grpc.health.v1.Health/Check");
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(span?.attributes).toMatchObject({
      "rpc.service": "grpc.health.v1.Health",
      "rpc.method": "Check",
      "rpc.grpc.status_code": 0,
    });
  });

  it("echoes the caller's x-request-id on success and on failure", async () => {
    const echoed: (string | null)[] = [];
    const health = createClient(Health, transport());
    await health.check(
      {},
      {
        headers: { "x-request-id": "obs-ok-1" },
        onHeader: (header) => echoed.push(header.get("x-request-id")),
      },
    );
    const admin = createClient(KeyAdminService, transport());
    const refused = ConnectError.from(
      await admin
        .getKey({ keyId: "key_x" }, { headers: { "x-request-id": "obs-refused-1" } })
        .catch((thrown: unknown) => thrown),
    );
    expect(echoed).toEqual(["obs-ok-1"]);
    expect(refused.metadata.get("x-request-id")).toBe("obs-refused-1");
  });
});

describe("without tracing configured", () => {
  it("installs no tracing interceptor", () => {
    const common = {
      observer: { callEnded: () => undefined },
      gate: createCallGate(),
      defaultDeadlineMs: 1_000,
    };
    const off = createCallInterceptors({ ...common, alwaysServe: [], tracing: null });
    const on = createCallInterceptors({
      ...common,
      alwaysServe: [],
      tracing: createServiceTracing("apikeys-test", new SimpleSpanProcessor(new InMemorySpanExporter()))
        .tracing,
    });
    expect(on.length - off.length).toBe(1);
  });
});

describe("a port already in use", () => {
  const database = useTestDatabase("portinuse");

  it.each(["GRPC_PORT", "HTTP_PORT"])("is reported in one line naming %s", async (variable) => {
    const occupied = net.createServer();
    await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve));
    const port = (occupied.address() as net.AddressInfo).port;
    try {
      const failure = await startTestServer(database, { env: { [variable]: String(port) } }).then(
        async (started) => {
          await started.shutdown();
          return null;
        },
        (thrown: unknown) => thrown as Error,
      );
      expect(failure?.message).toBe(
        `${variable}: cannot listen on 127.0.0.1:${port}: the port is already in use`,
      );
    } finally {
      occupied.close();
    }
  });
});
