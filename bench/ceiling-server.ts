/**
 * The benchmark's ceiling: the service's own gRPC transport doing no work. A grpc-js server built exactly as
 * the service builds its gRPC port (createGrpcServer: the project's generated messages, the grpc-js bridge,
 * the call gate, the same interceptors with the request log and the per-RPC metrics, the same limits from the
 * same configuration, health and reflection), whose
 * VerifyKey handler answers one fixed, realistic VALID response to whatever it receives. Whatever
 * throughput the real service loses against it is the cost of actually verifying.
 *
 * Benchmark-only: never part of the product. Run by bench/verify-bench.ts as a child process:
 *   node --import tsx bench/ceiling-server.ts      (GRPC_PORT, LOG_LEVEL... from the environment)
 * It prints "CEILING_PORT=<port>" once listening and stops on SIGTERM/SIGINT.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Registry } from "prom-client";
import {
  KeyVerifyService,
  VerificationCode,
  VerifyKeyResponseSchema,
} from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import { Health } from "../src/gen/grpc/health/v1/health_pb.js";
import { loadConfig } from "../src/server/config.js";
import { createLogger } from "../src/server/logger.js";
import { createCallGate } from "../src/transport/call-gate.js";
import { createCallInterceptors } from "../src/transport/call-interceptors.js";
import { createGrpcServer } from "../src/transport/grpc-server.js";
import { createHealthService } from "../src/transport/health-service.js";
import { createHealthStatus, ServingStatus } from "../src/transport/health-status.js";
import { combineObservers, createRequestLog } from "../src/transport/interceptors/request-log.js";
import { rpcMetricsInterceptor } from "../src/transport/interceptors/rpc-metrics.js";

const config = loadConfig(process.env);
const logger = createLogger(config);

// The answer: CEILING_RESPONSE (a serialized VerifyKeyResponse, base64), which the benchmark takes from the
// service's own answer to a typical request; otherwise a realistic VALID response of the same shape.
const FIXED_RESPONSE =
  process.env.CEILING_RESPONSE === undefined || process.env.CEILING_RESPONSE === ""
    ? create(VerifyKeyResponseSchema, {
        valid: true,
        code: VerificationCode.VALID,
        httpStatus: 200,
        keyId: `${config.keys.prefix}Ab3xK9pLm3RtY8wQ`,
        tenantId: "acme",
        name: "bench key 0042",
        userId: "user-0042",
        groupId: "",
        permissions: ["orders:read", "orders:write"],
        expireTime: timestampFromDate(new Date(Date.now() + 365 * 86_400_000)),
        secretGeneration: 1,
        secretSuperseded: false,
      })
    : fromBinary(VerifyKeyResponseSchema, Buffer.from(process.env.CEILING_RESPONSE, "base64"));

const health = createHealthStatus([KeyVerifyService.typeName]);
const requestLog = createRequestLog(logger.child({ component: "rpc" }), {
  quietMethods: [KeyVerifyService.method.verifyKey, Health.method.check, Health.method.watch],
});
const server = createGrpcServer({
  services: [
    { service: KeyVerifyService, impl: { verifyKey: () => FIXED_RESPONSE } },
    { service: Health, impl: createHealthService(health) },
  ],
  bridge: {
    interceptors: createCallInterceptors({
      observer: combineObservers(requestLog),
      // The per-RPC metrics every call of the service's ports passes through (prom-client registry included).
      rpcMetrics: rpcMetricsInterceptor(new Registry(), [KeyVerifyService, Health]),
      gate: createCallGate(),
      defaultDeadlineMs: config.limits.defaultDeadlineMs,
      alwaysServe: [Health],
    }),
    maxDeadlineMs: config.limits.maxDeadlineMs,
  },
  maxMessageBytes: config.limits.maxMessageBytes,
  tls: null,
});

const port = await server.listen(config.grpc.host, config.grpc.port);
health.setAll(ServingStatus.SERVING);
process.stdout.write(`CEILING_PORT=${port}\n`);

const stop = () => {
  server.close(0).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
