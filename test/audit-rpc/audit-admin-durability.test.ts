/**
 * Admin events are durable before the mutation answers, and nothing can push them out:
 * - crash: the real service (`src/server/main.ts` as a child process) under 30 concurrent admin writers is
 *   SIGKILLed; after a restart, every acknowledged mutation has exactly one admin event, and once the key
 *   counter repair has run every tenant's counter equals its keys that hold a slot;
 * - flood: garbage VerifyKey calls at full speed (loopback, bounded) while 30 admin mutations run leave
 *   exactly 30 admin events, and the refused usage beyond the per-second bound is counted, not recorded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { scrapeMetrics } from "../helpers/metrics-scrape.js";
import { useTestDatabase } from "../helpers/mongo.js";
import { AUDIT_TEST_BOOTSTRAP_TOKEN, bearer, startAuditNode } from "./helpers/audit-harness.js";

const WRITERS = 30;
const database = useTestDatabase("auditcrash");
const floodDatabase = useTestDatabase("auditflood");

interface Main {
  readonly child: ChildProcess;
  readonly httpBaseUrl: Promise<string>;
  readonly exited: Promise<void>;
}

/** startMain runs the real entry point in one node process on the test database. */
function startMain(env: Readonly<Record<string, string>> = {}): Main {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "development",
      MONGODB_URI: database.uri,
      MONGODB_DB: database.dbName,
      BOOTSTRAP_TOKEN: AUDIT_TEST_BOOTSTRAP_TOKEN,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      LOG_LEVEL: "info",
      // As for every test server: a cache-miss lookup gets a budget that the loaded shared database meets
      // (under the restart's shorter deadlines below).
      KEY_LOOKUP_TIMEOUT_MS: "1000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const httpBaseUrl = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+),[^\n]*"msg":"http listening"/.exec(output);
      if (match !== null) {
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", () => reject(new Error(`main exited before listening:\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, httpBaseUrl, exited };
}

/** adminEventsByKey counts the stored admin events of each key for `action`. */
async function adminEventsByKey(db: Db, action: string): Promise<Map<string, number>> {
  const documents = await db
    .collection("audit_events")
    .find({ "detail.kind": "admin", "detail.action": action }, { projection: { "detail.keyId": 1 } })
    .toArray();
  const counts = new Map<string, number>();
  for (const document of documents) {
    const keyId = (document as unknown as { detail: { keyId: string } }).detail.keyId;
    counts.set(keyId, (counts.get(keyId) ?? 0) + 1);
  }
  return counts;
}

describe("admin audit durability", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
      }
    }
  });

  it("a SIGKILL under 30 concurrent admin writers leaves every acknowledged mutation with exactly one admin event", async () => {
    const first = startMain();
    children.push(first.child);
    const admin = createConnectClient(KeyAdminService, await first.httpBaseUrl);
    const superuser = (await admin.bootstrap({ bootstrapToken: AUDIT_TEST_BOOTSTRAP_TOKEN })).secret;
    const acknowledged: string[] = [];
    let killed = false;
    const writer = async (index: number) => {
      // A tenant per writer at the largest key limit: the limit never refuses a writer. A call refused
      // before the kill (UNAVAILABLE while the loaded machine is slow) is simply tried again: it was never
      // acknowledged, and request ids make the retry safe.
      let tenantCreated = false;
      while (!tenantCreated && !killed) {
        try {
          await admin.createTenant(
            { tenantId: `crash${index}`, keyLimit: 1_000_000, requestId: `tenant-${index}` },
            { headers: bearer(superuser) },
          );
          tenantCreated = true;
        } catch {
          // Refused or the process is gone; the loop condition decides.
          await sleep(50);
        }
      }
      for (let i = 0; !killed; i++) {
        try {
          const response = await admin.createKey(
            { tenantId: `crash${index}`, name: `w${index}-${i}` },
            { headers: bearer(superuser) },
          );
          acknowledged.push(response.key?.keyId ?? "");
        } catch {
          // After the kill the process is gone: this call was never acknowledged. Before it, a refusal is
          // transient and the writer goes on.
          await sleep(50);
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, index) => writer(index));
    // Kill while the writers are busy, once plenty of mutations were acknowledged.
    await expect
      .poll(() => acknowledged.length, { timeout: 60_000, interval: 20 })
      .toBeGreaterThanOrEqual(100);
    first.child.kill("SIGKILL");
    killed = true;
    await first.exited;
    await Promise.all(writers);

    // The restart repairs counters soon: a short repair interval, and deadlines short enough that the repair
    // may trust a disagreement after MAX_DEADLINE_MS + MONGODB_SOCKET_TIMEOUT_MS.
    const repair = { intervalMs: 1_000, maxDeadlineMs: 2_000, socketTimeoutMs: 2_000 };
    const second = startMain({
      KEY_COUNT_REPAIR_INTERVAL_MS: String(repair.intervalMs),
      MAX_DEADLINE_MS: String(repair.maxDeadlineMs),
      DEFAULT_DEADLINE_MS: String(repair.maxDeadlineMs),
      MONGODB_SOCKET_TIMEOUT_MS: String(repair.socketTimeoutMs),
    });
    children.push(second.child);
    await second.httpBaseUrl;
    const events = await adminEventsByKey(database.db, "key_created");
    const missing = acknowledged.filter((keyId) => events.get(keyId) !== 1);
    expect(
      missing,
      `acknowledged creates without exactly one admin event (of ${acknowledged.length})`,
    ).toEqual([]);
    // Counters equal the keys that hold a slot, for every writer's tenant, within the repair's own bounds:
    // the settling time, then a few runs (doubled for a loaded machine).
    const drift = async () => {
      const wrong: string[] = [];
      for (let index = 0; index < WRITERS; index++) {
        const tenantId = `crash${index}`;
        const counter = await database.db.collection("tenants").findOne({ _id: tenantId as never });
        const holding = await database.db
          .collection("keys")
          .countDocuments({ tenantId, revokedAt: null, deletedAt: null });
        if (counter?.usedKeys !== holding) {
          wrong.push(`${tenantId}: counter ${counter?.usedKeys} for ${holding} keys`);
        }
      }
      return wrong;
    };
    const settleMs = repair.maxDeadlineMs + repair.socketTimeoutMs;
    await expect
      .poll(drift, { timeout: 2 * (settleMs + 5 * repair.intervalMs), interval: repair.intervalMs })
      .toEqual([]);
    second.child.kill("SIGTERM");
    await second.exited;
  }, 180_000);

  it("a garbage VerifyKey flood while 30 admin mutations run leaves all 30 admin events", async () => {
    const node = await startAuditNode(floodDatabase, "flood-1", { AUDIT_REFUSED_USAGE_PER_SECOND: "100" });
    let flooding = true;
    let flooders: Array<Promise<void>> = [];
    try {
      const superuser = (await node.grpc.admin.bootstrap({ bootstrapToken: AUDIT_TEST_BOOTSTRAP_TOKEN }))
        .secret;
      const verify = createConnectClient(KeyVerifyService, node.server.httpBaseUrl);
      let garbageCalls = 0;
      const flooder = async () => {
        // Bounded: stops when the admin calls are done, or after 200,000 calls.
        while (flooding && garbageCalls < 200_000) {
          garbageCalls += 1;
          await verify.verifyKey({ credential: { case: "key", value: `ak_live_garbage${garbageCalls}` } });
        }
      };
      flooders = Array.from({ length: 8 }, () => flooder());
      await expect.poll(() => garbageCalls, { timeout: 30_000 }).toBeGreaterThan(500);
      const created = await Promise.all(
        Array.from({ length: WRITERS }, async (_, index) => {
          await node.connect.admin.createTenant(
            { tenantId: `flood${index}` },
            { headers: bearer(superuser) },
          );
          const response = await node.connect.admin.createKey(
            { tenantId: `flood${index}`, name: `flood-${index}` },
            { headers: bearer(superuser) },
          );
          return response.key?.keyId ?? "";
        }),
      );
      flooding = false;
      await Promise.all(flooders);
      // Acknowledged means stored: no waiting for a flush.
      const events = await adminEventsByKey(floodDatabase.db, "key_created");
      expect(created.filter((keyId) => events.get(keyId) !== 1)).toEqual([]);
      const metrics = await scrapeMetrics(node.server.httpBaseUrl);
      const sampledOut = metrics.get("apikeys_audit_usage_sampled_out_total") ?? 0;
      expect(sampledOut, `of ${garbageCalls} garbage calls`).toBeGreaterThan(0);
    } finally {
      flooding = false;
      await Promise.allSettled(flooders);
      await node.stop();
    }
  }, 120_000);
});
