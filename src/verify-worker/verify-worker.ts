/**
 * The verify worker: the thread that serves the gRPC port (see docs/architecture.md, "The verify worker").
 *
 * Why a thread of its own. VerifyKey is the hot path, and a V8 isolate that also runs the MongoDB driver,
 * the HTTP port, the admin use cases and the audit pipeline serves the same gRPC calls ~10% slower than one
 * that runs nothing else (measured in docs/bench.md: shared inline caches of Node's streams and events turn
 * megamorphic, and every garbage collection walks the larger heap). So this thread holds only the gRPC
 * transport and verification: its own KeyCache and KeyVerifier, and no database client. It asks the main
 * thread for what only the main thread has:
 *
 * - cache misses and last-used writes are calls over the port (findKey, findGroup, recordLastUsed);
 * - usage events go over in batches (usage-relay.ts) into the process's one audit sink;
 * - KeyAdminService and AuditService calls on the port are relayed to the main thread's internal gRPC
 *   server on a private Unix socket (src/rpc/grpc-relay.ts);
 * - log lines go to the main thread's log destination.
 *
 * Invalidations come the other way: the main thread posts every notice its own cache applies, then bumps a
 * counter in shared memory. Every verification compares that counter first and, when it moved, handles the
 * messages waiting on the port before it looks anything up (catch-up-source.ts). So a change made on this
 * replica takes effect here before the admin RPC that made it has answered, with no round trip: one atomic
 * load per call.
 */
