/**
 * A call's deadline reaches MongoDB. This file starts its OWN wire server and freezes it with SIGSTOP (a hung
 * primary: connections stay open, nothing comes back). A CreateKey with a 300 ms deadline then ends on the
 * server at its deadline — DEADLINE_EXCEEDED or UNAVAILABLE — on both ports, instead of waiting for the socket
 * timeout; and once the database answers again, a retry with the same request_id makes exactly one key.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { loadConfig } from "../../src/server/config.js";
import { type LocalMongo, startLocalMongo } from "../../src/storage/local-mongo.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient, isServiceError } from "../helpers/grpc-client.js";
import { startServerOnDatabase } from "../helpers/server-on-database.js";
import type { TestServer } from "../helpers/start-server.js";
import { untilStopped } from "../helpers/stopped-process.js";

const DEADLINE_MS = 300;
const CONFIG = loadConfig({});
/**
 * ANSWER_BOUND_MS: without the deadline reaching the database, the call ended only when the driver's socket
 * timeout did (MONGODB_SOCKET_TIMEOUT_MS, 5 s); with it, at the deadline. Half the socket timeout on top of
 * the deadline tells the two apart with room for a loaded machine.
 */
const ANSWER_BOUND_MS = DEADLINE_MS + CONFIG.mongo.socketTimeoutMs / 2;

const TRANSPORTS = ["grpc-js", "connect"] as const;
type Transport = (typeof TRANSPORTS)[number];

let mongo: LocalMongo;
let server: TestServer;
let adminKey: string;
let frozen = false;
const running = { close: async () => undefined as unknown };

beforeAll(async () => {
  mongo = await startLocalMongo({ dataDir: mkdtempSync(join(tmpdir(), "apikeys-deadline-")) });
  const started = await startServerOnDatabase(mongo.uri, "deadline");
  ({ server, adminKey } = started);
  running.close = () => started.close();
});

afterAll(async () => {
  if (frozen) {
    process.kill(mongo.pid, "SIGCONT");
  }
  await running.close();
  await mongo?.stop();
});

/** createKey calls CreateKey on one port with a deadline and a request id of the test's choosing. */
async function createKey(
  transport: Transport,
  name: string,
  requestId: string,
  deadlineMs: number,
): Promise<{ keyId: string } | { code: Code }> {
  const request = { tenantId: "acme", name, requestId };
  const headers = { authorization: `Bearer ${adminKey}`, "x-request-id": `call-${requestId}-${Date.now()}` };
  try {
    if (transport === "grpc-js") {
      const grpc = createGrpcJsClient(KeyAdminService, server.grpcAddress);
      try {
        const response = await grpc.createKey(request, { metadata: headers, deadlineMs });
        return { keyId: response.key?.keyId ?? "" };
      } finally {
        grpc.close();
      }
    }
    const connect = createConnectClient(KeyAdminService, server.httpBaseUrl);
    const response = await connect.createKey(request, { headers, timeoutMs: deadlineMs });
    return { keyId: response.key?.keyId ?? "" };
  } catch (error) {
    if (isServiceError(error)) {
      return { code: error.code as number as Code };
    }
    if (error instanceof ConnectError) {
      return { code: error.code };
    }
    throw error;
  }
}

/** serverDurationMs is how long the server took over the CreateKey call sent with `requestId`. */
function serverDurationMs(requestId: string): number | undefined {
  const line = server.logs
    .records()
    .find(
      (record) =>
        record.method === "CreateKey" &&
        typeof record.requestId === "string" &&
        record.requestId.startsWith(`call-${requestId}-`),
    );
  return typeof line?.durationMs === "number" ? line.durationMs : undefined;
}

async function keysNamed(name: string): Promise<number> {
  return server.db.collection("keys").countDocuments({ name });
}

describe("deadlines reach MongoDB", () => {
  it("creates keys while the database answers (and caches the admin key)", async () => {
    for (const transport of TRANSPORTS) {
      expect(await createKey(transport, `warm ${transport}`, `warm-${transport}`, 10_000)).toHaveProperty(
        "keyId",
      );
    }
  });

  it.each(TRANSPORTS)(
    "a CreateKey over %s with a 300 ms deadline ends at its deadline on a frozen database",
    async (transport) => {
      process.kill(mongo.pid, "SIGSTOP");
      frozen = true;
      await untilStopped(mongo.pid);
      try {
        const started = performance.now();
        const outcome = await createKey(transport, `frozen ${transport}`, `frozen-${transport}`, DEADLINE_MS);
        expect(performance.now() - started).toBeLessThan(ANSWER_BOUND_MS);
        expect(outcome).toHaveProperty("code");
        expect([Code.DeadlineExceeded, Code.Unavailable]).toContain((outcome as { code: Code }).code);
        // The server itself let go of the call by then, not only the client.
        await expect
          .poll(() => serverDurationMs(`frozen-${transport}`), { timeout: ANSWER_BOUND_MS })
          .toBeDefined();
        expect(serverDurationMs(`frozen-${transport}`)).toBeLessThan(ANSWER_BOUND_MS);
      } finally {
        process.kill(mongo.pid, "SIGCONT");
        frozen = false;
      }
    },
  );

  it.each(TRANSPORTS)(
    "after the database is back, a retry over %s with the same request_id makes exactly one key",
    async (transport) => {
      const name = `frozen ${transport}`;
      // The timed-out call's claim on the request id may land late; it lapses shortly after its deadline.
      await expect
        .poll(async () => createKey(transport, name, `frozen-${transport}`, 10_000), { timeout: 15_000 })
        .toHaveProperty("keyId");
      const again = await createKey(transport, name, `frozen-${transport}`, 10_000);
      expect(again).toHaveProperty("keyId");
      expect(await keysNamed(name)).toBe(1);
    },
  );
});
