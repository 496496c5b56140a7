/**
 * Guards: checks that run before every method of a service, on both transports, without the service
 * implementation knowing (for example the VerifyKey caller token).
 */
import { timingSafeEqual } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";

/** CallGuard throws a ConnectError when the call must not reach the service implementation. */
export type CallGuard = (context: HandlerContext) => void;

/** CALLER_TOKEN_HEADER is the metadata key that carries the shared VerifyKey caller token. */
export const CALLER_TOKEN_HEADER = "x-apikeys-caller-token";

/**
 * guardService returns `impl` with `guard` run before each of its methods (unary and streaming alike).
 * Methods `impl` lacks stay absent, so they still answer UNIMPLEMENTED.
 */
export function guardService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  guard: CallGuard,
): Partial<ServiceImpl<S>> {
  const guarded: Record<string, unknown> = {};
  for (const method of service.methods) {
    const original = (impl as Record<string, unknown>)[method.localName];
    if (typeof original !== "function") {
      continue;
    }
    const bound = original.bind(impl) as (request: unknown, context: HandlerContext) => unknown;
    guarded[method.localName] = (request: unknown, context: HandlerContext) => {
      guard(context);
      return bound(request, context);
    };
  }
  return guarded as Partial<ServiceImpl<S>>;
}

/**
 * callerTokenGuard requires the metadata `x-apikeys-caller-token` to equal `token` (compared in constant
 * time for a given length; the token's length is not secret). Missing or wrong → UNAUTHENTICATED.
 */
export function callerTokenGuard(token: string): CallGuard {
  const expected = Buffer.from(token, "utf8");
  const refusal = `a valid caller token is required in "${CALLER_TOKEN_HEADER}"`;
  return (context) => {
    const presented = context.requestHeader.get(CALLER_TOKEN_HEADER);
    if (presented === null) {
      throw new ConnectError(refusal, Code.Unauthenticated);
    }
    const bytes = Buffer.from(presented, "utf8");
    if (bytes.length !== expected.length || !timingSafeEqual(bytes, expected)) {
      throw new ConnectError(refusal, Code.Unauthenticated);
    }
  };
}

/** refuseAllGuard refuses every call with UNAUTHENTICATED and `message` (a service only reachable elsewhere). */
export function refuseAllGuard(message: string): CallGuard {
  return () => {
    throw new ConnectError(message, Code.Unauthenticated);
  };
}

/** combineGuards runs each guard in order. */
export function combineGuards(...guards: CallGuard[]): CallGuard {
  return (context) => {
    for (const guard of guards) {
      guard(context);
    }
  };
}

/** callerTokenGuarded is `impl` guarded by the caller token when one is configured, else `impl` itself. */
export function callerTokenGuarded<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  token: string | null,
): Partial<ServiceImpl<S>> {
  return token === null ? impl : guardService(service, impl, callerTokenGuard(token));
}
