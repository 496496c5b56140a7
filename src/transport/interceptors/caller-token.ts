/**
 * Who may call a service (VerifyKey), checked before its handler runs, on both transports, without the
 * service implementation knowing: the shared caller token when one is configured, or a refusal of every call
 * on a port that cannot offer the proof the other port requires (mutual TLS).
 */
import { timingSafeEqual } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** CALLER_TOKEN_HEADER is the metadata key that carries the shared VerifyKey caller token. */
export const CALLER_TOKEN_HEADER = "x-apikeys-caller-token";

/** CallerCheck says what calls of one service must show. */
export interface CallerCheck {
  readonly service: DescService;
  /** token, when set, must be sent in `x-apikeys-caller-token` (compared in constant time for its length). */
  readonly token: string | null;
  /** refusal, when set, refuses every call with UNAUTHENTICATED and this message. */
  readonly refusal: string | null;
}

/** callerTokenInterceptor checks the calls of `check.service`; other services pass untouched. */
export function callerTokenInterceptor(check: CallerCheck): Interceptor {
  const expected = check.token === null ? null : Buffer.from(check.token, "utf8");
  const missing = `a valid caller token is required in "${CALLER_TOKEN_HEADER}"`;
  return (next) => (req) => {
    if (req.service === check.service) {
      if (check.refusal !== null) {
        throw new ConnectError(check.refusal, Code.Unauthenticated);
      }
      if (expected !== null) {
        const presented = Buffer.from(req.header.get(CALLER_TOKEN_HEADER) ?? "", "utf8");
        if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
          throw new ConnectError(missing, Code.Unauthenticated);
        }
      }
    }
    return next(req);
  };
}
