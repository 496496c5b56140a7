import {
  Code,
  ConnectError,
  type ContextKey,
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
  type StreamRequest,
  type UnaryRequest,
} from "@connectrpc/connect";
import {
  compileTrustProxy,
  normalizeIp,
  resolveClientIp,
  type SocketRequest,
  type TrustProxySetting,
} from "./client-ip.js";
import { formatEndpoint } from "./endpoint.js";
import {
  type ApiKeyAuthOptions,
  checkRouteOptions,
  createRequestVerifier,
  type Denial,
  type RouteOptions,
  type VerifiedApiKey,
} from "./request-verifier.js";

/**
 * kApiKey is the context value key under which the Connect interceptor stores the verified API key; a
 * handler reads it with `context.values.get(kApiKey)` (null when the request was not verified).
 */
export const kApiKey: ContextKey<VerifiedApiKey | null> = createContextKey<VerifiedApiKey | null>(null, {
  description: "apikeys: verified API key",
});

/**
 * kClientIp is the context value key holding the end user's IP address for the Connect interceptor
 * ("" when unknown). Fill it with createConnectContextValues, or set it in your own `contextValues`.
 */
export const kClientIp: ContextKey<string> = createContextKey<string>("", {
  description: "apikeys: end user's IP address",
});

/**
 * ConnectRouteOptions selects the RouteOptions of a procedure: a map keyed by procedure path
 * ("/acme.orders.v1.OrderService/CreateOrder") or a function of the request. `false` leaves the procedure
 * unprotected; a procedure the selection does not mention is protected with no required permission.
 */
export type ConnectRouteOptions =
  | Readonly<Record<string, RouteOptions | false>>
  | ((request: UnaryRequest | StreamRequest) => RouteOptions | false | undefined);

/** ConnectInterceptorOptions configure createConnectInterceptor. */
export interface ConnectInterceptorOptions extends Omit<ApiKeyAuthOptions, "trustProxy"> {
  /** routes gives per-procedure options (required permissions, unavailable policy, or false for public). */
  readonly routes?: ConnectRouteOptions;
  /**
   * clientIpOf returns the end user's IP address of a call ("" when unknown). Default: the kClientIp
   * context value (see createConnectContextValues).
   */
  readonly clientIpOf?: (request: UnaryRequest | StreamRequest) => string;
}

const statusCodes: Readonly<Record<Denial["status"], Code>> = {
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  500: Code.Internal,
  503: Code.Unavailable,
};

/**
 * createConnectInterceptor builds a server interceptor for @connectrpc/connect routers that verifies the
 * API key of every call (headers Authorization / X-API-Key / accessKey+secretKey), with the end user's IP
 * from the kClientIp context value and the endpoint "POST /package.Service/Method". A refused call fails
 * with UNAUTHENTICATED (401-class, with a WWW-Authenticate header), PERMISSION_DENIED (403-class),
 * UNAVAILABLE (service unreachable) or INTERNAL; an accepted one has kApiKey set for the handler.
 *
 * @example
 * const interceptor = createConnectInterceptor({ client: createVerifyClient({ address: "apikeys:50051" }) });
 * connectNodeAdapter({ routes, interceptors: [interceptor], contextValues: createConnectContextValues() });
 */
export function createConnectInterceptor(options: ConnectInterceptorOptions): Interceptor {
  const verifier = createRequestVerifier(options);
  const routes = options.routes ?? {};
  const clientIpOf =
    options.clientIpOf ?? ((request: UnaryRequest | StreamRequest) => request.contextValues.get(kClientIp));
  const checked = new Map<string, RouteOptions | false>();
  const routeOf = (request: UnaryRequest | StreamRequest): RouteOptions | false => {
    const procedure = `/${request.service.typeName}/${request.method.name}`;
    if (typeof routes === "function") {
      const selected = routes(request);
      return selected === false ? false : checkRouteOptions(selected);
    }
    let route = checked.get(procedure);
    if (route === undefined) {
      const selected = routes[procedure];
      route = selected === false ? false : checkRouteOptions(selected);
      checked.set(procedure, route);
    }
    return route;
  };

  return (next) => async (request) => {
    const route = routeOf(request);
    if (route === false) {
      return next(request);
    }
    const verdict = await verifier.verify(
      {
        headers: request.header,
        clientIp: normalizeIp(clientIpOf(request)),
        endpoint: formatEndpoint(request.requestMethod, request.url),
        signal: request.signal,
      },
      route,
    );
    if (verdict.outcome === "deny") {
      throw new ConnectError(
        `${verdict.body.error}: ${verdict.body.code}`,
        statusCodes[verdict.status],
        verdict.headers,
      );
    }
    request.contextValues.set(kApiKey, verdict.apiKey);
    return next(request);
  };
}

/** ConnectContextValuesOptions configure createConnectContextValues. */
export interface ConnectContextValuesOptions {
  /** trustProxy says which peers may set X-Forwarded-For; default false (socket peer only). */
  readonly trustProxy?: TrustProxySetting;
  /** extend adds the service's own context values. */
  readonly extend?: (request: SocketRequest, values: ContextValues) => void;
}

/**
 * createConnectContextValues makes the `contextValues` function for connectNodeAdapter that resolves the
 * end user's IP (socket peer, or X-Forwarded-For through trusted proxies only) into kClientIp.
 */
export function createConnectContextValues(
  options: ConnectContextValuesOptions = {},
): (request: SocketRequest) => ContextValues {
  const trust = compileTrustProxy(options.trustProxy);
  return (request) => {
    const values = createContextValues();
    values.set(kClientIp, resolveClientIp(request, trust));
    options.extend?.(request, values);
    return values;
  };
}
