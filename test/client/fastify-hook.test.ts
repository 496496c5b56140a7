import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createFastifyHook, fastifyApiKeyPlugin } from "../../packages/client/src/fastify-hook.js";
import { createVerifyClient } from "../../packages/client/src/verify-client.js";
import { describeHttpAdapter } from "./helpers/http-adapter-contract.js";
import {
  CLIENT_DEADLINE_MS,
  GRANTED_PERMISSION,
  MISSING_PERMISSION,
  useVerifyFixture,
} from "./helpers/verify-fixture.js";

const fixture = useVerifyFixture("fastify");

describeHttpAdapter("Fastify 5 hook", fixture, async ({ client, trustProxy }) => {
  const app = Fastify();
  const requireApiKey = createFastifyHook(trustProxy === undefined ? { client } : { client, trustProxy });
  const echo = async (request: { apiKey: unknown }) => ({ apiKey: request.apiKey ?? null });
  app.get("/open", { onRequest: requireApiKey() }, echo);
  app.get("/read", { onRequest: requireApiKey({ permissions: [GRANTED_PERMISSION] }) }, echo);
  app.post("/orders", { onRequest: requireApiKey({ permissions: [MISSING_PERMISSION] }) }, echo);
  app.get("/fail-open", { onRequest: requireApiKey({ onUnavailable: "allow" }) }, echo);
  app.get("/public", echo);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
});

describeHttpAdapter("Fastify 5 plugin (route config)", fixture, async ({ client, trustProxy }) => {
  const app = Fastify();
  await app.register(fastifyApiKeyPlugin, trustProxy === undefined ? { client } : { client, trustProxy });
  const echo = async (request: { apiKey: unknown }) => ({ apiKey: request.apiKey });
  app.get("/open", echo);
  app.get("/read", { config: { apiKeyAuth: { permissions: [GRANTED_PERMISSION] } } }, echo);
  app.post("/orders", { config: { apiKeyAuth: { permissions: [MISSING_PERMISSION] } } }, echo);
  app.get("/fail-open", { config: { apiKeyAuth: { onUnavailable: "allow" } } }, echo);
  app.get("/public", { config: { apiKeyAuth: false } }, echo);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
});

describe("fastifyApiKeyPlugin registration", () => {
  it("protects routes of the registering scope (not encapsulated) and survives double registration", async () => {
    const { address, keys } = fixture.current;
    const client = createVerifyClient({ address, deadlineMs: CLIENT_DEADLINE_MS });
    const app = Fastify();
    try {
      await app.register(fastifyApiKeyPlugin, { client });
      await app.register(fastifyApiKeyPlugin, { client });
      app.get("/x", async (request) => ({ keyId: request.apiKey?.keyId ?? null }));
      const denied = await app.inject({ method: "GET", url: "/x" });
      expect(denied.statusCode).toBe(401);
      const allowed = await app.inject({
        method: "GET",
        url: "/x",
        headers: { "x-api-key": keys.valid.whole },
      });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json()).toEqual({ keyId: keys.valid.keyId });
    } finally {
      await app.close();
      client.close();
    }
  });

  it("rejects invalid route options when the route is declared", () => {
    const requireApiKey = createFastifyHook({ client: createVerifyClient({ address: "127.0.0.1:1" }) });
    expect(() => requireApiKey({ permissions: [""] })).toThrow(TypeError);
    expect(() => requireApiKey({ onUnavailable: "maybe" as "allow" })).toThrow(TypeError);
  });
});
