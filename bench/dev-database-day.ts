/**
 * A day of local use against `npm start`'s provisioned database: start the service as npm start does (no
 * MONGODB_URI, so it provisions the local MongoDB-wire stand-in), make 1,000 admin changes and 100,000
 * VerifyKey calls (h2load on the gRPC port), then start a second replica on the same database and time
 * until it serves, and until an audit stream on it delivers an admin change made on the first.
 *
 *   node --import tsx bench/dev-database-day.ts [--verifications 100000] [--admin-changes 1000]
 *
 * Prints one JSON object with the figures. Needs h2load (Debian's nghttp2-client).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { MongoClient } from "mongodb";
import { AuditService } from "../src/gen/apikeys/v1/audit_service_pb.js";
import { VerifyKeyRequestSchema } from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../src/storage/audit-event-store.js";
import { findH2load } from "./h2load-runner.js";
import { grpcFrame } from "./key-pool.js";

const { values } = parseArgs({
  options: {
    verifications: { type: "string", default: "100000" },
    "admin-changes": { type: "string", default: "1000" },
  },
});
const VERIFICATIONS = Number(values.verifications);
const ADMIN_CHANGES = Number(values["admin-changes"]);
const TENANT = "devday";
const KEYS = 5;

/** Replica is a started service process and what its log said. */
interface Replica {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** address is host:port of the provisioned database (the first replica only). */
  readonly address: string | null;
  readonly startMs: number;
  /** lines are every log line so far. */
  readonly lines: Record<string, unknown>[];
}

/** startReplica runs the service as npm start does and resolves once both ports listen. */
function startReplica(env: Record<string, string | undefined>): Promise<Replica> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    env: { ...process.env, GRPC_PORT: "0", HTTP_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let grpcPort = 0;
    let httpPort = 0;
    let address: string | null = null;
    child.once("exit", (code) => reject(new Error(`the service exited with ${code} before listening`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push({ ...record, receivedMs: Math.round(performance.now() - started) });
      if (typeof record.address === "string") {
        address = record.address;
      }
      if (record.msg === "grpc listening") {
        grpcPort = Number(record.port);
      }
      if (record.msg === "http listening") {
        httpPort = Number(record.port);
        resolve({ child, grpcPort, httpPort, address, startMs: performance.now() - started, lines });
      }
    });
  });
}

async function stop(replica: Replica): Promise<void> {
  if (replica.child.exitCode === null) {
    const exited = new Promise((resolve) => replica.child.once("exit", resolve));
    replica.child.kill("SIGTERM");
    await exited;
  }
}

