import {
  type Client,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AuditService } from "./gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "./gen/apikeys/v1/key_admin_service_pb.js";

/** AdminProtocol is how the admin client talks to the service: gRPC to the gRPC port, or Connect to the HTTP port. */
export type AdminProtocol = "grpc" | "connect";

/** AdminClientOptions configure createAdminClient. */
export interface AdminClientOptions {
  /**
   * baseUrl is the service's address as a URL: the gRPC port ("http://localhost:50051", the default
   * protocol) or the HTTP port with protocol "connect" ("http://localhost:8080"). https:// means TLS.
   */
  readonly baseUrl: string;
  /** protocol is "grpc" (HTTP/2, the default) or "connect" (Connect JSON over HTTP/1.1). */
  readonly protocol?: AdminProtocol;
  /**
   * adminKey is sent as "authorization: Bearer <key>" on every call. Omit it only for Bootstrap. It is a
   * secret: the client never logs it.
   */
  readonly adminKey?: string;
  /** interceptors run on every call after the admin key is set (request ids, tracing, logging). */
  readonly interceptors?: readonly Interceptor[];
}

/** AdminClient holds typed clients of the two admin services, sharing one transport. */
export interface AdminClient {
  /** keys calls KeyAdminService: Bootstrap, keys, groups, tenants. */
  readonly keys: Client<typeof KeyAdminService>;
  /** audit calls AuditService: usage logs, admin history, the live audit stream. */
  readonly audit: Client<typeof AuditService>;
}

/**
 * createAdminClient makes typed KeyAdminService and AuditService clients. Requests are plain objects
 * (`keys.createKey({ tenantId: "acme", name: "ERP" })`); answers are the generated message types, and
 * failures are ConnectErrors with the service's gRPC code. Give unary calls a deadline of their own
 * (`{ timeoutMs: 10_000 }`): the transport sets none, so the audit stream can stay open.
 *
 * Every change is sent with a request id: the one the request carries, else a new UUID. A change that failed
 * (a deadline, UNAVAILABLE) may still have been applied; retry it with the id the error names, and the
 * service applies it at most once: `keys.createKey({ ...request, requestId: requestIdOf(error) })`.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const transport = adminTransport(options);
  return { keys: createClient(KeyAdminService, transport), audit: createClient(AuditService, transport) };
}

function adminTransport(options: AdminClientOptions): Transport {
  const adminKey = options.adminKey;
  if (adminKey !== undefined && !/^[\x21-\x7e]+$/.test(adminKey)) {
    // Never echo the value: a mistyped key is still a secret.
    throw new TypeError("adminKey contains characters that cannot be sent in a header");
  }
  const interceptors: Interceptor[] = [requestIdInterceptor];
  if (adminKey !== undefined) {
    interceptors.push((next) => (request) => {
      request.header.set("authorization", `Bearer ${adminKey}`);
      return next(request);
    });
  }
  interceptors.push(...(options.interceptors ?? []));
  if (options.protocol === "connect") {
    return createConnectTransport({
      baseUrl: options.baseUrl,
      httpVersion: "1.1",
      interceptors,
    });
  }
  return createGrpcTransport({
    baseUrl: options.baseUrl,
    interceptors,
    // HTTP/2 PINGs notice a dead connection under a long-lived audit stream.
    pingIntervalMs: 10_000,
    pingTimeoutMs: 5_000,
  });
}

/** REQUEST_ID_METADATA is the error metadata entry that names the request id a failed change was sent with. */
export const REQUEST_ID_METADATA = "apikeys-request-id";

/**
 * requestIdInterceptor gives every change (a request with a request_id field) an id when it has none, and
 * names the id on the change's error, so a retry can send the same one.
 */
const requestIdInterceptor: Interceptor = (next) => async (request) => {
  if (request.stream || !request.method.input.fields.some((field) => field.name === "request_id")) {
    return next(request);
  }
  const sent = request.message as { readonly requestId?: string };
  const requestId = sent.requestId || globalThis.crypto.randomUUID();
  try {
    // A copy: the caller's request object is left as it was.
    const message = { ...request.message, requestId } as typeof request.message;
    return await next(sent.requestId === requestId ? request : { ...request, message });
  } catch (error) {
    if (error instanceof ConnectError) {
      error.metadata.set(REQUEST_ID_METADATA, requestId);
    }
    throw error;
  }
};

/** requestIdOf returns the request id a failed change was sent with (undefined for anything else). */
export function requestIdOf(error: unknown): string | undefined {
  return error instanceof ConnectError ? (error.metadata.get(REQUEST_ID_METADATA) ?? undefined) : undefined;
}
