/**
 * Transport benchmark: the cost of the generic grpc-js bridge (src/rpc/grpc-js-bridge.ts) over raw grpc-js
 * handlers, for two calls:
 * - health: grpc.health.v1.Health/Check (an empty-ish call). Raw: a handler answering pre-encoded bytes.
 * - verify: KeyVerifyService/VerifyKey answering a fixed response. Raw: a handler that encodes that response
 *   with protobuf-es on every call, as any grpc-js + protobuf-es handler must.
 * Bridge: the same answers from connect-es ServiceImpl objects served through the bridge. h2load drives
 * raw and bridge alternately with identical settings; medians are compared.
 *
 *   npx tsx bench/bridge-bench.ts [--rounds 5] [--requests 100000] [--clients 8] [--streams 16]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Metadata, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import {
  KeyVerifyService,
  VerificationCode,
  VerifyKeyRequestSchema,
  VerifyKeyResponseSchema,
} from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../src/gen/grpc/health/v1/health_pb.js";
import { createCallGate } from "../src/transport/call-gate.js";
import { createCallInterceptors } from "../src/transport/call-interceptors.js";
import {
  addServiceToGrpcServer,
  createGrpcDefinition,
  createGrpcServiceHandlers,
  type GrpcBridgeOptions,
} from "../src/transport/grpc-js-bridge.js";
import type { CallObserver } from "../src/transport/interceptors/request-log.js";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const rounds = option("rounds", 5);
const requests = option("requests", 100_000);
const clients = option("clients", 8);
const streams = option("streams", 16);

const response = create(VerifyKeyResponseSchema, {
  valid: true,
  code: VerificationCode.VALID,
  httpStatus: 200,
  keyId: "ak_live_7gQ2kX9pLm3RtY8w",
  tenantId: "tenant-1",
  name: "bench key",
  permissions: ["products:read", "orders:read"],
});

const healthResponseBytes = Buffer.from(
  toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status: ServingStatus.SERVING })),
);

async function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) =>
      error === null ? resolve(port) : reject(error),
    );
  });
}

/** The ceiling: grpc-js with hand-written handlers. */
async function startRawServer(): Promise<number> {
  const server = new Server();
  server.addService(createGrpcDefinition(KeyVerifyService), {
    verifyKey: (_call: ServerUnaryCall<unknown, Buffer>, callback: sendUnaryData<Buffer>) =>
      callback(null, Buffer.from(toBinary(VerifyKeyResponseSchema, response))),
  });
  server.addService(createGrpcDefinition(Health), {
    check: (_call: ServerUnaryCall<unknown, Buffer>, callback: sendUnaryData<Buffer>) =>
      callback(null, healthResponseBytes),
  });
  return listen(server);
}

/** bridgeOptions are the service's interceptors around a request log that writes nothing. */
function bridgeOptions(): GrpcBridgeOptions {
  const observer: CallObserver = { callEnded: () => undefined };
  const gate = createCallGate();
  return {
    interceptors: createCallInterceptors({
      observer,
      gate,
      defaultDeadlineMs: 10_000,
      alwaysServe: [Health],
    }),
    maxDeadlineMs: 30_000,
  };
}

/** The bridge: connect-es ServiceImpl objects answering the same, served through the generic bridge. */
async function startBridgeServer(): Promise<number> {
  const server = new Server();
  const options = bridgeOptions();
  addServiceToGrpcServer(server, KeyVerifyService, { verifyKey: () => response }, options);
  addServiceToGrpcServer(server, Health, { check: () => ({ status: ServingStatus.SERVING }) }, options);
  return listen(server);
}

function frameFile(name: string, message: Uint8Array): string {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  const path = join(mkdtempSync(join(tmpdir(), "bridge-bench-")), name);
  writeFileSync(path, frame);
  return path;
}

const verifyFile = frameFile(
  "verify.grpc",
  toBinary(
    VerifyKeyRequestSchema,
    create(VerifyKeyRequestSchema, {
      credential: { case: "key", value: "ak_live_7gQ2kX9pLm3RtY8wAbCdEfGhJkMnPqRsTuVw" },
      clientIp: "203.0.113.7",
      endpoint: "GET /api/products",
    }),
  ),
);
const healthFile = frameFile(
  "health.grpc",
  toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema)),
);

