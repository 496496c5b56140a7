/**
 * VerifyWorkerHost: the main thread's side of the verify worker (verify-worker.ts). It starts the worker,
 * answers its calls (key and group lookups, last-used writes) with the main thread's repositories, emits its
 * usage batches into the process's one audit sink, writes its log lines, mirrors every invalidation of the
 * main thread's cache into it, and drives its part of startup and shutdown.
 *
 * The worker answers metrics at scrape time (snapshot). The audit accounting of the whole process is read
 * at one instant: the sink's counters are taken while the worker's answer is dispatched, and the port
 * delivers in order, so every batch the worker posted before answering has been emitted into the sink by
 * then — emitted = persisted + dropped + buffered holds for the sum.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type DestinationStream, type Logger, pino } from "pino";
import { UnavailableError } from "../domain/errors.js";
import type { AuditSink, GroupRepository, KeyRepository } from "../domain/ports.js";
import type { AuditBufferCounters } from "../metrics/verify-metrics.js";
import type { ServingStatus } from "../rpc/health-status.js";
import type { Config } from "../server/config.js";
import { createEventIdSource } from "../verify/event-ids.js";
import { UsageEvent, type UsageEventOrigin } from "../verify/usage-event.js";
import type { CacheMirror, VerificationRuntime } from "../verify/verification-runtime.js";
import { createPortChannel, type PortChannel } from "./port-channel.js";
import { createUsageBatchDecoder, type UsageBatch, type UsageEventVisitor } from "./usage-batch.js";
import {
  type MainCalls,
  type MainNotes,
  SHARED_BYTES,
  SHARED_SLOTS,
  toProcessClock,
  type VerifyWorkerData,
  type VerifyWorkerStats,
  type WorkerCalls,
  type WorkerNotes,
} from "./verify-worker-protocol.js";

/** VerifyWorkerHostOptions are what the main thread lends the worker. */
export interface VerifyWorkerHostOptions {
  readonly config: Config;
  /** logger's destination receives the worker's log lines. */
  readonly logger: Logger;
  readonly keys: Pick<KeyRepository, "findById" | "recordLastUsed">;
  readonly groups: Pick<GroupRepository, "findById">;
  /** sink receives the worker's usage events: the process's one audit sink. */
  readonly sink: AuditSink;
  /** sinkCounters reads the sink's accounting (taken at the instant a worker snapshot arrives). */
  readonly sinkCounters?: () => AuditBufferCounters;
  /** replica names this process in usage events. */
  readonly replica: string;
  /** runtime is the main thread's verification side, whose invalidations the worker's cache mirrors. */
  readonly runtime: Pick<VerificationRuntime, "mirror">;
  /** onFailure hears about a worker that stopped while it was meant to serve (the process should exit). */
  readonly onFailure?: (error: Error) => void;
}

/** VerifyWorkerSnapshot is the worker's figures plus the sink's counters at the same instant. */
export interface VerifyWorkerSnapshot {
  readonly worker: VerifyWorkerStats;
  readonly sink: AuditBufferCounters | null;
}

/** VerifyWorkerHost runs the verify worker. */
export interface VerifyWorkerHost {
  /** start starts the worker, which binds the gRPC port; resolves with the bound port. */
  start(relaySocket: string): Promise<number>;
  /** setHealth sets the serving status of every service on the gRPC port. */
  setHealth(status: ServingStatus): void;
  /** drain starts the worker's shutdown: health NOT_SERVING, new calls refused with UNAVAILABLE. */
  drain(): void;
  /** whenIdle resolves true once the worker has no call in flight, false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** close closes the gRPC port (open calls get `graceMs`), takes what the worker still holds, and ends it. */
  close(graceMs: number): Promise<void>;
  /** snapshot reads the worker's figures; null when it is not running. */
  snapshot(): Promise<VerifyWorkerSnapshot | null>;
}

/** WORKER_CLOSE_MS bounds how long close waits for the worker to flush what it holds. */
const WORKER_CLOSE_MS = 10_000;