import type { MessagePort } from "node:worker_threads";
import { Client, credentials } from "@grpc/grpc-js";
import { createKeyVerifier } from "../domain/key-verifier.js";
import type { Clock } from "../domain/ports.js";
import { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { createVerifyCounters } from "../metrics/verify-counters.js";
import { createCallGate } from "../rpc/call-gate.js";
import { createGrpcRelayHandlers } from "../rpc/grpc-relay.js";
import { createHealthService } from "../rpc/health-service.js";
import { createHealthStatus, ServingStatus } from "../rpc/health-status.js";
import { createKeyVerifyHandler } from "../rpc/key-verify-handler.js";
import { createRequestLog } from "../rpc/request-log.js";
import { callerTokenGuarded } from "../rpc/service-guard.js";
import { installNodeTextEncoding } from "../rpc/text-encoding.js";
import { createGrpcServer, grpcService } from "../server/grpc-server.js";
import { createLogger } from "../server/logger.js";
import {
  keyCacheSettingsOf,
  keyDigestMatcherOf,
  keyFormatOf,
  keyHasherOf,
} from "../server/verification-config.js";
import { createKeyCache } from "../verify/key-cache.js";
import { createVerifyUsageRecorder } from "../verify/usage-recorder.js";
import { createCatchUpSource } from "./catch-up-source.js";
import { createPortChannel, type PortChannel } from "./port-channel.js";
import { createUsageRelay } from "./usage-relay.js";
import {
  fromProcessClock,
  type MainCalls,
  type MainNotes,
  SHARED_SLOTS,
  type VerifyWorkerData,
  type WorkerCalls,
  type WorkerNotes,
} from "./verify-worker-protocol.js";

/** USAGE_BATCH_EVENTS is the most usage events in one batch to the main thread. */
const USAGE_BATCH_EVENTS = 2_048;

/** USAGE_BATCH_WAIT_MS is how long a partial usage batch waits before it goes to the main thread. */
const USAGE_BATCH_WAIT_MS = 100;

const systemClock: Clock = { now: () => new Date() };

/** runVerifyWorker builds the worker's side on `port` (the worker's parentPort) and serves the main thread. */
export function runVerifyWorker(data: VerifyWorkerData, port: MessagePort): void {
  const { config } = data;
  const shared = new Int32Array(data.shared);
  installNodeTextEncoding();

  // Handlers run only once messages are dispatched (the listener is added last), by then all is built.
  const channel: PortChannel<MainCalls, MainNotes> = createPortChannel<
    MainCalls,
    MainNotes,
    WorkerCalls,
    WorkerNotes
  >(port, {
    calls: {
      listen: () => listen(),
      whenIdle: (timeoutMs) => gate.whenIdle(timeoutMs),
      close: (graceMs) => close(graceMs),
      stats: () => ({
        verify: counters.snapshot(),
        cache: cache.stats(),
        lastUsed: usage.stats(),
        usage: relay.stats(),
        inFlight: gate.inFlight,
      }),
    },
    notes: {
      invalidate(notice) {
        if (notice.kind === "group") {
          cache.invalidateGroup(notice.id);
        } else {
          cache.invalidateKey(notice.id);
        }
      },
      invalidateAll: () => cache.invalidateAll(),
      fresh: (asOf) => cache.markFeedFresh(fromProcessClock(asOf)),
      health: (status) => health.setAll(status),
      drain() {
        health.setAll(ServingStatus.NOT_SERVING);
        gate.beginDrain();
      },
    },
    onHandlerError: (error, op) => log.error({ err: error, op }, "verify worker could not handle a message"),
  });
  const logger = createLogger(config, {
    destination: { write: (line: string) => channel.note("log", line) },
  });
  const log = logger.child({ component: "verify-worker" });

  const cache = createKeyCache({
    ...keyCacheSettingsOf(config),
    keys: { findById: (id) => channel.call("findKey", id) },
    groups: { findById: (id) => channel.call("findGroup", id) },
    onLookupError: (error, what) => log.warn({ err: error, what }, "verification lookup failed"),
  });
  const relay = createUsageRelay({
    post: (batch, transfer) => channel.note("usage", batch, transfer),
    taken: () => Atomics.load(shared, SHARED_SLOTS.usageEventsTaken),
    batchSize: USAGE_BATCH_EVENTS,
    maxBufferedEvents: config.audit.bufferMaxEvents,
    flushIntervalMs: USAGE_BATCH_WAIT_MS,
  });
  const usage = createVerifyUsageRecorder({
    events: relay,
    keys: {
      recordLastUsed: (entries) => channel.call("recordLastUsed", entries),
    },
    lastUsedIntervalMs: config.usage.lastUsedWriteIntervalMs,
    onError: (error, keys) => log.warn({ err: error, keys }, "last-used write failed; retrying"),
  });
  const counters = createVerifyCounters();

  const source = createCatchUpSource({
    source: cache,
    shared,
    port,
    dispatch: (message) => channel.dispatch(message),
  });
  const verifier = createKeyVerifier({
    format: keyFormatOf(config),
    hasher: keyHasherOf(config),
    matcher: keyDigestMatcherOf(config),
    source,
    clock: systemClock,
    usage,
    observer: counters,
  });

  const health = createHealthStatus([
    KeyVerifyService.typeName,
    KeyAdminService.typeName,
    AuditService.typeName,
  ]);
  const gate = createCallGate();
  const upstream = new Client(`unix:${data.relaySocket}`, credentials.createInsecure(), {
    "grpc.max_receive_message_length": config.limits.maxMessageBytes,
    "grpc.max_send_message_length": config.limits.maxMessageBytes,
  });
  const server = createGrpcServer({
    services: [
      grpcService(
        KeyVerifyService,
        callerTokenGuarded(KeyVerifyService, createKeyVerifyHandler(verifier), config.verifyCallerToken),
      ),
      grpcService(Health, createHealthService(health), { refuseWhenDraining: false }),
    ],
    relays: [KeyAdminService, AuditService].map((service) => ({
      service,
      handlers: createGrpcRelayHandlers(service, { upstream, gate }),
    })),
    bridge: {
      observer: createRequestLog(logger.child({ component: "rpc" }), {
        quietMethods: [KeyVerifyService.method.verifyKey, Health.method.check, Health.method.watch],
      }),
      gate,
      defaultDeadlineMs: config.limits.defaultDeadlineMs,
      maxDeadlineMs: config.limits.maxDeadlineMs,
    },
    maxMessageBytes: config.limits.maxMessageBytes,
    tls: config.grpc.tls,
  });

  async function listen(): Promise<number> {
    const bound = await server.listen(config.grpc.host, config.grpc.port);
    usage.start();
    return bound;
  }

  async function close(graceMs: number): Promise<void> {
    await server.close(graceMs);
    upstream.close();
    await usage.close();
    relay.close();
  }

  port.on("message", (message: unknown) => channel.dispatch(message));
}
