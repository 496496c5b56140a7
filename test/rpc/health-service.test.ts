import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createHealthService } from "../../src/transport/health-service.js";
import { createHealthStatus, ServingStatus } from "../../src/transport/health-status.js";

function context(signal?: AbortSignal) {
  return createHandlerContext({
    service: Health,
    method: Health.method.watch,
    protocolName: "test",
    requestMethod: "POST",
    url: "/grpc.health.v1.Health/Watch",
    ...(signal === undefined ? {} : { requestSignal: signal }),
  });
}

describe("health status registry and service", () => {
  it("starts NOT_SERVING for the overall status and every registered service, unknown otherwise", () => {
    const status = createHealthStatus(["a.A"]);
    expect(status.get("")).toBe(ServingStatus.NOT_SERVING);
    expect(status.get("a.A")).toBe(ServingStatus.NOT_SERVING);
    expect(status.get("b.B")).toBeUndefined();
    status.setAll(ServingStatus.SERVING);
    expect([status.get(""), status.get("a.A")]).toEqual([ServingStatus.SERVING, ServingStatus.SERVING]);
  });

  it("Check answers the current status, and NOT_FOUND for an unknown service", async () => {
    const status = createHealthStatus(["a.A"]);
    const health = createHealthService(status);
    status.set("a.A", ServingStatus.SERVING);
    expect(await health.check(create(HealthCheckRequestSchema, { service: "a.A" }), context())).toEqual({
      status: ServingStatus.SERVING,
    });
    expect(() => health.check(create(HealthCheckRequestSchema, { service: "b.B" }), context())).toThrow(
      new ConnectError('unknown service "b.B"', Code.NotFound),
    );
  });

  it("Watch sends the current status, each change once, and ends when the call is aborted", async () => {
    const status = createHealthStatus(["a.A"]);
    const health = createHealthService(status);
    const controller = new AbortController();
    const stream = health.watch(
      create(HealthCheckRequestSchema, { service: "a.A" }),
      context(controller.signal),
    );
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ status: ServingStatus.NOT_SERVING });
    const next = iterator.next();
    status.set("a.A", ServingStatus.SERVING);
    status.set("a.A", ServingStatus.SERVING);
    expect((await next).value).toEqual({ status: ServingStatus.SERVING });
    status.set("a.A", ServingStatus.NOT_SERVING);
    controller.abort();
    expect((await iterator.next()).value).toEqual({ status: ServingStatus.NOT_SERVING });
    expect((await iterator.next()).done).toBe(true);
  });

  it("Watch of an unknown service sends SERVICE_UNKNOWN and keeps watching until it becomes known", async () => {
    const status = createHealthStatus([]);
    const health = createHealthService(status);
    const controller = new AbortController();
    const iterator = health
      .watch(create(HealthCheckRequestSchema, { service: "late.Service" }), context(controller.signal))
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ status: ServingStatus.SERVICE_UNKNOWN });
    const next = iterator.next();
    status.set("late.Service", ServingStatus.SERVING);
    expect((await next).value).toEqual({ status: ServingStatus.SERVING });
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });
});
