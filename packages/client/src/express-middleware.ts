// Type-only imports: the library never loads express itself, so services without Express do not need it.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { formatEndpoint } from "./endpoint.js";
import {
  type ApiKeyAuthOptions,
  checkRouteOptions,
  createRequestVerifier,
  type RouteOptions,
  type VerifiedApiKey,
} from "./request-verifier.js";

declare global {
  namespace Express {
    interface Request {
      /** apiKey is the verified API key of the request, set by the apikeys middleware. */
      apiKey?: VerifiedApiKey | null;
    }
    interface Locals {
      /** apiKey is the verified API key of the request, set by the apikeys middleware. */
      apiKey?: VerifiedApiKey | null;
    }
  }
}

/**
 * ExpressApiKeyMiddleware makes the Express middleware that protects a route; call it once per route (or
 * once for `app.use`) with that route's options.
 */
export type ExpressApiKeyMiddleware = (route?: RouteOptions) => RequestHandler;

/**
 * createExpressMiddleware builds API key protection for Express 5. The returned function makes a
 * middleware per route: it verifies the request's key and either answers 401/403/503 itself (JSON body
 * `{ "error": …, "code": … }`, `WWW-Authenticate` on 401) or calls `next()` with the verified key on
 * `res.locals.apiKey` and `req.apiKey`.
 *
 * @example
 * const requireApiKey = createExpressMiddleware({ client: createVerifyClient({ address: "apikeys:50051" }) });
 * app.get("/api/orders", requireApiKey({ permissions: ["orders:read"] }), (req, res) => res.json(req.apiKey));
 */
export function createExpressMiddleware(options: ApiKeyAuthOptions): ExpressApiKeyMiddleware {
  const verifier = createRequestVerifier(options);
  return (route) => {
    const routeOptions = checkRouteOptions(route);
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const abort = new AbortController();
      const onClose = (): void => {
        if (!res.writableEnded) {
          abort.abort();
        }
      };
      res.once("close", onClose);
      try {
        const verdict = await verifier.verify(
          {
            headers: req.headers,
            clientIp: verifier.clientIpOf(req),
            endpoint: formatEndpoint(req.method, req.originalUrl),
            signal: abort.signal,
          },
          routeOptions,
        );
        if (verdict.outcome === "deny") {
          res.status(verdict.status).set(verdict.headers).json(verdict.body);
          return;
        }
        res.locals.apiKey = verdict.apiKey;
        req.apiKey = verdict.apiKey;
        next();
      } finally {
        res.off("close", onClose);
      }
    };
  };
}
