/**
 * `apikeys audit tail` as a user runs it (a separate, long-running process) against the REAL service: it
 * follows the stream, survives the server going away and coming back on the same port and database, and
 * misses nothing — not even events another replica committed while it was disconnected. Ctrl-C stops it
 * with the cursor to resume from, and `--cursor` resumes exactly there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifyClient, type VerifyClient } from "../../packages/client/src/verify-client.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { createCliSession } from "./helpers/cli-session.js";
import { useRealService } from "./helpers/real-service.js";

const service = useRealService("tailee2e", { env: { USAGE_FLUSH_INTERVAL_MS: "50" } });
let root = "";
const cli = createCliSession(() => ({ APIKEYS_SERVER: service.grpcAddress, APIKEYS_ADMIN_KEY: root }));
let verifier: VerifyClient;

beforeAll(async () => {
  root = await service.rootKey();
  // Tenants exist before their keys; created before any tail starts, so no tail sees their creation.
  for (const tenantId of ["tail-restart", "tail-cursor"]) {
    await service.tenant(tenantId);
  }
  tenantsCreatedAt = Date.now();
  verifier = createVerifyClient({ address: service.grpcAddress, deadlineMs: 5_000 });
});
afterAll(() => {
  verifier?.close();
});

interface TailedEvent {
  eventId: string;
  cursor: string;
  tenantId: string;
  admin?: { action: string; keyId: string };
  usage?: { keyId: string; endpoint: string; code: string };
}

function eventsOf(stdout: string): TailedEvent[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as TailedEvent);
}

/** tenantsCreatedAt is when the tenants the tails follow had been created (their events come before it). */
let tenantsCreatedAt = 0;

/** sinceAfterTenants is a --since a second back, but after the tenants' creation events. */
function sinceAfterTenants(): string {
  return new Date(Math.max(Date.now() - 1_000, tenantsCreatedAt + 1)).toISOString();
}

/** createKeys creates keys named `names` in `tenant` through the admin API at `baseUrl`; returns their ids. */
async function createKeys(tenant: string, names: string[], baseUrl = service.httpBaseUrl): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const response = await service.admin(root, baseUrl).createKey({ tenantId: tenant, name });
    ids.push(response.key?.keyId ?? "");
  }
  return ids;
}

describe("apikeys audit tail against the real service", { timeout: 90_000 }, () => {
  it("resumes by itself after the server restarts, and misses nothing committed meanwhile", async () => {
    const tenant = "tail-restart";
    const since = sinceAfterTenants();
    const tail = cli.spawn([
      "audit",
      "tail",
      "--json",
      "--tenant",
      tenant,
      "--since",
      since,
      "--max-events",
      "8",
    ]);
    const before = await createKeys(tenant, ["before 1", "before 2"]);
    await expect.poll(() => eventsOf(tail.stdout()).length, { timeout: 20_000 }).toBe(2);

    await service.stop();
    // Committed while the tail cannot reach its server: another replica on the same database.
    const replica = await service.startReplica();
    let during: string[];
    try {
      during = await createKeys(tenant, ["during 1", "during 2"], replica.httpBaseUrl);
    } finally {
      await replica.shutdown();
    }
    await service.start();

    const after = await createKeys(tenant, ["after 1", "after 2"]);
    const used = await service.admin(root).createKey({ tenantId: tenant, name: "used after restart" });
    const usedId = used.key?.keyId ?? "";
    const verdict = await verifier.verify({
      credential: { kind: "key", key: used.secret },
      endpoint: "GET /tail",
    });
    expect(verdict.valid).toBe(true);

    const run = await tail.recorded;
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    const events = eventsOf(run.stdout);
    expect(events.map((e) => e.tenantId)).toEqual(Array(8).fill(tenant));
    expect(events.slice(0, 7).map((e) => [e.admin?.action, e.admin?.keyId])).toEqual(
      [...before, ...during, ...after, usedId].map((id) => ["ADMIN_ACTION_KEY_CREATED", id]),
    );
    expect(events[7]?.usage).toMatchObject({
      keyId: usedId,
      endpoint: "GET /tail",
      code: "VERIFICATION_CODE_VALID",
    });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(run.stderr).toMatch(
      /^apikeys: audit stream interrupted \(.+\); reconnecting in \d+\.\d s, resuming after cursor \S+$/m,
    );
    expect(run.stderr).toMatch(/apikeys: stopped after 8 events; resume with --cursor \S+\n$/);
  });

  it("stops on Ctrl-C with exit 0 and the cursor to resume from; --cursor resumes exactly there", async () => {
    const tenant = "tail-cursor";
    const [keyId] = await createKeys(tenant, ["tailed key"]);
    const key = await service.admin(root).rotateKey({ keyId: keyId ?? "" });
    const tail = cli.spawn(["audit", "tail", "--tenant", tenant, "--since", sinceAfterTenants()]);
    await expect.poll(() => tail.stdout().split("\n").filter(Boolean).length, { timeout: 20_000 }).toBe(2);
    const lines = tail.stdout().trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^\\S+  admin  ${tenant}  key\\.created  key=${keyId}  by=ak_live_\\w+`),
    );
    expect(lines[1]).toMatch(/ key\.rotated /);
    tail.kill("SIGINT");
    const stopped = await tail.recorded;
    expect(stopped.code).toBe(ExitCode.ok);
    const cursor = /resume with --cursor (\S+)\n$/.exec(stopped.stderr)?.[1];
    expect(cursor, stopped.stderr).toBeDefined();

    // Usage while nobody follows, then resume: exactly what happened after the cursor.
    await verifier.verify({
      credential: { kind: "key", key: key.secret },
      endpoint: "GET /api/after-cursor",
      clientIp: "198.51.100.20",
    });
    const resumed = await cli.run([
      "audit",
      "tail",
      "--tenant",
      tenant,
      "--cursor",
      cursor ?? "",
      "--max-events",
      "1",
      "--json",
    ]);
    expect(resumed.code, resumed.stderr).toBe(ExitCode.ok);
    expect(eventsOf(resumed.stdout)).toEqual([
      expect.objectContaining({
        usage: expect.objectContaining({
          keyId,
          endpoint: "GET /api/after-cursor",
          code: "VERIFICATION_CODE_VALID",
        }),
      }),
    ]);
  });

  it("never prints the admin key", () => {
    cli.neverShown(root);
    expect(cli.runs.length).toBeGreaterThanOrEqual(3);
    for (const run of cli.runs) {
      expect(run.stdout + run.stderr).not.toContain(root);
    }
  });
});
