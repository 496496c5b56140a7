import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ConnectRouter, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConnectContextValues,
  createConnectInterceptor,
  kApiKey,
  kClientIp,
} from "../../packages/client/src/connect-interceptor.js";
import type { VerifiedApiKey } from "../../packages/client/src/request-verifier.js";
import { createVerifyClient, type VerifyClient } from "../../packages/client/src/verify-client.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import {
  ALLOWED_IP,
  CLIENT_DEADLINE_MS,
  FIXTURE_TENANT,
  GRANTED_PERMISSION,
  MISSING_PERMISSION,
  useVerifyFixture,
  VALID_KEY_LABELS,
  type VerifyFixture,
} from "./helpers/verify-fixture.js";

// The real apikeys service on this file's database, with keys made through its admin API.
const fixtureHandle = useVerifyFixture("connect");

// The protected application service is grpc.health.v1.Health: Check requires GRANTED_PERMISSION and Watch
// (server streaming) requires MISSING_PERMISSION.
const CHECK = "/grpc.health.v1.Health/Check";
const WATCH = "/grpc.health.v1.Health/Watch";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function healthClient(baseUrl: string, headers: Record<string, string>) {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    interceptors: [
      (next) => (request) => {
        for (const [name, value] of Object.entries(headers)) {
          request.header.set(name, value);
        }
        return next(request);
      },
    ],
  });
  return createClient(Health, transport);
}