/** call makes one Connect JSON unary call on the HTTP port. */
async function call<T>(replica: Replica, method: string, body: unknown, key?: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${replica.httpPort}/apikeys.v1.KeyAdminService/${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method}: ${response.status} ${text}`);
  }
  return JSON.parse(text) as T;
}

/** runH2load sends `count` VerifyKey calls of `frame` and resolves with h2load's summary line. */
function runH2load(h2load: string, port: number, dataFile: string, count: number): Promise<string> {
  const args = ["-t", "1", "-c", "4", "-m", "32", "-n", String(count), "-d", dataFile];
  for (const header of ["content-type: application/grpc", "te: trailers", "grpc-timeout: 5S"]) {
    args.push("-H", header);
  }
  args.push(`http://127.0.0.1:${port}/apikeys.v1.KeyVerifyService/VerifyKey`);
  return new Promise((resolve, reject) => {
    const child = spawn(h2load, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("close", (code) =>
      code === 0 ? resolve(/requests: .*/.exec(output)?.[0] ?? output) : reject(new Error(output)),
    );
  });
}

async function main(): Promise<void> {
  const h2load = findH2load();
  if (h2load === null) {
    throw new Error("h2load is not installed (apt-get install nghttp2-client)");
  }
  const work = mkdtempSync(join(tmpdir(), "apikeys-devday-"));
  const bootstrapToken = randomBytes(24).toString("base64url");
  const first = await startReplica({ MONGODB_URI: undefined, BOOTSTRAP_TOKEN: bootstrapToken });
  let second: Replica | undefined;
  const figures: Record<string, unknown> = { firstReplicaStartMs: Math.round(first.startMs) };
  try {
    if (first.address === null) {
      throw new Error("the first replica did not log the provisioned database's address");
    }
    const { secret: superuser } = await call<{ secret: string }>(first, "Bootstrap", { bootstrapToken });
    // Versions without CreateTenant create a tenant with its first key: a failure here is left to CreateKey.
    await call(
      first,
      "CreateTenant",
      { tenantId: TENANT, displayName: "Dev day", requestId: randomUUID() },
      superuser,
    ).catch(() => undefined);
    const keys: Array<{ key: { keyId: string }; secret: string }> = [];
    for (let index = 0; index < KEYS; index++) {
      keys.push(
        await call(
          first,
          "CreateKey",
          { tenantId: TENANT, name: `day ${index}`, requestId: randomUUID() },
          superuser,
        ),
      );
    }

    // Admin changes: renames spread over the keys, four at a time.
    const adminStarted = performance.now();
    let next = KEYS;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < ADMIN_CHANGES) {
          const index = next++;
          const target = keys[index % KEYS];
          await call(
            first,
            "UpdateKey",
            {
              key: { keyId: target?.key.keyId, name: `day ${index}` },
              updateMask: "name",
              requestId: randomUUID(),
            },
            superuser,
          );
        }
      }),
    );
    figures.adminChangesMs = Math.round(performance.now() - adminStarted);

    const dataFile = join(work, "verify.bin");
    const request = create(VerifyKeyRequestSchema, {
      credential: { case: "key", value: keys[0]?.secret ?? "" },
      endpoint: "/day",
    });
    writeFileSync(dataFile, grpcFrame(toBinary(VerifyKeyRequestSchema, request)));
    const verifyStarted = performance.now();
    figures.h2load = await runH2load(h2load, first.grpcPort, dataFile, VERIFICATIONS);
    figures.verificationsMs = Math.round(performance.now() - verifyStarted);

    const uri = `mongodb://${first.address}/`;
    const client = new MongoClient(uri);
    const events = client.db("apikeys").collection(AUDIT_EVENTS_COLLECTION);
    // Let the first replica write what it buffered (it may drop some when the database is slow).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    figures.auditEventsStored = await events.countDocuments({});
    figures.adminEventsStored = await events.countDocuments({ "detail.kind": "admin" });
    figures.droppedOrBuffered = first.lines.filter((line) => line.msg === "audit dev retention").length;

    second = await startReplica({ MONGODB_URI: uri, BOOTSTRAP_TOKEN: bootstrapToken, REPLICA_ID: "second" });
    figures.secondReplicaStartMs = Math.round(second.startMs);
    // Where the start spent its time: when each log line arrived.
    figures.secondReplicaLog = second.lines.map(
      (line) => `${String(line.receivedMs)} ms ${String(line.msg)}`,
    );

    // An audit stream on the second replica delivers an admin change made on the first.
    const audit = createClient(
      AuditService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${second.httpPort}`, httpVersion: "1.1" }),
    );
    const controller = new AbortController();
    const stream = audit.streamAuditEvents(
      {},
      { headers: { authorization: `Bearer ${superuser}` }, signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    // The stream is live once its first heartbeat arrives (5 s idle) or the first event.
    const firstMessage = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const changed = performance.now();
    const renamed = `delivered ${randomUUID()}`;
    await call(
      first,
      "UpdateKey",
      { key: { keyId: keys[1]?.key.keyId, name: renamed }, updateMask: "name", requestId: randomUUID() },
      superuser,
    );
    let message = await firstMessage;
    while (!message.done && message.value.message.case !== "event") {
      message = await iterator.next();
    }
    figures.streamDeliveredMs = Math.round(performance.now() - changed);
    controller.abort();
    figures.auditEventsAfter = await events.countDocuments({});
    await client.close();
  } finally {
    if (second !== undefined) {
      await stop(second);
    }
    await stop(first);
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