/** logDestinationOf is the stream `logger` writes to (child loggers share their root's). */
function logDestinationOf(logger: Logger): DestinationStream {
  const stream = (logger as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  if (stream === undefined) {
    throw new Error("the logger has no destination stream");
  }
  return stream;
}

/**
 * spawnVerifyWorker starts the thread. Compiled (dist/*.js) the entry is plain JavaScript; from source
 * (npm start, tests) the worker first registers tsx's loader, as `node --import tsx` does for the main
 * thread (Node 20 does not carry loader hooks into workers).
 */
function spawnVerifyWorker(data: VerifyWorkerData): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(`./verify-worker-main.${fromSource ? "ts" : "js"}`, import.meta.url);
  if (!fromSource) {
    return new Worker(entry, { workerData: data });
  }
  // tsx's ES module API (require.resolve finds the CommonJS twin next to it).
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  );
  const bootstrap = `import(${JSON.stringify(tsx.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/** createVerifyWorkerHost builds the host; nothing runs until start. */
export function createVerifyWorkerHost(options: VerifyWorkerHostOptions): VerifyWorkerHost {
  const { config, keys, groups } = options;
  const log = options.logger.child({ component: "verify-worker" });
  const destination = logDestinationOf(options.logger);
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const slots = new Int32Array(shared);
  const decoder = createUsageBatchDecoder();
  const { sink } = options;
  const origin: UsageEventOrigin = { replica: options.replica, ids: createEventIdSource() };
  const emitUsage: UsageEventVisitor = (at, tenantId, keyId, endpoint, clientIp, code, httpStatus) => {
    sink.emit(new UsageEvent(origin, at, tenantId, keyId, endpoint, clientIp, code, httpStatus));
  };
  let worker: Worker | null = null;
  let channel: PortChannel<WorkerCalls, WorkerNotes> | null = null;
  let stopMirroring: (() => void) | null = null;
  let stopping = false;
  let pendingSnapshot: Promise<VerifyWorkerSnapshot> | null = null;

  const signalInvalidation = () => {
    Atomics.add(slots, SHARED_SLOTS.invalidationEpoch, 1);
  };
  // Post first, then signal: a worker that sees the new epoch finds the notice already on its port.
  const mirror: CacheMirror = {
    invalidateKey(keyId) {
      channel?.note("invalidate", { kind: "key", id: keyId });
      signalInvalidation();
    },
    invalidateGroup(groupId) {
      channel?.note("invalidate", { kind: "group", id: groupId });
      signalInvalidation();
    },
    invalidateAll() {
      channel?.note("invalidateAll", undefined);
      signalInvalidation();
    },
    markFeedFresh(asOf) {
      // Every report goes (one per poll, 10 a second by default): besides bounding how long the worker trusts
      // its entries, it ends the worker's fast-fail period after a failed lookup, as it does in-process.
      channel?.note("fresh", toProcessClock(asOf));
    },
  };

  function takeUsage(batch: UsageBatch): void {
    try {
      decoder.decode(batch, emitUsage);
    } finally {
      Atomics.add(slots, SHARED_SLOTS.usageEventsTaken, batch.count);
    }
  }

  function failed(error: Error): void {
    if (stopping) {
      return;
    }
    stopping = true;
    log.fatal({ err: error }, "the verify worker stopped unexpectedly");
    options.onFailure?.(error);
  }

  return {
    async start(relaySocket) {
      if (worker !== null) {
        throw new Error("the verify worker is already started");
      }
      const started = spawnVerifyWorker({ config, relaySocket, shared });
      worker = started;
      const open = createPortChannel<WorkerCalls, WorkerNotes, MainCalls, MainNotes>(started, {
        calls: {
          findKey: (id) => keys.findById(id),
          findGroup: (id) => groups.findById(id),
          recordLastUsed: (entries) => keys.recordLastUsed(entries),
        },
        notes: {
          usage: takeUsage,
          log: (line) => destination.write(line),
        },
        onHandlerError: (error, op) =>
          log.error({ err: error, op }, "could not handle a verify worker message"),
      });
      channel = open;
      started.on("message", (message: unknown) => open.dispatch(message));
      // Before the port opens: the worker's cache is empty until then, and misses nothing from now on.
      stopMirroring = options.runtime.mirror(mirror);
      const ended = new Promise<never>((_, reject) => {
        const stopped = (error: Error) => {
          open.close(new UnavailableError("the verify worker stopped"));
          reject(error);
          failed(error);
        };
        started.on("error", stopped);
        started.on("exit", (code: number) =>
          stopped(new Error(`the verify worker exited with code ${code}`)),
        );
      });
      ended.catch(() => undefined);
      return Promise.race([open.call("listen", undefined), ended]);
    },
    setHealth(status) {
      channel?.note("health", status);
    },
    drain() {
      channel?.note("drain", undefined);
    },
    async whenIdle(timeoutMs) {
      if (channel === null) {
        return true;
      }
      return channel.call("whenIdle", timeoutMs).catch(() => true);
    },
    async close(graceMs) {
      const running = worker;
      const open = channel;
      stopping = true;
      if (running === null || open === null) {
        return;
      }
      let bound: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          open.call("close", graceMs),
          new Promise<void>((resolve) => {
            bound = setTimeout(resolve, WORKER_CLOSE_MS + graceMs);
          }),
        ]);
      } catch (error) {
        log.warn({ err: error }, "the verify worker did not close cleanly");
      } finally {
        clearTimeout(bound);
        stopMirroring?.();
        stopMirroring = null;
        open.close(new UnavailableError("the verify worker stopped"));
        channel = null;
        await running.terminate();
      }
    },
    snapshot() {
      const open = channel;
      if (open === null) {
        return Promise.resolve(null);
      }
      pendingSnapshot ??= open
        .call("stats", undefined, (stats) => ({ worker: stats, sink: options.sinkCounters?.() ?? null }))
        .finally(() => {
          pendingSnapshot = null;
        });
      return pendingSnapshot.catch(() => null);
    },
  };
}
