/**
 * startServer: both transports serving the same service implementations, health on both, reflection on
 * the gRPC port, and the one graceful-shutdown procedure SIGTERM, SIGINT and tests all use.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { type CallGate, createCallGate, SHUTTING_DOWN_MESSAGE } from "./call-gate.js";
import { createCallInterceptors } from "./call-interceptors.js";
import { createConnectContextValues } from "./connect-boundary.js";
import {
  createGrpcServer,
  type GrpcServiceRegistration,
  type GrpcTlsConfig,
  grpcService,
} from "./grpc-server.js";
import { createHealthService } from "./health-service.js";
import { createHealthStatus, type HealthStatus, ServingStatus } from "./health-status.js";
import { createHttpServer, type HttpTlsConfig, type NodeRequestHandler } from "./http-server.js";
import { type CallObserver, combineObservers, createRequestLog } from "./interceptors/request-log.js";
import { rpcMetricsInterceptor } from "./interceptors/rpc-metrics.js";
import type { CallTracing } from "./interceptors/tracing.js";
import { addStrictJsonService } from "./strict-json.js";
import { logUnreadRequests } from "./unread-request-log.js";

/** ServerConfig is the part of the service's configuration the two ports read. */
export interface ServerConfig {
  readonly grpc: { readonly host: string; readonly port: number; readonly tls: GrpcTlsConfig | null };
  readonly http: { readonly host: string; readonly port: number; readonly tls: HttpTlsConfig | null };
  readonly limits: {
    readonly maxMessageBytes: number;
    readonly maxDeadlineMs: number;
    readonly defaultDeadlineMs: number;
  };
  readonly mongo: { readonly serverSelectionTimeoutMs: number };
  readonly verifyCallerToken: string | null;
  readonly shutdownDrainMs: number;
}

/** ServiceImpls are the API's service implementations; a missing one answers UNIMPLEMENTED everywhere. */
export interface ServiceImpls {
  readonly verify?: Partial<ServiceImpl<typeof KeyVerifyService>>;
  readonly admin?: Partial<ServiceImpl<typeof KeyAdminService>>;
  readonly audit?: Partial<ServiceImpl<typeof AuditService>>;
}

/** CloseHook is one step of shutdown after the transports stopped (flush the audit buffer, close MongoDB). */
export interface CloseHook {
  readonly name: string;
  close(): Promise<void> | void;
}

interface ServerDeps {
  readonly logger: Logger;
  readonly services: ServiceImpls;
  /** readiness answers /readyz: true when MongoDB answers a ping. */
  readonly readiness: () => Promise<boolean>;
  /** metrics is the registry /metrics serves; the per-RPC metrics are registered on it. */
  readonly metrics: Registry;
  /** tracing starts a span per call on both ports; absent or null: no tracing interceptor at all. */
  readonly tracing?: CallTracing | null;
  /** closeHooks run in order. */
  readonly closeHooks?: readonly CloseHook[];
  /** observers are told about every finished call, besides the request log. */
  readonly observers?: readonly CallObserver[];
}

/** ShutdownResult says how shutdown went; main exits non-zero unless it was clean. */
export interface ShutdownResult {
  /** forced is true when in-flight calls did not finish within SHUTDOWN_DRAIN_MS and were cancelled. */
  readonly forced: boolean;
  /** hookFailures counts close hooks that threw (each is logged). */
  readonly hookFailures: number;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly health: HealthStatus;
  readonly gate: CallGate;
  /** shutdown runs the graceful shutdown (docs/architecture.md); later calls return the same promise. */
  shutdown(reason?: string): Promise<ShutdownResult>;
}

/** The API services, in the order they are registered and reported. */
const servedServices: readonly DescService[] = [KeyVerifyService, KeyAdminService, AuditService];

/** How long closing a transport may take once nothing is in flight (idle connections, GOAWAY). */
const TRANSPORT_CLOSE_GRACE_MS = 1_000;

/**
 * listenFailure says in one line, naming the variable, why a port could not be bound. grpc-js reports a
 * port in use only as "No address added out of total 1 resolved" with the cause in its text.
 */
function listenFailure(
  variable: string,
  address: { readonly host: string; readonly port: number },
  error: unknown,
): Error {
  const text =
    error instanceof Error ? `${String((error as NodeJS.ErrnoException).code)} ${error.message}` : "";
  const reason = /EADDRINUSE/.test(text)
    ? "the port is already in use"
    : /EACCES/.test(text)
      ? "permission denied (a port below 1024 needs privileges)"
      : /EADDRNOTAVAIL/.test(text)
        ? "the address is not one of this machine's"
        : "cannot listen";
  return new Error(`${variable}: cannot listen on ${address.host}:${address.port}: ${reason}`, {
    cause: error,
  });
}

