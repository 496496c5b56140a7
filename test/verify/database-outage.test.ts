/**
 * The database stops answering mid-run: this file starts its OWN wire server (startLocalMongo) and freezes it
 * with SIGSTOP, which is what a hung primary looks like to the driver (connections stay open, nothing comes
 * back). Cached keys keep verifying up to the staleness bound, unknown keys get UNAVAILABLE within the
 * 250 ms the issue allows (never a false "invalid"), and after SIGCONT the same runtime recovers by itself.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationCode } from "../../src/domain/audit-event.js";
import { type LocalMongo, startLocalMongo } from "../../src/storage/local-mongo.js";
import { createMongoClient } from "../../src/storage/mongo-client.js";
import { cryptoRandom, type IssuedKey, issueKey, testFormat } from "../helpers/key-fixtures.js";
import { untilStopped } from "../helpers/stopped-process.js";
import { startReplica, type TestReplica } from "./helpers/verify-setup.js";

const MAX_STALE_MS = 1_500;

let mongo: LocalMongo;
let client: MongoClient;
let replica: TestReplica;
let frozen = false;

beforeAll(async () => {
  mongo = await startLocalMongo({ dataDir: mkdtempSync(join(tmpdir(), "apikeys-outage-")) });
  client = createMongoClient({ uri: mongo.uri });
  await client.connect();
  replica = await startReplica(client, "outage", { maxStaleMs: MAX_STALE_MS });
});

afterAll(async () => {
  if (frozen) {
    process.kill(mongo.pid, "SIGCONT");
  }
  await replica?.runtime.stop();
  await client?.close(true);
  await mongo?.stop();
});

function verify(key: string): Promise<VerificationCode> {
  return Promise.resolve(
    replica.runtime.verifier.verify({
      credential: { kind: "key", key },
      clientIp: "",
      endpoint: "GET /",
      requiredPermissions: [],
    }),
  ).then((result) => result.code);
}

/** failure returns what `verify` rejected with, and how long it took. */
async function failure(key: string): Promise<{ error: unknown; elapsedMs: number }> {
  const start = performance.now();
  try {
    const code = await verify(key);
    return { error: new Error(`answered ${code}`), elapsedMs: performance.now() - start };
  } catch (error) {
    return { error, elapsedMs: performance.now() - start };
  }
}

describe("MongoDB unresponsive mid-run", () => {
  let cached: IssuedKey;
  let uncached: IssuedKey;

  it("serves while the database answers", async () => {
    cached = await issueKey(replica.stores.keys);
    uncached = await issueKey(replica.stores.keys);
    expect(await verify(cached.key)).toBe("valid");
  });

  it("keeps verifying cached keys and answers UNAVAILABLE for unknown ones within 250 ms", async () => {
    process.kill(mongo.pid, "SIGSTOP");
    frozen = true;
    await untilStopped(mongo.pid);
    const frozenAt = performance.now();
    expect(await verify(cached.key)).toBe("valid");

    const first = await failure(uncached.key);
    expect(first.error).toHaveProperty("kind", "unavailable");
    expect(first.elapsedMs, "the lookup budget bounds the wait on a hung database").toBeLessThan(250);

    // A random well-formed key is unknown to the cache too: UNAVAILABLE, never a false not_found.
    const random = await failure(testFormat.generate(cryptoRandom).key);
    expect(random.error).toHaveProperty("kind", "unavailable");
    const fastBefore = replica.runtime.cache.stats().fastFailures;
    const again = await failure(uncached.key);
    expect(again.error).toHaveProperty("kind", "unavailable");
    expect(replica.runtime.cache.stats().fastFailures, "known down: refused without waiting").toBe(
      fastBefore + 1,
    );

    // Garbage never needs the database.
    expect(await verify("not-a-key")).toBe("not_found");
    for (let i = 0; i < 20 && performance.now() - frozenAt < MAX_STALE_MS - 300; i++) {
      expect(await verify(cached.key)).toBe("valid");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  it("stops trusting cached keys once the feed is older than the staleness bound", async () => {
    await new Promise((resolve) => setTimeout(resolve, MAX_STALE_MS + 100));
    const stale = await failure(cached.key);
    expect(stale.error).toHaveProperty("kind", "unavailable");
    expect(replica.runtime.follower.stats().lastSuccessAgeMs).toBeGreaterThan(MAX_STALE_MS);
  });

  it("recovers without a restart once the database answers again", async () => {
    process.kill(mongo.pid, "SIGCONT");
    frozen = false;
    await expect
      .poll(() => verify(uncached.key).catch(() => "unavailable" as const), { timeout: 15_000, interval: 50 })
      .toBe("valid");
    expect(await verify(cached.key)).toBe("valid");
    expect(await verify(testFormat.generate(cryptoRandom).key)).toBe("not_found");
  });
});
