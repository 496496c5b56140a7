/**
 * The call's deadline reaches the database: a unary call's handler runs under its absolute deadline — the
 * one the caller sent (grpc-timeout, connect-timeout-ms), else the server's default — which every database
 * operation it starts respects (src/domain/call-deadline.ts). So an answer never waits for the database
 * beyond the deadline, and no write is started after it. Server-streaming calls have no deadline to pass on.
 */
import type { Interceptor } from "@connectrpc/connect";
import { withCallDeadline } from "../../domain/call-deadline.js";
import { KeyVerifyService } from "../../gen/apikeys/v1/key_verify_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";

/**
 * WITHOUT_DATABASE_WORK are the services whose calls start no database operation of their own — VerifyKey
 * reads through the key cache, whose lookups have a budget of their own; health reads nothing — so they are
 * spared the context on the hot path.
 */
const WITHOUT_DATABASE_WORK: ReadonlySet<string> = new Set([KeyVerifyService.typeName, Health.typeName]);

/** GRPC_TIMEOUT_UNITS_MS are the milliseconds of each unit of a grpc-timeout header ("250m", "2S"). */
const GRPC_TIMEOUT_UNITS_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** timeoutOf reads the caller's timeout in milliseconds from the request headers, or undefined. */
function timeoutOf(header: Headers): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) {
    return Number(connect);
  }
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  return grpc === null ? undefined : Number(grpc[1]) * (GRPC_TIMEOUT_UNITS_MS[grpc[2] ?? ""] ?? 0);
}

/** callDeadlineInterceptor runs each unary call under its deadline (`defaultDeadlineMs` when it sent none). */
export function callDeadlineInterceptor(defaultDeadlineMs: number): Interceptor {
  return (next) => (req) => {
    if (req.stream || WITHOUT_DATABASE_WORK.has(req.service.typeName)) {
      return next(req);
    }
    const timeoutMs = timeoutOf(req.header) ?? defaultDeadlineMs;
    return withCallDeadline(Date.now() + timeoutMs, () => next(req));
  };
}