/** startServer resolves once both ports listen and health says SERVING. */
export async function startServer(config: ServerConfig, deps: ServerDeps): Promise<RunningServer> {
  const { logger } = deps;
  const gate = createCallGate();
  const health = createHealthStatus(servedServices.map((service) => service.typeName));
  const requestLog = createRequestLog(logger.child({ component: "rpc" }), {
    quietMethods: [KeyVerifyService.method.verifyKey, Health.method.check, Health.method.watch],
  });
  const observer = combineObservers(requestLog, ...(deps.observers ?? []));
  const healthImpl = createHealthService(health);
  const rpcMetrics = rpcMetricsInterceptor(deps.metrics, [...servedServices, Health]);

  const interceptors = (verifyRefusal: string | null) =>
    createCallInterceptors({
      observer,
      rpcMetrics,
      tracing: deps.tracing ?? null,
      gate,
      defaultDeadlineMs: config.limits.defaultDeadlineMs,
      alwaysServe: [Health],
      callerCheck: { service: KeyVerifyService, token: config.verifyCallerToken, refusal: verifyRefusal },
    });
  const registrations: GrpcServiceRegistration[] = [
    grpcService(KeyVerifyService, deps.services.verify ?? {}),
    grpcService(KeyAdminService, deps.services.admin ?? {}),
    grpcService(AuditService, deps.services.audit ?? {}),
    grpcService(Health, healthImpl),
  ];

  const grpcServer = createGrpcServer({
    services: registrations,
    bridge: { interceptors: interceptors(null), maxDeadlineMs: config.limits.maxDeadlineMs },
    maxMessageBytes: config.limits.maxMessageBytes,
    tls: config.grpc.tls,
  });
  const grpcPort = await grpcServer.listen(config.grpc.host, config.grpc.port).catch((error: unknown) => {
    throw listenFailure("GRPC_PORT", config.grpc, error);
  });

  // Aborted only when the drain times out: connect-node then aborts every handler's signal.
  const forceController = new AbortController();
  const rpcHandler = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of registrations) {
        addStrictJsonService(router, service, impl as Partial<ServiceImpl<DescService>>);
      }
      // Requests connect-node refuses before the interceptors (unparsable, too large) are logged too.
      router.handlers.forEach((handler, index) => {
        router.handlers[index] = logUnreadRequests(handler, observer);
      });
    },
    // Who may call VerifyKey: the caller token on both ports when configured; with mutual TLS required on
    // the gRPC port, the plain-text HTTP port cannot offer the same proof, so VerifyKey is refused there.
    interceptors: interceptors(
      config.grpc.tls !== null && config.grpc.tls.clientCaFile !== null
        ? "VerifyKey requires mutual TLS: call it on the gRPC port"
        : null,
    ),
    readMaxBytes: config.limits.maxMessageBytes,
    writeMaxBytes: config.limits.maxMessageBytes,
    maxTimeoutMs: config.limits.maxDeadlineMs,
    shutdownSignal: forceController.signal,
    contextValues: createConnectContextValues(),
  }) as NodeRequestHandler;

  let shuttingDown: Promise<ShutdownResult> | undefined;
  const httpServer = createHttpServer({
    tls: config.http.tls,
    rpcHandler,
    readiness: deps.readiness,
    readinessTimeoutMs: Math.max(config.mongo.serverSelectionTimeoutMs, 500),
    shuttingDown: () => shuttingDown !== undefined,
    metrics: deps.metrics,
    logger,
  });

  const httpPort = await httpServer
    .listen(config.http.host, config.http.port)
    .catch(async (error: unknown) => {
      await grpcServer.close(0);
      throw listenFailure("HTTP_PORT", config.http, error);
    });
  health.setAll(ServingStatus.SERVING);
  logger.info(
    {
      host: config.grpc.host,
      port: grpcPort,
      tls: config.grpc.tls === null ? "off" : config.grpc.tls.clientCaFile === null ? "tls" : "mtls",
    },
    "grpc listening",
  );
  logger.info(
    { host: config.http.host, port: httpPort, tls: config.http.tls === null ? "off" : "tls" },
    "http listening",
  );

  const runShutdown = async (reason: string): Promise<ShutdownResult> => {
    logger.info({ reason, inFlight: gate.inFlight, drainMs: config.shutdownDrainMs }, "shutting down");
    health.setAll(ServingStatus.NOT_SERVING);
    gate.beginDrain();
    const drained = await gate.whenIdle(config.shutdownDrainMs);
    if (!drained) {
      logger.warn({ inFlight: gate.inFlight }, "drain time is up: cancelling the calls still in flight");
      forceController.abort(new ConnectError(SHUTTING_DOWN_MESSAGE, Code.Unavailable));
    }
    const grace = drained ? TRANSPORT_CLOSE_GRACE_MS : 0;
    await Promise.all([grpcServer.close(grace), httpServer.close(grace)]);
    let hookFailures = 0;
    for (const hook of deps.closeHooks ?? []) {
      try {
        await hook.close();
      } catch (error) {
        hookFailures++;
        logger.error({ err: error, hook: hook.name }, "close hook failed");
      }
    }
    logger.info({ forced: !drained, hookFailures }, "shutdown complete");
    return { forced: !drained, hookFailures };
  };

  return {
    grpcPort,
    httpPort,
    health,
    gate,
    shutdown(reason = "shutdown requested") {
      shuttingDown ??= runShutdown(reason);
      return shuttingDown;
    },
  };
}