/** h2load runs h2load asynchronously (the servers live in this process, so its event loop must stay free). */
function h2load(port: number, path: string, dataFile: string, count: number): Promise<number> {
  const args = [
    ...["-n", String(count), "-c", String(clients), "-m", String(streams), "-t", "1", "-d", dataFile],
    ...["-H", "content-type: application/grpc", "-H", "te: trailers"],
    `http://127.0.0.1:${port}${path}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("h2load", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", () =>
      reject(new Error("h2load not found: install it with `apt-get install nghttp2-client`")),
    );
    child.on("close", () => {
      const succeeded = /(\d+) succeeded/.exec(stdout);
      const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
      if (succeeded === null || rps === null || Number(succeeded[1]) !== count) {
        reject(new Error(`h2load failed:\n${stdout}\n${stderr}`));
      } else {
        resolve(Number(rps[1]));
      }
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * handlerOverhead measures, in process and without a network, what the bridge adds per call over a raw
 * handler that encodes the same response: steadier than h2load on a shared machine. The fake call carries
 * only what the bridge reads.
 */
async function handlerOverhead(): Promise<string> {
  const handlers = createGrpcServiceHandlers(
    KeyVerifyService,
    { verifyKey: async () => response },
    bridgeOptions(),
  );
  const bridged = handlers.verifyKey as (
    call: unknown,
    callback: (error: null, value?: Buffer) => void,
  ) => void;
  const call = {
    request: create(VerifyKeyRequestSchema),
    metadata: new Metadata(),
    cancelled: false,
    getDeadline: () => Number.POSITIVE_INFINITY,
    getPeer: () => "127.0.0.1:1",
    once: () => undefined,
    on: () => undefined,
    sendMetadata: () => undefined,
  };
  let answered = 0;
  const callback = (_error: null, _value?: Buffer) => {
    answered++;
  };
  const raw = () => callback(null, Buffer.from(toBinary(VerifyKeyResponseSchema, response)));
  const measure = async (fn: () => void): Promise<number> => {
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) {
      const start = process.hrtime.bigint();
      for (let index = 0; index < 100_000; index++) {
        fn();
        if (index % 1000 === 999) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
      samples.push(Number(process.hrtime.bigint() - start) / 100_000);
    }
    return median(samples);
  };
  const rawNs = await measure(raw);
  const bridgeNs = await measure(() => bridged(call, callback));
  if (answered !== 1_000_000) {
    throw new Error(`expected 1000000 answers, got ${answered}`);
  }
  return `handler_raw_ns=${rawNs.toFixed(0)} handler_bridge_ns=${bridgeNs.toFixed(0)}`;
}

const overhead = await handlerOverhead();
console.log(`in-process handler cost per VerifyKey call: ${overhead}`);

const rawPort = await startRawServer();
const bridgePort = await startBridgeServer();
const cases = [
  { name: "health", path: "/grpc.health.v1.Health/Check", file: healthFile },
  { name: "verify", path: "/apikeys.v1.KeyVerifyService/VerifyKey", file: verifyFile },
];
const summary: string[] = [];
for (const { name, path, file } of cases) {
  // Warm both servers (JIT) before measuring.
  await h2load(rawPort, path, file, 20_000);
  await h2load(bridgePort, path, file, 20_000);
  const raw: number[] = [];
  const bridge: number[] = [];
  const rawCpu: number[] = [];
  const bridgeCpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [port, rps, cpu] of [
      [rawPort, raw, rawCpu],
      [bridgePort, bridge, bridgeCpu],
    ] as const) {
      // Server CPU per request is steadier than rps on a shared machine: other load slows h2load too.
      const before = process.cpuUsage();
      rps.push(await h2load(port, path, file, requests));
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / requests);
    }
    console.log(
      `${name} round ${round + 1}: raw ${raw.at(-1)?.toFixed(0)} rps (${rawCpu.at(-1)?.toFixed(1)} cpu-us/req), ` +
        `bridge ${bridge.at(-1)?.toFixed(0)} rps (${bridgeCpu.at(-1)?.toFixed(1)} cpu-us/req)`,
    );
  }
  const rawMedian = median(raw);
  const bridgeMedian = median(bridge);
  summary.push(
    `${name}_raw_rps=${rawMedian.toFixed(0)} ${name}_bridge_rps=${bridgeMedian.toFixed(0)} ` +
      `${name}_ratio=${(bridgeMedian / rawMedian).toFixed(3)} ` +
      `${name}_raw_cpu_us=${median(rawCpu).toFixed(1)} ${name}_bridge_cpu_us=${median(bridgeCpu).toFixed(1)}`,
  );
}
console.log(`RESULT ${summary.join(" ")} ${overhead}`);
process.exit(0);
