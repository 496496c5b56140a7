// Type-only imports: the library never loads fastify itself, so services without Fastify do not need it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { formatEndpoint } from "./endpoint.js";
import {
  type ApiKeyAuthOptions,
  checkRouteOptions,
  createRequestVerifier,
  type RequestVerifier,
  type RouteOptions,
  type VerifiedApiKey,
} from "./request-verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    /** apiKey is the verified API key of the request, set by the apikeys hook; null before or without it. */
    apiKey: VerifiedApiKey | null;
  }
  interface FastifyContextConfig {
    /**
     * apiKeyAuth configures the apikeys plugin for this route: its RouteOptions, or false to leave the
     * route unprotected (health checks, public pages).
     */
    apiKeyAuth?: RouteOptions | false;
  }
}

/** FastifyApiKeyHook is an onRequest/preHandler hook that protects a route. */
export type FastifyApiKeyHook = (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>;

/** FastifyApiKeyHookFactory makes the hook of a route from that route's options. */
export type FastifyApiKeyHookFactory = (route?: RouteOptions) => FastifyApiKeyHook;

/**
 * createFastifyHook builds API key protection for Fastify 5 as a hook factory: pass the hook as a route's
 * `onRequest` (or to `addHook("onRequest", …)`). The hook verifies the request's key and either answers
 * 401/403/503 itself or lets the route run with `request.apiKey` set.
 *
 * @example
 * const requireApiKey = createFastifyHook({ client: createVerifyClient({ address: "apikeys:50051" }) });
 * app.get("/api/orders", { onRequest: requireApiKey({ permissions: ["orders:read"] }) }, (req) => req.apiKey);
 */
export function createFastifyHook(options: ApiKeyAuthOptions): FastifyApiKeyHookFactory {
  const verifier = createRequestVerifier(options);
  return (route) => {
    const routeOptions = checkRouteOptions(route);
    return (request, reply) => runHook(verifier, routeOptions, request, reply);
  };
}

async function runHook(
  verifier: RequestVerifier,
  route: RouteOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const verdict = await verifier.verify(
    {
      headers: request.headers,
      clientIp: verifier.clientIpOf(request.raw),
      endpoint: formatEndpoint(request.method, request.url),
    },
    route,
  );
  if (verdict.outcome === "deny") {
    // Returning the reply after send() stops Fastify from running the route (async hook contract).
    return reply.code(verdict.status).headers(verdict.headers).send(verdict.body);
  }
  request.apiKey = verdict.apiKey;
  return undefined;
}

/**
 * fastifyApiKeyPlugin protects every route of the Fastify instance it is registered on (it is not
 * encapsulated, like plugins wrapped with fastify-plugin). A route sets its RouteOptions in
 * `config.apiKeyAuth`, or `config: { apiKeyAuth: false }` to stay public.
 *
 * @example
 * await app.register(fastifyApiKeyPlugin, { client: createVerifyClient({ address: "apikeys:50051" }) });
 * app.post("/api/orders", { config: { apiKeyAuth: { permissions: ["orders:write"] } } }, handler);
 */
export const fastifyApiKeyPlugin = Object.assign(
  async (instance: FastifyInstance, options: ApiKeyAuthOptions): Promise<void> => {
    const verifier = createRequestVerifier(options);
    if (!instance.hasRequestDecorator("apiKey")) {
      instance.decorateRequest("apiKey", null);
    }
    const checked = new WeakMap<object, RouteOptions>();
    instance.addHook("onRequest", async (request, reply) => {
      const config = request.routeOptions.config.apiKeyAuth;
      if (config === false) {
        return undefined;
      }
      let route: RouteOptions = {};
      if (config !== undefined) {
        route = checked.get(config) ?? checkRouteOptions(config);
        checked.set(config, route);
      }
      return runHook(verifier, route, request, reply);
    });
  },
  {
    // What fastify-plugin sets: run in the registering scope instead of a child context.
    [Symbol.for("skip-override")]: true,
    [Symbol.for("fastify.display-name")]: "apikeys",
  },
);
