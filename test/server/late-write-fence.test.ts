/**
 * A write that reached a hung database before its call's deadline is applied after the call answered; a
 * retry with the same request_id must then still make exactly one effect. This file runs its OWN wire
 * server behind a small TCP relay that freezes it (SIGSTOP) the moment the chosen write arrives, forwards
 * the write into the frozen server's socket, and leaves it there: the call ends at its 300 ms deadline,
 * and the write lands once the server runs again (SIGCONT). The retry, once the request id's claim has
 * lapsed, finds that write: one key with one creation event, one rotation with one rotation event, and the
 * retry's secret verifies.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { loadConfig } from "../../src/server/config.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { type LocalMongo, startLocalMongo } from "../../src/storage/local-mongo.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { startServerOnDatabase } from "../helpers/server-on-database.js";
import type { TestServer } from "../helpers/start-server.js";
import { untilStopped } from "../helpers/stopped-process.js";

const DEADLINE_MS = 300;
const CONFIG = loadConfig({});
/** RETRY_WINDOW_MS: the retry runs once the claim lapses (deadline + 1 s) and the driver has reconnected. */
const RETRY_WINDOW_MS = CONFIG.mongo.serverSelectionTimeoutMs + 15_000;

/**
 * FreezingRelay forwards TCP between the service and the wire server. Armed with a marker, it freezes the
 * server when a client message to the `keys` collection carrying that marker arrives, and only then
 * forwards it: the write waits, unread, in the frozen server's socket.
 */
interface FreezingRelay {
  readonly uri: string;
  /** freezeOn arms the relay; the promise settles once the server is frozen with the write queued. */
  freezeOn(command: "insert" | "update", marker: string): Promise<void>;
  /** thaw lets the server run again (it then reads and applies the queued write). */
  thaw(): void;
  close(): Promise<void>;
}

/** commandOn is the start of a BSON command document's first element: `{<command>: "keys"`. */
function commandOn(command: string, collection: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32LE(collection.length + 1);
  return Buffer.concat([
    Buffer.from([0x02]),
    Buffer.from(`${command}\0`),
    length,
    Buffer.from(`${collection}\0`),
  ]);
}

