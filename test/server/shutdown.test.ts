/**
 * Graceful shutdown, in process, over real sockets: health flips to NOT_SERVING at once, new calls are
 * refused with UNAVAILABLE, in-flight calls finish, streams end, close hooks run; a call that outlives
 * SHUTDOWN_DRAIN_MS is cancelled and the shutdown reports it was forced.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { Code, type ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, grpcFailure } from "../helpers/grpc-client.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { startTestServer } from "../helpers/start-server.js";

/** SlowVerify holds "slow" calls until released, and records what their signals saw. */
function slowVerify() {
  let resolveRelease: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    resolveRelease = resolve;
  });
  // aborted counts signals aborted while the handler still waited (a signal also aborts when a call
  // completes, per connect semantics; that one does not count).
  const state = { entered: 0, aborted: 0, finished: 0, released: false };
  const release = () => {
    state.released = true;
    resolveRelease();
  };
  const impl = {
    async verifyKey(request: { endpoint: string }, context: HandlerContext) {
      if (request.endpoint === "slow") {
        state.entered++;
        context.signal.addEventListener("abort", () => {
          if (!state.released) {
            state.aborted++;
          }
        });
        await released;
        state.finished++;
      }
      return { valid: true, code: VerificationCode.VALID, httpStatus: 200, keyId: `key_${request.endpoint}` };
    },
  };
  return { impl, state, release };
}

describe("graceful shutdown", () => {
  const database = useTestDatabase("shutdown");

  it("lets in-flight calls on both ports finish while refusing new ones and reporting NOT_SERVING", async () => {
    const slow = slowVerify();
    const hooks: string[] = [];
    const test = await startTestServer(database, {
      env: { SHUTDOWN_DRAIN_MS: "5000" },
      services: { verify: slow.impl },
      closeHooks: [
        { name: "audit-flush", close: () => void hooks.push(`closed with ${slow.state.finished} finished`) },
      ],
    });
    const grpcVerify = createGrpcJsClient(KeyVerifyService, test.grpcAddress);
    const grpcHealth = createGrpcJsClient(Health, test.grpcAddress);
    const httpVerify = createConnectClient(KeyVerifyService, test.httpBaseUrl, { protocol: "connect-json" });
    const httpHealth = createConnectClient(Health, test.httpBaseUrl, { protocol: "grpc", httpVersion: "2" });

    // A health watch on each port, open across the shutdown.
    const grpcWatch = grpcHealth.watch({ service: "" });
    const grpcStatuses: ServingStatus[] = [];
    const grpcWatchEnd = new Promise<number>((resolve) => {
      grpcWatch.on("data", (message: { status: ServingStatus }) => grpcStatuses.push(message.status));
      grpcWatch.on("error", (error: { code: number }) => resolve(error.code));
      grpcWatch.on("end", () => resolve(status.OK));
    });
    const httpStatuses: ServingStatus[] = [];
    const httpWatchEnd = (async () => {
      try {
        for await (const message of httpHealth.watch({ service: "" })) {
          httpStatuses.push(message.status);
        }
        return Code.Canceled - 1;
      } catch (error) {
        return (error as ConnectError).code;
      }
    })();
    await expect.poll(() => [grpcStatuses.length, httpStatuses.length], { timeout: 5_000 }).toEqual([1, 1]);

    const inFlightGrpc = grpcVerify.verifyKey({ endpoint: "slow" });
    const inFlightHttp = httpVerify.verifyKey({ endpoint: "slow" });
    await expect.poll(() => slow.state.entered, { timeout: 5_000 }).toBe(2);

    const shutdown = test.shutdown();

    // Health flips at once, on both ports, while the drain is still waiting for the slow calls.
    expect((await grpcHealth.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
    expect((await grpcHealth.check({ service: KeyVerifyService.typeName })).status).toBe(
      ServingStatus.NOT_SERVING,
    );
    expect((await httpHealth.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
    expect((await fetch(`${test.httpBaseUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${test.httpBaseUrl}/healthz`)).status).toBe(200);

    // New calls are refused on both ports.
    const refused = await grpcFailure(grpcVerify.verifyKey({ endpoint: "fast" }));
    expect([refused.code, refused.details]).toEqual([status.UNAVAILABLE, "server is shutting down"]);
    await expect(httpVerify.verifyKey({ endpoint: "fast" })).rejects.toMatchObject({
      code: Code.Unavailable,
    });

    // Watches saw NOT_SERVING and were ended with UNAVAILABLE rather than waited for.
    expect(await grpcWatchEnd).toBe(status.UNAVAILABLE);
    expect(await httpWatchEnd).toBe(Code.Unavailable);
    expect(grpcStatuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(httpStatuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);

    // The in-flight calls were not cut off: they finish normally once their handlers return.
    expect(hooks).toEqual([]);
    slow.release();
    expect((await inFlightGrpc).keyId).toBe("key_slow");
    expect((await inFlightHttp).keyId).toBe("key_slow");
    expect(await shutdown).toEqual({ forced: false, hookFailures: 0 });
    expect(hooks).toEqual(["closed with 2 finished"]);
    expect(slow.state.aborted).toBe(0);

    // Both ports are closed afterwards.
    await expect(fetch(`${test.httpBaseUrl}/healthz`)).rejects.toThrow();
    const late = createGrpcJsClient(Health, test.grpcAddress);
    const lateError = await grpcFailure(late.check({}, { deadlineMs: 1_000 }));
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(lateError.code);
    for (const client of [grpcVerify, grpcHealth, late]) {
      client.close();
    }
  });

  it("cancels calls that outlive SHUTDOWN_DRAIN_MS and reports a forced shutdown", async () => {
    const slow = slowVerify();
    const test = await startTestServer(database, {
      env: { SHUTDOWN_DRAIN_MS: "300" },
      services: { verify: slow.impl },
    });
    const grpcVerify = createGrpcJsClient(KeyVerifyService, test.grpcAddress);
    const httpVerify = createConnectClient(KeyVerifyService, test.httpBaseUrl, {
      protocol: "grpc",
      httpVersion: "2",
    });
    const grpcCall = grpcFailure(grpcVerify.verifyKey({ endpoint: "slow" }, { deadlineMs: 5_000 }));
    const httpCall = httpVerify
      .verifyKey({ endpoint: "slow" }, { timeoutMs: 5_000 })
      .catch((error: unknown) => error);
    await expect.poll(() => slow.state.entered, { timeout: 5_000 }).toBe(2);

    const result = await test.shutdown();
    expect(result).toEqual({ forced: true, hookFailures: 0 });
    expect(slow.state.aborted).toBe(2);
    expect(slow.state.finished).toBe(0);
    const grpcError = await grpcCall;
    expect([status.UNAVAILABLE, status.CANCELLED]).toContain(grpcError.code);
    const httpError = (await httpCall) as ConnectError;
    expect([Code.Unavailable, Code.Canceled]).toContain(httpError.code);
    slow.release();
    grpcVerify.close();
  });

  it("reports a failing close hook and still runs the others", async () => {
    const ran: string[] = [];
    const test = await startTestServer(database, {
      closeHooks: [
        {
          name: "broken",
          close: () => {
            throw new Error("flush failed");
          },
        },
        { name: "mongodb", close: () => void ran.push("mongodb") },
      ],
    });
    expect(await test.shutdown()).toEqual({ forced: false, hookFailures: 1 });
    expect(ran).toEqual(["mongodb"]);
    expect(
      test.logs.records().some((record) => record.msg === "close hook failed" && record.hook === "broken"),
    ).toBe(true);
  });
});
