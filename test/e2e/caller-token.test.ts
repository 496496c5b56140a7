/**
 * The shared caller token against the REAL service started with VERIFY_CALLER_TOKEN: a client configured
 * with the token verifies keys through every adapter; one without it (or with a wrong one) is refused by the
 * service, and the adapters answer 500 VERIFY_FAILED (Connect: INTERNAL) — a misconfiguration, not an
 * outage, so it is never let through, not even on a route that fails open.
 */
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConnectContextValues,
  createConnectInterceptor,
} from "../../packages/client/src/connect-interceptor.js";
import { createExpressMiddleware } from "../../packages/client/src/express-middleware.js";
import { createFastifyHook } from "../../packages/client/src/fastify-hook.js";
import { VerifyCallError } from "../../packages/client/src/verify-call-error.js";
import { createVerifyClient, type VerifyClient } from "../../packages/client/src/verify-client.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { CLIENT_DEADLINE_MS, useVerifyFixture } from "../client/helpers/verify-fixture.js";

const CALLER_TOKEN = "e2e-caller-token-0123456789abcdef";
const fixture = useVerifyFixture("callertoken", { env: { VERIFY_CALLER_TOKEN: CALLER_TOKEN } });

type Variant = "with the token" | "without a token" | "with a wrong token";
const variants: Variant[] = ["with the token", "without a token", "with a wrong token"];

function clientFor(variant: Variant): VerifyClient {
  const address = fixture.current.address;
  switch (variant) {
    case "with the token":
      return createVerifyClient({ address, callerToken: CALLER_TOKEN, deadlineMs: CLIENT_DEADLINE_MS });
    case "without a token":
      return createVerifyClient({ address, deadlineMs: CLIENT_DEADLINE_MS });
    case "with a wrong token":
      return createVerifyClient({
        address,
        callerToken: "not-the-caller-token-000000",
        deadlineMs: CLIENT_DEADLINE_MS,
      });
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.each(variants)("a calling service %s", (variant) => {
  const accepted = variant === "with the token";
  let client: VerifyClient;
  const reported: Error[] = [];
  let expressUrl: string;
  let expressServer: Server;
  let fastify: FastifyInstance;
  let fastifyUrl: string;
  let connectServer: Server;
  let connectUrl: string;

  beforeAll(async () => {
    client = clientFor(variant);
    const options = { client, onVerifyError: (error: Error) => reported.push(error) };

    const app = express();
    const requireApiKey = createExpressMiddleware(options);
    app.get("/orders", requireApiKey(), (req, res) => res.json({ keyId: req.apiKey?.keyId ?? null }));
    app.get("/fail-open", requireApiKey({ onUnavailable: "allow" }), (req, res) =>
      res.json({ keyId: req.apiKey?.keyId ?? null }),
    );
    expressServer = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => expressServer.once("listening", resolve));
    expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;

    fastify = Fastify();
    fastify.get("/orders", { onRequest: createFastifyHook(options)() }, async (request) => ({
      keyId: request.apiKey?.keyId ?? null,
    }));
    fastifyUrl = await fastify.listen({ port: 0, host: "127.0.0.1" });

    connectServer = createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(Health, {
            check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
            async *watch() {
              yield { status: HealthCheckResponse_ServingStatus.SERVING };
            },
          }),
        interceptors: [createConnectInterceptor(options)],
        contextValues: createConnectContextValues(),
      }),
    );
    connectUrl = await listen(connectServer);
  });
  afterAll(async () => {
    expressServer?.closeAllConnections();
    await new Promise((resolve) => expressServer?.close(resolve));
    await fastify?.close();
    connectServer?.closeAllConnections();
    await new Promise((resolve) => connectServer?.close(resolve));
    client?.close();
  });

  it(
    accepted ? "verifies keys directly" : "gets UNAUTHENTICATED (kind rejected) from VerifyKey",
    async () => {
      const { valid } = fixture.current.keys;
      const outcome = await client
        .verify({ credential: { kind: "key", key: valid.whole } })
        .catch((error: unknown) => error);
      if (accepted) {
        expect(outcome).toMatchObject({ valid: true, keyId: valid.keyId });
      } else {
        expect(outcome).toBeInstanceOf(VerifyCallError);
        expect(outcome).toMatchObject({ grpcCode: status.UNAUTHENTICATED, kind: "rejected" });
        expect(String((outcome as Error).message)).not.toContain(valid.secretKey);
      }
    },
  );

  it(
    accepted ? "Express and Fastify answer 200" : "Express and Fastify answer 500 VERIFY_FAILED",
    async () => {
      const { valid } = fixture.current.keys;
      for (const url of [`${expressUrl}/orders`, `${fastifyUrl}/orders`]) {
        const response = await fetch(url, { headers: { authorization: `Bearer ${valid.whole}` } });
        const body = (await response.json()) as Record<string, unknown>;
        if (accepted) {
          expect(response.status).toBe(200);
          expect(body).toEqual({ keyId: valid.keyId });
        } else {
          expect(response.status).toBe(500);
          expect(body).toEqual({ error: "internal_error", code: "VERIFY_FAILED" });
          expect(response.headers.get("www-authenticate")).toBeNull();
        }
      }
    },
  );

  it(
    accepted ? "a fail-open route admits with the key" : "a fail-open route still refuses (500)",
    async () => {
      const { valid } = fixture.current.keys;
      const response = await fetch(`${expressUrl}/fail-open`, { headers: { "x-api-key": valid.whole } });
      expect(response.status).toBe(accepted ? 200 : 500);
      if (accepted) {
        expect(await response.json()).toEqual({ keyId: valid.keyId });
      }
    },
  );

  it(
    accepted ? "the Connect interceptor admits the call" : "the Connect interceptor fails with INTERNAL",
    async () => {
      const { valid } = fixture.current.keys;
      const health = createClient(
        Health,
        createConnectTransport({ baseUrl: connectUrl, httpVersion: "1.1" }),
      );
      const outcome = await health
        .check({}, { headers: { "x-api-key": valid.whole } })
        .catch((error: unknown) => error);
      if (accepted) {
        expect(outcome).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
      } else {
        expect(outcome).toBeInstanceOf(ConnectError);
        expect((outcome as ConnectError).code).toBe(Code.Internal);
        expect((outcome as ConnectError).rawMessage).toBe("internal_error: VERIFY_FAILED");
      }
    },
  );

  it(
    accepted ? "reports no VerifyKey failure" : "reports each failure to onVerifyError, without the key",
    () => {
      if (accepted) {
        expect(reported).toEqual([]);
        return;
      }
      expect(reported.length).toBeGreaterThanOrEqual(4);
      for (const error of reported) {
        expect(error).toMatchObject({ name: "VerifyCallError", grpcCode: status.UNAUTHENTICATED });
        expect(error.message).not.toContain(fixture.current.keys.valid.secretKey);
      }
    },
  );
});
