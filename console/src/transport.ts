/** The Connect transport to this origin's API, carrying the signed-in key as a Bearer token. */
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { signedInKey } from "./session.js";

const withBearer: Interceptor = (next) => (request) => {
  const key = signedInKey();
  if (key !== null) {
    request.header.set("authorization", `Bearer ${key}`);
  }
  return next(request);
};

/** createApiTransport speaks Connect (binary) to the service that served the page: same origin, no CORS. */
export function createApiTransport(): Transport {
  return createConnectTransport({
    baseUrl: window.location.origin,
    useBinaryFormat: true,
    interceptors: [withBearer],
  });
}