describe("Connect interceptor: a connect-node server protected by the real VerifyKey service", () => {
  let fixture: VerifyFixture;
  let client: VerifyClient;
  let server: Server;
  let baseUrl: string;
  const seen: { apiKey: VerifiedApiKey | null; clientIp: string }[] = [];

  beforeAll(async () => {
    fixture = fixtureHandle.current;
    client = createVerifyClient({ address: fixture.address, deadlineMs: CLIENT_DEADLINE_MS });
    const routes = (router: ConnectRouter) =>
      router.service(Health, {
        async check(_request, context) {
          seen.push({ apiKey: context.values.get(kApiKey), clientIp: context.values.get(kClientIp) });
          return { status: HealthCheckResponse_ServingStatus.SERVING };
        },
        async *watch() {
          yield { status: HealthCheckResponse_ServingStatus.SERVING };
        },
      });
    const handler = connectNodeAdapter({
      routes,
      interceptors: [
        createConnectInterceptor({
          client,
          routes: {
            [CHECK]: { permissions: [GRANTED_PERMISSION] },
            [WATCH]: { permissions: [MISSING_PERMISSION] },
          },
        }),
      ],
      contextValues: createConnectContextValues({ trustProxy: "loopback" }),
    });
    server = createServer(handler);
    baseUrl = await listen(server);
  });
  afterAll(async () => {
    await close(server);
    client.close();
  });

  it("admits a valid key and exposes it and the client IP through context values", async () => {
    const before = seen.length;
    const response = await healthClient(baseUrl, {
      authorization: `Bearer ${fixture.keys.valid.whole}`,
      "x-forwarded-for": ALLOWED_IP,
    }).check({});
    expect(response.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(seen[before]?.apiKey).toMatchObject({
      keyId: fixture.keys.valid.keyId,
      tenantId: FIXTURE_TENANT,
      labels: VALID_KEY_LABELS,
    });
    expect(seen[before]?.clientIp).toBe(ALLOWED_IP);
  });

  it("admits the two-header form and the allowlisted key through the trusted proxy", async () => {
    await expect(
      healthClient(baseUrl, {
        accessKey: fixture.keys.valid.keyId,
        secretKey: fixture.keys.valid.secretKey,
      }).check({}),
    ).resolves.toBeDefined();
    await expect(
      healthClient(baseUrl, {
        "x-api-key": fixture.keys.ipRestricted.whole,
        "x-forwarded-for": ALLOWED_IP,
      }).check({}),
    ).resolves.toBeDefined();
  });

  it.each([
    ["no credential", {}, Code.Unauthenticated],
    ["an unknown key", { "x-api-key": "ak_test_unknown_key_AbCdEf" }, Code.Unauthenticated],
    ["a revoked key", { "x-api-key": "revoked" }, Code.Unauthenticated],
    ["an expired key", { "x-api-key": "expired" }, Code.Unauthenticated],
    ["a disabled key", { "x-api-key": "disabled" }, Code.Unauthenticated],
    ["an allowlisted key from elsewhere", { "x-api-key": "ipRestricted" }, Code.PermissionDenied],
  ])("refuses %s", async (_label, rawHeaders, code) => {
    const headers: Record<string, string> = { ...rawHeaders };
    // A scenario name stands for that fixture key's whole key.
    const scenario = headers["x-api-key"];
    if (scenario !== undefined && Object.hasOwn(fixture.keys, scenario)) {
      headers["x-api-key"] = fixture.keys[scenario as keyof VerifyFixture["keys"]].whole;
    }
    const error = await healthClient(baseUrl, headers)
      .check({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(code);
  });

  it("refuses a streaming call whose key lacks the procedure's permission", async () => {
    const stream = healthClient(baseUrl, { "x-api-key": fixture.keys.valid.whole }).watch({});
    const error = await (async () => {
      for await (const _ of stream) {
        // no message may arrive
      }
    })().catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    expect((error as ConnectError).rawMessage).toBe("forbidden: INSUFFICIENT_PERMISSIONS");
  });

  it("answers HTTP 401 with WWW-Authenticate over the Connect protocol", async () => {
    const response = await fetch(`${baseUrl}${CHECK}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": fixture.unknownKey },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    expect(await response.json()).toMatchObject({
      code: "unauthenticated",
      message: "unauthorized: NOT_FOUND",
    });
  });

  it("fails UNAVAILABLE while the VerifyKey service is down", async () => {
    await fixture.makeUnavailable();
    try {
      const error = await healthClient(baseUrl, { "x-api-key": fixture.keys.valid.whole })
        .check({})
        .catch((e: unknown) => e);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
    } finally {
      await fixture.makeAvailable();
    }
  });
});

describe("Connect interceptor route selection", () => {
  it("leaves procedures selected as false alone and protects the others", async () => {
    const fixture = fixtureHandle.current;
    const client = createVerifyClient({ address: fixture.address, deadlineMs: CLIENT_DEADLINE_MS });
    const server = createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(Health, {
            check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
            async *watch() {
              yield { status: HealthCheckResponse_ServingStatus.SERVING };
            },
          }),
        interceptors: [
          createConnectInterceptor({
            client,
            routes: (request) => (request.method.name === "Check" ? false : undefined),
          }),
        ],
      }),
    );
    const baseUrl = await listen(server);
    try {
      await expect(healthClient(baseUrl, {}).check({})).resolves.toBeDefined();
      const error = await (async () => {
        for await (const _ of healthClient(baseUrl, {}).watch({})) {
          // no message may arrive
        }
      })().catch((e: unknown) => e);
      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
    } finally {
      await close(server);
      client.close();
    }
  });
});

describe("Connect interceptor client IP option", () => {
  it("takes the end user's IP from clientIpOf when given", async () => {
    const fixture = fixtureHandle.current;
    const client = createVerifyClient({ address: fixture.address, deadlineMs: CLIENT_DEADLINE_MS });
    const server = createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(Health, {
            check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
            async *watch() {
              yield { status: HealthCheckResponse_ServingStatus.SERVING };
            },
          }),
        interceptors: [
          createConnectInterceptor({
            client,
            clientIpOf: (request) => request.header.get("x-edge-client-ip") ?? "",
          }),
        ],
      }),
    );
    const baseUrl = await listen(server);
    try {
      const key = { "x-api-key": fixture.keys.ipRestricted.whole };
      await expect(
        healthClient(baseUrl, { ...key, "x-edge-client-ip": ALLOWED_IP }).check({}),
      ).resolves.toBeDefined();
      const elsewhere = await healthClient(baseUrl, { ...key, "x-edge-client-ip": "198.51.100.1" })
        .check({})
        .catch((e: unknown) => e);
      expect((elsewhere as ConnectError).code).toBe(Code.PermissionDenied);
      const garbage = await healthClient(baseUrl, { ...key, "x-edge-client-ip": "not an ip" })
        .check({})
        .catch((e: unknown) => e);
      expect((garbage as ConnectError).code, "an unparsable address counts as unknown: fail closed").toBe(
        Code.PermissionDenied,
      );
    } finally {
      await close(server);
      client.close();
    }
  });
});
