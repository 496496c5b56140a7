import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
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
  const interceptors: Interceptor[] = [];
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
