import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError, KEY_STORE_UNAVAILABLE } from "../../../src/domain/errors.js";
import { createMongoChangeFeed } from "../../../src/storage/change-feed.js";
import { createMongoGroupRepository } from "../../../src/storage/group-repository.js";
import { createMongoIdempotencyStore } from "../../../src/storage/idempotency-store.js";
import { createMongoKeyRepository } from "../../../src/storage/key-repository.js";
import { type LocalMongo, startLocalMongo } from "../../../src/storage/local-mongo.js";
import {
  connectAndPing,
  createMongoClient,
  createReadinessCheck,
} from "../../../src/storage/mongo-client.js";
import { createMongoTenantRepository } from "../../../src/storage/tenant-repository.js";
import { mongoUri, uniqueDbName, useTestDatabase } from "../../helpers/mongo.js";
import { untilStopped } from "../../helpers/stopped-process.js";
import { at, groupRecord, keyRecord, uniqueId } from "./fixtures.js";

/** UNREACHABLE is a port nothing listens on, with credentials that must never show up in an error. */
const UNREACHABLE = "mongodb://admin:s3cr3t-pw@127.0.0.1:1/";
const GENERIC_MESSAGE = new DomainError("unavailable", KEY_STORE_UNAVAILABLE).message;

describe("createMongoClient and connectAndPing", () => {
  const { db } = useTestDatabase("mongoclient");

  it("connects and pings the run's server", async () => {
    const client = createMongoClient({ uri: mongoUri(), appName: "apikeys-test" });
    try {
      await expect(connectAndPing(client, client.db(db.databaseName))).resolves.toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it("applies request-path settings", () => {
    const client = createMongoClient({ uri: mongoUri(), serverSelectionTimeoutMS: 700, maxPoolSize: 7 });
    expect(client.options.serverSelectionTimeoutMS).toBe(700);
    expect(client.options.maxPoolSize).toBe(7);
    expect(client.options.retryWrites).toBe(true);
    expect(client.options.appName).toBe("apikeys");
  });

  it("fails with one unavailable error naming the host, never the credentials", async () => {
    const client = createMongoClient({
      uri: UNREACHABLE,
      serverSelectionTimeoutMS: 300,
      connectTimeoutMS: 300,
    });
    try {
      const error = await connectAndPing(client, client.db("any")).catch((e: unknown) => e);
      expect(error).toHaveProperty("kind", "unavailable");
      const message = (error as Error).message;
      expect(message).toContain("127.0.0.1:1");
      expect(message).not.toContain("s3cr3t-pw");
      expect(message).not.toContain("admin");
    } finally {
      await client.close();
    }
  });

  it("reports readiness: true for a live database, false (not an error) for an unreachable one", async () => {
    expect(await createReadinessCheck(db)()).toBe(true);
    const client = createMongoClient({ uri: UNREACHABLE, serverSelectionTimeoutMS: 5_000 });
    try {
      // The check's own timeout ends it, well before the client's selection timeout would.
      expect(await createReadinessCheck(client.db("any"), { timeoutMs: 200 })()).toBe(false);
    } finally {
      await client.close();
    }
  });
});

describe("storage when the database cannot be reached", () => {
  const client = createMongoClient({
    uri: UNREACHABLE,
    serverSelectionTimeoutMS: 300,
    connectTimeoutMS: 300,
  });
  const db = client.db("unreachable");
  afterAll(() => client.close());
  const keys = createMongoKeyRepository(db);
  const groups = createMongoGroupRepository(db);
  const tenants = createMongoTenantRepository(db);
  const idempotency = createMongoIdempotencyStore(db);
  const feed = createMongoChangeFeed(db);
  const key = keyRecord({ tenantId: "t" });
  const group = groupRecord({ tenantId: "t" });
  const listQuery = {
    tenantId: "t",
    limit: 10,
    after: null,
    status: null,
    expirationState: null,
    userId: null,
    groupId: null,
    nameContains: "x",
    includeDeleted: false,
    now: at(0),
    expiringSoonWindowMs: 1000,
  };

  it.each<[string, () => Promise<unknown>]>([
    ["keys.insert", () => keys.insert(key)],
    ["keys.findById", () => keys.findById(key.id)],
    ["keys.list", () => keys.list(listQuery)],
    ["keys.replace", () => keys.replace({ ...key, version: 2 }, 1)],
    ["keys.countByGroup", () => keys.countByGroup("t", "g")],
    ["keys.hasAnyWithPermission", () => keys.hasAnyWithPermission("t", "p")],
    ["keys.recordLastUsed", () => keys.recordLastUsed([{ id: key.id, at: at(0) }])],
    ["groups.insert", () => groups.insert(group)],
    ["groups.findById", () => groups.findById(group.id)],
    ["groups.findByIds", () => groups.findByIds([group.id])],
    ["groups.list", () => groups.list("t", 10, null)],
    ["groups.replace", () => groups.replace({ ...group, version: 2 }, 1)],
    ["groups.delete", () => groups.delete(group.id, 1)],
    ["tenants.get", () => tenants.get("t")],
    ["tenants.reserveKeySlot", () => tenants.reserveKeySlot("t", 10)],
    ["tenants.releaseKeySlot", () => tenants.releaseKeySlot("t")],
    ["tenants.setKeyLimit", () => tenants.setKeyLimit("t", 5)],
    ["idempotency.claim", () => idempotency.claim("s", "r", "f", at(0))],
    ["idempotency.complete", () => idempotency.complete("s", "r", "x")],
    ["idempotency.abandon", () => idempotency.abandon("s", "r")],
    ["feed.publish", () => feed.publish("key", "k")],
    ["feed.latestSeq", () => feed.latestSeq()],
    ["feed.after", () => feed.after(0, 10)],
    ["feed.prune", () => feed.prune(at(0))],
  ])("%s rejects with an unavailable error and a generic message", async (_label, operation) => {
    const error = await operation().then(
      () => new Error("resolved"),
      (e: unknown) => e,
    );
    expect(error).toHaveProperty("kind", "unavailable");
    expect((error as Error).message).toBe(GENERIC_MESSAGE);
  });
});

/**
 * A private server (never the shared one, which other test files use concurrently) is paused with SIGSTOP:
 * nothing refuses the connection, the server simply stops answering, like a hung or partitioned database.
 */
describe("storage when the database stops answering", () => {
  let server: LocalMongo;
  let dataDir: string;
  let client: ReturnType<typeof createMongoClient>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "apikeys-paused-"));
    server = await startLocalMongo({ dataDir });
    client = createMongoClient({
      uri: server.uri,
      serverSelectionTimeoutMS: 500,
      connectTimeoutMS: 500,
      socketTimeoutMS: 500,
      heartbeatFrequencyMS: 500,
    });
    await connectAndPing(client, client.db("paused"));
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers an unavailable error while paused and recovers without a new client once resumed", async () => {
    const db = client.db(uniqueDbName("paused"));
    const keys = createMongoKeyRepository(db);
    const ready = createReadinessCheck(db, { timeoutMs: 300 });
    const key = keyRecord({ tenantId: uniqueId("t") });
    await keys.insert(key);
    expect(await ready()).toBe(true);

    process.kill(server.pid, "SIGSTOP");
    try {
      await untilStopped(server.pid);
      await expect(keys.findById(key.id)).rejects.toHaveProperty("kind", "unavailable");
      await expect(keys.insert(keyRecord({ tenantId: key.tenantId }))).rejects.toHaveProperty(
        "kind",
        "unavailable",
      );
      expect(await ready()).toBe(false);
    } finally {
      process.kill(server.pid, "SIGCONT");
    }

    let recovered = false;
    for (let attempt = 0; attempt < 50 && !recovered; attempt += 1) {
      recovered = await ready();
      if (!recovered) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(recovered).toBe(true);
    expect(await keys.findById(key.id)).toEqual(key);
  });
});
