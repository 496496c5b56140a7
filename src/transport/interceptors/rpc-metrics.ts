/**
 * Per-RPC metrics on both ports, with the names and labels of the gRPC ecosystem's Prometheus interceptors
 * (go-grpc-prometheus, grpc-ecosystem/go-grpc-middleware), so dashboards and alerts written for any gRPC
 * service work unchanged:
 *
 *   grpc_server_started_total{grpc_service,grpc_method,grpc_type}
 *   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
 *   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type} (histogram)
 *
 * A call through the HTTP port (Connect, gRPC-Web, gRPC) counts like one through the gRPC port. Each method
 * has its slot of plain numbers, found by the method descriptor's identity and bumped in place; labels are
 * built only when /metrics is scraped (collected-metric.ts), so VerifyKey pays a map lookup, two clock reads
 * and a few additions.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import {
  createFastHistogram,
  type FastHistogram,
  registerCollectedMetric,
  type Sample,
} from "../../metrics/collected-metric.js";
import { reportAfter } from "./report-after.js";

/** HANDLING_BOUNDS_SECONDS are the handling-time buckets: 100 µs (a warm VerifyKey) to 10 s. */
export const HANDLING_BOUNDS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The status codes by number, OK included, named as gRPC names them ("OK", "NotFound", …). */
const CODE_COUNT = Code.Unauthenticated + 1;

function codeName(code: number): string {
  return code === 0 ? "OK" : (Code[code] ?? String(code));
}

/** MethodSlot holds one method's numbers. */
interface MethodSlot {
  readonly labels: Readonly<Record<string, string>>;
  started: number;
  readonly handled: Float64Array;
  readonly handling: FastHistogram;
}

function slotFor(method: DescMethod): MethodSlot {
  return {
    labels: {
      grpc_service: method.parent.typeName,
      grpc_method: method.name,
      grpc_type:
        method.methodKind === "unary" ? "unary" : method.methodKind.replace(/_streaming$/, "_stream"),
    },
    started: 0,
    handled: new Float64Array(CODE_COUNT),
    handling: createFastHistogram(HANDLING_BOUNDS_SECONDS),
  };
}

/**
 * rpcMetricsInterceptor registers the per-RPC metrics on `registry` and returns the interceptor that counts
 * every call of both ports. Every method of `services` is reported from the start (with zero counts), so a
 * rate over a method that has not been called yet is 0, not absent. Put it outermost with the request log,
 * so refusals of the interceptors inside it count as handled calls with their code.
 */
export function rpcMetricsInterceptor(registry: Registry, services: readonly DescService[]): Interceptor {
  const slots = new Map<DescMethod, MethodSlot>();
  for (const service of services) {
    for (const method of service.methods) {
      slots.set(method, slotFor(method));
    }
  }
  const slotOf = (method: DescMethod): MethodSlot => {
    let slot = slots.get(method);
    if (slot === undefined) {
      slot = slotFor(method);
      slots.set(method, slot);
    }
    return slot;
  };

  registerCollectedMetric(registry, {
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    type: "counter",
    collect: () => [...slots.values()].map((slot) => ({ labels: slot.labels, value: slot.started })),
  });
  registerCollectedMetric(registry, {
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    type: "counter",
    collect: () => {
      const samples: Sample[] = [];
      for (const slot of slots.values()) {
        slot.handled.forEach((count, code) => {
          if (count > 0 || code === 0) {
            samples.push({ labels: { ...slot.labels, grpc_code: codeName(code) }, value: count });
          }
        });
      }
      return samples;
    },
  });
  registerCollectedMetric(registry, {
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of RPCs handled by the server; a stream counts until it ends.",
    type: "histogram",
    collect: () =>
      [...slots.values()].flatMap((slot) =>
        slot.handling.samples("grpc_server_handling_seconds", slot.labels),
      ),
  });

  return (next) => async (req) => {
    const slot = slotOf(req.method);
    slot.started += 1;
    const startedAt = performance.now();
    let response: Awaited<ReturnType<typeof next>>;
    try {
      response = await next(req);
    } catch (thrown) {
      handled(slot, ConnectError.from(thrown).code, startedAt);
      throw thrown;
    }
    if (!response.stream) {
      handled(slot, 0, startedAt);
      return response;
    }
    return {
      ...response,
      message: reportAfter(response.message, (error) => handled(slot, error?.code ?? 0, startedAt)),
    };
  };
}

function handled(slot: MethodSlot, code: number, startedAt: number): void {
  slot.handled[code] = (slot.handled[code] as number) + 1;
  slot.handling.observe((performance.now() - startedAt) / 1000);
}
