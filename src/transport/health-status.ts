/**
 * The in-process health status registry behind grpc.health.v1.Health: the overall status ("") plus one
 * status per served service, with change notifications for Watch.
 */
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";

type HealthStatusListener = (status: ServingStatus) => void;

export interface HealthStatus {
  /** get returns the status of `service`, or undefined when the service is unknown. */
  get(service: string): ServingStatus | undefined;
  /** set changes one service's status (registering it if new) and notifies its watchers on change. */
  set(service: string, status: ServingStatus): void;
  /** setAll changes the status of every registered service, the overall "" included. */
  setAll(status: ServingStatus): void;
  /** watch calls `listener` on every change of `service`'s status; the returned function stops it. */
  watch(service: string, listener: HealthStatusListener): () => void;
}

/** createHealthStatus registers "" and `services`, all NOT_SERVING until the server has started. */
export function createHealthStatus(services: readonly string[]): HealthStatus {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.NOT_SERVING]]);
  for (const service of services) {
    statuses.set(service, ServingStatus.NOT_SERVING);
  }
  const listeners = new Map<string, Set<HealthStatusListener>>();
  const set = (service: string, status: ServingStatus) => {
    const previous = statuses.get(service);
    statuses.set(service, status);
    if (previous !== status) {
      for (const listener of listeners.get(service) ?? []) {
        listener(status);
      }
    }
  };
  return {
    get: (service) => statuses.get(service),
    set,
    setAll(status) {
      for (const service of [...statuses.keys()]) {
        set(service, status);
      }
    },
    watch(service, listener) {
      let forService = listeners.get(service);
      if (forService === undefined) {
        forService = new Set();
        listeners.set(service, forService);
      }
      forService.add(listener);
      return () => {
        forService.delete(listener);
        if (forService.size === 0) {
          listeners.delete(service);
        }
      };
    },
  };
}

export { ServingStatus };
