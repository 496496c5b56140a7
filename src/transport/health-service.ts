/**
 * grpc.health.v1.Health served from the in-process status registry, with the standard semantics: Check of
 * an unknown service is NOT_FOUND; Watch of an unknown service sends SERVICE_UNKNOWN and keeps watching;
 * Watch sends the current status at once and then every change.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Health } from "../gen/grpc/health/v1/health_pb.js";
import { type HealthStatus, ServingStatus } from "./health-status.js";

export function createHealthService(status: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check(request) {
      const current = status.get(request.service);
      if (current === undefined) {
        throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      }
      return { status: current };
    },
    async *watch(request, context) {
      const pending: ServingStatus[] = [];
      let wake: (() => void) | undefined;
      const stop = status.watch(request.service, (next) => {
        pending.push(next);
        wake?.();
      });
      const onAbort = () => wake?.();
      context.signal.addEventListener("abort", onAbort);
      try {
        let last = status.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        yield { status: last };
        while (true) {
          // Send every change that is already queued (a NOT_SERVING at shutdown included) before stopping.
          while (pending.length > 0) {
            const next = pending.shift() as ServingStatus;
            if (next !== last) {
              last = next;
              yield { status: next };
            }
          }
          if (context.signal.aborted) {
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        stop();
        context.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