async function startFreezingRelay(mongo: LocalMongo): Promise<FreezingRelay> {
  const upstream = new URL(mongo.uri.replace(/^mongodb:/, "http:"));
  const sockets = new Set<Socket>();
  let armed: { command: Buffer; marker: Buffer; frozen: () => void } | null = null;
  let frozen = false;
  const server: Server = createServer((client) => {
    const database = tcpConnect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(database);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(database);
    };
    client.on("error", () => undefined).on("close", drop);
    // The server's side is left open when the client gives up: a frozen write must still be read.
    database.on("error", () => client.destroy()).on("close", () => client.destroy());
    database.on("data", (chunk: Buffer) => {
      if (!client.destroyed) {
        client.write(chunk);
      }
    });
    client.on("data", (chunk: Buffer) => {
      const trigger = armed;
      if (trigger !== null && chunk.includes(trigger.command) && chunk.includes(trigger.marker)) {
        armed = null;
        client.pause();
        process.kill(mongo.pid, "SIGSTOP");
        frozen = true;
        void untilStopped(mongo.pid).then(() => {
          database.write(chunk);
          client.resume();
          trigger.frozen();
        });
        return;
      }
      database.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    freezeOn: (command, marker) =>
      new Promise((resolve) => {
        armed = {
          command: commandOn(command, KEYS_COLLECTION),
          marker: Buffer.from(marker),
          frozen: resolve,
        };
      }),
    thaw() {
      if (frozen) {
        process.kill(mongo.pid, "SIGCONT");
        frozen = false;
      }
    },
    async close() {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let mongo: LocalMongo;
let relay: FreezingRelay;
let server: TestServer;
let adminKey: string;
const running = { close: async () => undefined as unknown };

beforeAll(async () => {
  mongo = await startLocalMongo({ dataDir: mkdtempSync(join(tmpdir(), "apikeys-late-write-")) });
  relay = await startFreezingRelay(mongo);
  const started = await startServerOnDatabase(relay.uri, "late_write");
  ({ server, adminKey } = started);
  running.close = () => started.close();
});

afterAll(async () => {
  relay?.thaw();
  await running.close();
  await relay?.close();
  await mongo?.stop();
});

const admin = () => createConnectClient(KeyAdminService, server.httpBaseUrl);
const auth = (timeoutMs: number) => ({ headers: { authorization: `Bearer ${adminKey}` }, timeoutMs });

/**
 * timedOutOnFrozenWrite arms the relay for the write carrying `marker`, checks that `call` (started right
 * once armed) ends at its deadline with that write queued at the frozen server, then lets the server run again.
 */
async function timedOutOnFrozenWrite(
  command: "insert" | "update",
  marker: string,
  call: () => Promise<unknown>,
): Promise<void> {
  const frozen = relay.freezeOn(command, marker);
  try {
    const code = await call().then(
      () => null,
      (error: unknown) => (error instanceof ConnectError ? error.code : error),
    );
    await frozen;
    expect([Code.DeadlineExceeded, Code.Unavailable]).toContain(code);
  } finally {
    relay.thaw();
  }
}

/** retried calls `call` until the request id's claim lets it run (ABORTED meanwhile) and returns its answer. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  let answer: T | undefined;
  await expect
    .poll(
      async () => {
        try {
          answer = await call();
          return "answered";
        } catch (error) {
          return error instanceof ConnectError ? Code[error.code] : String(error);
        }
      },
      { timeout: RETRY_WINDOW_MS, interval: 250 },
    )
    .toBe("answered");
  return answer as T;
}

async function verification(secret: string): Promise<VerificationCode> {
  const verify = createConnectClient(KeyVerifyService, server.httpBaseUrl);
  return (await verify.verifyKey({ credential: { case: "key", value: secret } })).code;
}

async function adminEvents(action: string, keyId: string): Promise<number> {
  return server.db
    .collection(AUDIT_EVENTS_COLLECTION)
    .countDocuments({ "detail.kind": "admin", "detail.action": action, "detail.keyId": keyId });
}

describe("a write that lands after its call's deadline, and the retry with the same request_id", () => {
  it("CreateKey: one key, one key_created event, and the retry's secret verifies", async () => {
    const requestId = `late-create-${Date.now()}`;
    const request = { tenantId: "acme", name: `late create ${requestId}`, requestId };
    await timedOutOnFrozenWrite("insert", request.name, () => admin().createKey(request, auth(DEADLINE_MS)));
    const keys = server.db.collection(KEYS_COLLECTION);
    // The first attempt's insert is applied after its call answered: the hole the fence closes.
    await expect
      .poll(() => keys.countDocuments({ tenantId: "acme", name: request.name }), {
        timeout: RETRY_WINDOW_MS,
      })
      .toBe(1);

    const answer = await retried(() => admin().createKey(request, auth(10_000)));
    expect(answer.secret).not.toBe("");
    expect(await keys.countDocuments({ tenantId: "acme" })).toBe(1);
    const keyId = answer.key?.keyId ?? "";
    expect(
      (await keys.findOne({ _id: keyId as never }))?.secrets.map((s: { generation: number }) => s.generation),
    ).toEqual([1]);
    expect(await verification(answer.secret)).toBe(VerificationCode.VALID);
    expect(await adminEvents("key_created", keyId)).toBe(1);
    // A replay now answers the key without a secret, and changes nothing.
    const replay = await admin().createKey(request, auth(10_000));
    expect(replay.key?.keyId).toBe(keyId);
    expect(replay.secret).toBe("");
    expect(await verification(answer.secret)).toBe(VerificationCode.VALID);
  });

  it("RotateKey: one rotation (generation + 1 once), one key_rotated event, and the retry's secret verifies", async () => {
    const created = await admin().createKey(
      { tenantId: "acme", name: "late rotate", requestId: `create-${Date.now()}` },
      auth(10_000),
    );
    const keyId = created.key?.keyId ?? "";
    const requestId = `late-rotate-${Date.now()}`;
    const request = { keyId, requestId };
    await timedOutOnFrozenWrite("update", requestId, () => admin().rotateKey(request, auth(DEADLINE_MS)));
    const keys = server.db.collection(KEYS_COLLECTION);
    const generations = async () =>
      ((await keys.findOne({ _id: keyId as never }))?.secrets ?? []).map(
        (s: { generation: number }) => s.generation,
      );
    await expect.poll(generations, { timeout: RETRY_WINDOW_MS }).toEqual([2]);

    const answer = await retried(() => admin().rotateKey(request, auth(10_000)));
    expect(answer.secret).not.toBe("");
    expect(await generations()).toEqual([2]);
    expect(answer.key?.secrets.map((secret) => secret.generation)).toEqual([2]);
    expect(await verification(answer.secret)).toBe(VerificationCode.VALID);
    expect(await verification(created.secret)).not.toBe(VerificationCode.VALID);
    expect(await adminEvents("key_rotated", keyId)).toBe(1);
  });
});
