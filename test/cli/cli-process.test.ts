/**
 * The CLI as a user runs it: a separate process (`node_modules/.bin/tsx src/cli/main.ts …`), stdin not a
 * terminal, real exit codes, against the admin double over gRPC.
 */
import { fromJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_LINE_PREFIX } from "../../src/cli/commands/command-helpers.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { ListKeysResponseSchema } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ADMIN_KEY, type AdminDouble, startAdminDouble } from "./helpers/admin-double.js";
import { runSpawned, spawnCli } from "./helpers/cli-runner.js";

let double: AdminDouble;
let env: Record<string, string>;

beforeAll(async () => {
  double = await startAdminDouble({ heartbeatMs: 200 });
  env = { APIKEYS_SERVER: double.grpcAddress, APIKEYS_ADMIN_KEY: ADMIN_KEY };
});
afterAll(async () => {
  await double.stop();
});

describe("apikeys as a process", () => {
  it("prints help and exits 0", async () => {
    const run = await runSpawned(["keys", "create", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: apikeys keys create [options]");
    expect(run.stdout).toContain("--tenant <tenant-id>");
  });

  it("creates a key (secret printed once), then list --json and get never show it", async () => {
    const created = await runSpawned(["keys", "create", "--tenant", "proc", "--name", "Process key"], env);
    expect(created.code, created.stderr).toBe(0);
    const secret = double.secrets.at(-1) as string;
    expect(created.stdout.split(secret)).toHaveLength(2);
    expect(created.stdout).toContain(`${SECRET_LINE_PREFIX}${secret}\n`);

    const listed = await runSpawned(["keys", "list", "--tenant", "proc", "--json"], env);
    expect(listed.code).toBe(0);
    const response = fromJson(ListKeysResponseSchema, JSON.parse(listed.stdout));
    expect(response.keys.map((k) => k.name)).toEqual(["Process key"]);
    const keyId = response.keys[0]?.keyId as string;
    const got = await runSpawned(["keys", "get", keyId], env);
    expect(got.code).toBe(0);
    for (const output of [listed.stdout, got.stdout, listed.stderr, got.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(ADMIN_KEY);
    }
  });

  it("refuses to revoke without --yes when stdin is not a terminal (exit 2, one line), and calls nothing", async () => {
    const before = double.requests.length;
    const run = await runSpawned(["keys", "revoke", "ak_test_whatever"], env);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toBe(
      "apikeys: refusing to revoke key ak_test_whatever without confirmation: stdin is not a terminal; pass --yes\n",
    );
    expect(double.requests.length).toBe(before);
  });

  it("exits 6 with one line when the server is unreachable, and 4 for a missing key", async () => {
    const down = await runSpawned(["keys", "list"], { ...env, APIKEYS_SERVER: "127.0.0.1:1" });
    expect(down.code).toBe(ExitCode.unavailable);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    const missing = await runSpawned(["--json", "keys", "get", "ak_test_missing"], env);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stdout).toBe("");
  });

  it("audit tail resumes by itself after the server restarts, missing nothing", async () => {
    const created = await runSpawned(
      ["keys", "create", "--tenant", "tail", "--name", "Tail key", "--json"],
      env,
    );
    const keyId = (JSON.parse(created.stdout) as { key: { keyId: string } }).key.keyId;
    const startsBefore = double.streamStarts.length;
    const tail = spawnCli(
      [
        "audit",
        "tail",
        "--json",
        "--key-id",
        keyId,
        "--cursor",
        "c000000",
        "--kind",
        "usage",
        "--max-events",
        "5",
      ],
      env,
    );
    double.addUsage(keyId, "tail", 2);
    await expect.poll(() => tail.stdout().split("\n").filter(Boolean).length, { timeout: 15_000 }).toBe(2);

    await double.stop();
    // Committed while the consumer is disconnected (e.g. by another replica): must still arrive.
    double.addUsage(keyId, "tail", 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await double.start();

    const run = await tail.done;
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { eventId: string; cursor: string; usage: { endpoint: string } });
    expect(events.map((e) => e.usage.endpoint)).toEqual([
      "GET /api/products/0",
      "GET /api/products/1",
      "GET /api/products/0",
      "GET /api/products/1",
      "GET /api/products/2",
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(5);
    expect(run.stderr).toMatch(
      /apikeys: audit stream interrupted \(.+\); reconnecting in \d+\.\d s, resuming after cursor /,
    );
    const resumed = double.streamStarts.slice(startsBefore).filter((s) => s.case === "resumeCursor");
    expect(resumed.at(-1)).toEqual({ case: "resumeCursor", value: events[1]?.cursor });
  });
});
