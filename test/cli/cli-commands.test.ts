import { fromJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SECRET_LINE_PREFIX } from "../../src/cli/commands/command-helpers.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { ListKeyUsageResponseSchema } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import {
  BootstrapResponseSchema,
  CreateKeyResponseSchema,
  GetKeyResponseSchema,
  ListKeysResponseSchema,
  RotateKeyResponseSchema,
} from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import {
  ADMIN_KEY,
  type AdminDouble,
  BOOTSTRAP_TOKEN,
  DEFAULT_KEY_LIMIT,
  FULL_TENANT,
  READER_KEY,
  startAdminDouble,
} from "./helpers/admin-double.js";
import { runInProcess } from "./helpers/cli-runner.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let double: AdminDouble;
let env: Record<string, string>;

beforeAll(async () => {
  double = await startAdminDouble();
  env = { APIKEYS_SERVER: double.grpcAddress, APIKEYS_ADMIN_KEY: ADMIN_KEY };
});
afterAll(async () => {
  await double.stop();
});

function cli(argv: string[], options: Parameters<typeof runInProcess>[1] = {}) {
  return runInProcess(argv, { env, ...options });
}

function secretLines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => line.startsWith(SECRET_LINE_PREFIX));
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** createKey creates a key through the CLI and returns its id and secret (parsed from --json). */
async function createKey(name: string, extra: string[] = []): Promise<{ keyId: string; secret: string }> {
  const run = await cli(["keys", "create", "--tenant", "acme", "--name", name, "--json", ...extra]);
  expect(run.code, run.stderr).toBe(0);
  const response = fromJson(CreateKeyResponseSchema, JSON.parse(run.stdout));
  return { keyId: response.key?.keyId ?? "", secret: response.secret };
}

function lastRequest(method: string) {
  const found = double.requests.filter((r) => r.method === method).at(-1);
  expect(found, `no ${method} request recorded`).toBeDefined();
  return found as NonNullable<typeof found>;
}

describe("bootstrap", () => {
  it("prints the super-user secret exactly once, clearly marked, and refuses a second run unless forced", async () => {
    const first = await cli(["bootstrap"], { env: { APIKEYS_SERVER: double.grpcAddress, BOOTSTRAP_TOKEN } });
    expect(first.code, first.stderr).toBe(0);
    const secret = double.secrets.at(-1) as string;
    expect(secretLines(first.stdout)).toEqual([`${SECRET_LINE_PREFIX}${secret}`]);
    expect(occurrences(first.stdout + first.stderr, secret)).toBe(1);
    expect(first.stdout).not.toContain(BOOTSTRAP_TOKEN);

    const second = await cli(["bootstrap", "--token", BOOTSTRAP_TOKEN], {
      env: { APIKEYS_SERVER: double.grpcAddress },
    });
    expect(second.code).toBe(ExitCode.rejected);
    expect(second.stderr).toBe("apikeys: an active super-user key exists; use force (failed_precondition)\n");

    const forced = await cli(["bootstrap", "--force", "--json"], {
      env: { APIKEYS_SERVER: double.grpcAddress, BOOTSTRAP_TOKEN },
    });
    expect(forced.code).toBe(0);
    const response = fromJson(BootstrapResponseSchema, JSON.parse(forced.stdout));
    expect(response.secret).toBe(double.secrets.at(-1));
    expect(response.key?.tenantId).toBe("_system");
  });

  it("exits 3 for a wrong token and never prints the token", async () => {
    const token = "wrong-bootstrap-token-value";
    const run = await cli(["bootstrap", "--token", token], { env: { APIKEYS_SERVER: double.grpcAddress } });
    expect(run.code).toBe(ExitCode.auth);
    expect(run.stderr + run.stdout).not.toContain(token);
  });
});

describe("keys create", () => {
  it("prints the secret once, sends the options and a generated request id", async () => {
    const run = await cli([
      "keys",
      "create",
      "--tenant",
      "acme",
      "--name",
      "Mobile App",
      "--description",
      "iOS + Android",
      "--user",
      "user_1",
      "--permission",
      "orders:read,products:read",
      "--permission",
      "stock:read",
      "--allow-ip",
      "10.0.0.0/8",
      "--allow-ip",
      "2001:db8::/32",
      "--expires",
      "2030-01-01T00:00:00Z",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const secret = double.secrets.at(-1) as string;
    expect(secretLines(run.stdout)).toEqual([`${SECRET_LINE_PREFIX}${secret}`]);
    expect(occurrences(run.stdout, secret)).toBe(1);
    expect(run.stdout).toMatch(/^Created key "Mobile App" \(ak_test_\w+\) for tenant acme\.$/m);
    const request = lastRequest("CreateKey");
    expect(request.authorization).toBe(`Bearer ${ADMIN_KEY}`);
    expect(request.message).toMatchObject({
      tenantId: "acme",
      name: "Mobile App",
      description: "iOS + Android",
      userId: "user_1",
      permissions: ["orders:read", "products:read", "stock:read"],
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
    });
    expect(String(request.message.requestId)).toMatch(UUID);
  });

  it("generates a new request id per run, and replays with --request-id without a second secret", async () => {
    await createKey("Key A");
    const first = String(lastRequest("CreateKey").message.requestId);
    await createKey("Key B");
    expect(String(lastRequest("CreateKey").message.requestId)).not.toBe(first);

    const created = await cli([
      "keys",
      "create",
      "--tenant",
      "acme",
      "--name",
      "Retried",
      "--request-id",
      "retry-1",
    ]);
    expect(created.code).toBe(0);
    expect(secretLines(created.stdout)).toHaveLength(1);
    const replayed = await cli([
      "keys",
      "create",
      "--tenant",
      "acme",
      "--name",
      "Retried",
      "--request-id",
      "retry-1",
    ]);
    expect(replayed.code).toBe(0);
    expect(lastRequest("CreateKey").message.requestId).toBe("retry-1");
    expect(secretLines(replayed.stdout)).toEqual([]);
    for (const secret of double.secrets) {
      expect(replayed.stdout).not.toContain(secret);
    }
  });

  it("maps server refusals to exit codes with the server's message on one line", async () => {
    const invalid = await cli(["keys", "create", "--tenant", "acme", "--name", "x"]);
    expect(invalid.code).toBe(ExitCode.rejected);
    expect(invalid.stderr).toBe("apikeys: name: must be 2-200 characters (invalid_argument)\n");

    const full = await cli(["keys", "create", "--tenant", FULL_TENANT, "--name", "one too many"]);
    expect(full.code).toBe(ExitCode.exhausted);
    expect(full.stderr).toMatch(/^apikeys: .*key limit \(resource_exhausted\)\n$/);

    const reader = await cli(["keys", "create", "--tenant", "acme", "--name", "nope"], {
      env: { ...env, APIKEYS_ADMIN_KEY: READER_KEY },
    });
    expect(reader.code).toBe(ExitCode.auth);
    expect(reader.stderr).not.toContain(READER_KEY);

    const badKey = await cli(["keys", "list"], {
      env: { ...env, APIKEYS_ADMIN_KEY: "ak_test_bogus_key_value" },
    });
    expect(badKey.code).toBe(ExitCode.auth);
    expect(badKey.stderr).toBe("apikeys: missing or invalid API key (unauthenticated)\n");
  });
});

describe("keys list and get never print a secret", () => {
  beforeEach(async () => {
    await createKey("Listed one", ["--permission", "orders:read"]);
  });

  it("lists an aligned table under the tenant usage header", async () => {
    const run = await cli(["keys", "list", "--tenant", "acme"]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^Tenant acme: \\d+/${DEFAULT_KEY_LIMIT} keys$`));
    expect(lines[1]).toBe("");
    const header = lines[2] as string;
    expect(header).toMatch(/^NAME\s+KEY ID\s+STATUS\s+GROUP\s+EXPIRY\s+LAST USED$/);
    const starts = ["KEY ID", "STATUS", "GROUP", "EXPIRY", "LAST USED"].map((column) =>
      header.indexOf(column),
    );
    const rows = lines.slice(3).filter((line) => line !== "");
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      // Every cell starts exactly under its header: a space before, a non-space at the column start.
      for (const start of starts) {
        expect(row[start - 1], row).toBe(" ");
        expect(row[start], row).not.toBe(" ");
      }
      expect(row.slice(starts[0], (starts[0] ?? 0) + 8)).toBe("ak_test_");
      expect(row.slice(starts[1]).split(" ")[0]).toMatch(/^(active|revoked|expired|deleted)$/);
    }
    for (const secret of double.secrets) {
      expect(run.stdout).not.toContain(secret);
    }
  });

  it("prints protobuf JSON with --json, without secrets", async () => {
    const run = await cli(["keys", "list", "--tenant", "acme", "--json"]);
    expect(run.code).toBe(0);
    const response = fromJson(ListKeysResponseSchema, JSON.parse(run.stdout));
    expect(response.keys.length).toBeGreaterThan(0);
    expect(response.tenant?.tenantId).toBe("acme");
    for (const secret of double.secrets) {
      expect(run.stdout).not.toContain(secret);
    }
  });

  it("pages with --limit and --page-token, or fetches everything with --all", async () => {
    const all = fromJson(
      ListKeysResponseSchema,
      JSON.parse((await cli(["keys", "list", "--tenant", "acme", "--json", "--all", "--limit", "2"])).stdout),
    );
    const firstPage = await cli(["keys", "list", "--tenant", "acme", "--limit", "2"]);
    expect(firstPage.stdout).toMatch(/More keys: repeat with --page-token page:2 \(or --all\)/);
    const pageOne = fromJson(
      ListKeysResponseSchema,
      JSON.parse((await cli(["keys", "list", "--tenant", "acme", "--json", "--limit", "2"])).stdout),
    );
    const pageTwo = fromJson(
      ListKeysResponseSchema,
      JSON.parse(
        (
          await cli([
            "keys",
            "list",
            "--tenant",
            "acme",
            "--json",
            "--limit",
            "2",
            "--page-token",
            pageOne.nextPageToken,
          ])
        ).stdout,
      ),
    );
    expect(all.nextPageToken).toBe("");
    expect(all.keys.slice(0, 4).map((k) => k.keyId)).toEqual(
      [...pageOne.keys, ...pageTwo.keys].map((k) => k.keyId),
    );
    expect(new Set(all.keys.map((k) => k.keyId)).size).toBe(all.keys.length);
    expect(all.keys.length).toBeGreaterThan(2);
  });

  it("shows one key's details (with its display hint only) and exits 4 for an unknown key", async () => {
    const { keyId, secret } = await createKey("Detail key", ["--group", ""]);
    const run = await cli(["keys", "get", keyId]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Key id:\\s+${keyId}$`, "m"));
    expect(run.stdout).toMatch(/^Secret hint:\s+ak_test_\w+_\w{4}…$/m);
    expect(run.stdout).not.toContain(secret);
    const json = await cli(["keys", "get", keyId, "--json"]);
    expect(fromJson(GetKeyResponseSchema, JSON.parse(json.stdout)).key?.keyId).toBe(keyId);
    expect(json.stdout).not.toContain(secret);

    const missing = await cli(["keys", "get", "ak_test_missing"]);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stderr).toBe("apikeys: key ak_test_missing not found (not_found)\n");
  });
});

describe("keys update, rotate, revoke, delete", () => {
  it("sends exactly the fields given as the update mask", async () => {
    const { keyId } = await createKey("To update");
    const run = await cli([
      "keys",
      "update",
      keyId,
      "--name",
      "Renamed",
      "--clear-allow-ip",
      "--permission",
      "a:b",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const request = lastRequest("UpdateKey").message as {
      updateMask?: { paths: string[] };
      key?: { name: string; ipAllowlist: string[]; permissions: string[] };
      requestId: string;
    };
    expect(request.updateMask?.paths).toEqual(["name", "permissions", "ip_allowlist"]);
    expect(request.key).toMatchObject({ name: "Renamed", ipAllowlist: [], permissions: ["a:b"] });
    expect(request.requestId).toMatch(UUID);
    expect(run.stdout).toMatch(/^Name:\s+Renamed$/m);
  });

  it("rotates after a confirmed prompt and prints only the new secret, once", async () => {
    const { keyId, secret: oldSecret } = await createKey("Rotated key");
    const run = await cli(["keys", "rotate", keyId, "--overlap", "24h"], { tty: true, answers: ["y"] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.prompts).toEqual([
      `Rotate API key "Rotated key" (${keyId})? The current secret keeps working for 24h. [y/N] `,
    ]);
    const newSecret = double.secrets.at(-1) as string;
    expect(newSecret).not.toBe(oldSecret);
    expect(secretLines(run.stdout)).toEqual([`${SECRET_LINE_PREFIX}${newSecret}`]);
    expect(run.stdout).not.toContain(oldSecret);
    const request = lastRequest("RotateKey").message as { overlap?: { seconds: bigint } };
    expect(request.overlap?.seconds).toBe(86_400n);

    const json = await cli(["keys", "rotate", keyId, "--yes", "--json"]);
    expect(fromJson(RotateKeyResponseSchema, JSON.parse(json.stdout)).secret).toBe(double.secrets.at(-1));
  });

  it("does nothing when the prompt is declined", async () => {
    const { keyId } = await createKey("Kept key");
    const before = double.requests.filter((r) => r.method === "RevokeKey").length;
    const run = await cli(["keys", "revoke", keyId], { tty: true, answers: ["n"] });
    expect(run.code).toBe(ExitCode.unexpected);
    expect(run.prompts[0]).toBe(
      `Are you sure you want to revoke the API key "Kept key" (${keyId})? This action cannot be undone and any applications using this key will lose access immediately. [y/N] `,
    );
    expect(run.stderr).toBe(`apikeys: aborted: revoke key ${keyId} not confirmed\n`);
    expect(double.requests.filter((r) => r.method === "RevokeKey").length).toBe(before);
  });

  it("revokes with --yes (no prompt), then rotation is refused with exit 5", async () => {
    const { keyId } = await createKey("Revoked key");
    const run = await cli(["keys", "revoke", keyId, "--yes", "--reason", "leaked"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.prompts).toEqual([]);
    expect(run.stdout).toBe(`Revoked key "Revoked key" (${keyId}).\n`);
    expect(lastRequest("RevokeKey").message).toMatchObject({ keyId, reason: "leaked" });
    const rotate = await cli(["keys", "rotate", keyId, "--yes"]);
    expect(rotate.code).toBe(ExitCode.rejected);
    expect(secretLines(rotate.stdout)).toEqual([]);
  });

  it("deletes, after which the key is not found", async () => {
    const { keyId } = await createKey("Deleted key");
    expect((await cli(["keys", "delete", keyId, "--yes", "--request-id", "del-1"])).code).toBe(0);
    expect(lastRequest("DeleteKey").message).toMatchObject({ keyId, requestId: "del-1" });
    expect((await cli(["keys", "get", keyId])).code).toBe(ExitCode.notFound);
  });
});

describe("groups and tenant", () => {
  it("creates, lists, gets, updates and deletes a group; deleting a used group exits 5", async () => {
    const created = await cli([
      "groups",
      "create",
      "--tenant",
      "acme",
      "--name",
      "Integrations",
      "--permission",
      "orders:read",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const groupId = /Created group (grp_\w+)\./.exec(created.stdout)?.[1] as string;
    expect(groupId).toBeDefined();

    const duplicate = await cli(["groups", "create", "--tenant", "acme", "--name", "Integrations"]);
    expect(duplicate.code).toBe(ExitCode.rejected);

    const list = await cli(["groups", "list", "--tenant", "acme"]);
    expect(list.stdout).toMatch(new RegExp(`^Integrations\\s+${groupId}\\s+0\\s+orders:read$`, "m"));

    const update = await cli(["groups", "update", groupId, "--permission", "orders:read,orders:write"]);
    expect(update.code).toBe(0);
    expect(lastRequest("UpdateGroup").message).toMatchObject({ updateMask: { paths: ["permissions"] } });

    const { keyId } = await createKey("In group", ["--group", groupId]);
    const inUse = await cli(["groups", "delete", groupId, "--yes"]);
    expect(inUse.code).toBe(ExitCode.rejected);
    expect(inUse.stderr).toBe("apikeys: keys still use this group (failed_precondition)\n");
    await cli(["keys", "delete", keyId, "--yes"]);
    const deleted = await cli(["groups", "delete", groupId], { tty: true, answers: ["yes"] });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.prompts[0]).toContain('"Integrations"');
    expect((await cli(["groups", "get", groupId])).code).toBe(ExitCode.notFound);
  });

  it("shows and sets the tenant key limit", async () => {
    const set = await cli(["tenant", "set-limit", "25", "--tenant", "limits"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("limits: 0/25 keys (limit set for this tenant)\n");
    expect(lastRequest("UpdateTenant").message).toMatchObject({ tenantId: "limits", keyLimit: 25 });
    const cleared = await cli(["tenant", "set-limit", "--clear", "--tenant", "limits"]);
    expect(cleared.stdout).toBe(`limits: 0/${DEFAULT_KEY_LIMIT} keys (server default limit)\n`);
    expect(lastRequest("UpdateTenant").message.keyLimit).toBeUndefined();
    const get = await cli(["tenant", "get", "--tenant", "limits", "--json"]);
    expect(JSON.parse(get.stdout)).toEqual({ tenant: { tenantId: "limits", keyLimit: DEFAULT_KEY_LIMIT } });
  });
});

describe("usage", () => {
  it("shows the usage log columns of seed 000, filters by code, pages, and prints JSON", async () => {
    const { keyId } = await createKey("Used key");
    double.addUsage(keyId, "acme", 6);
    const run = await cli(["usage", keyId]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+ENDPOINT\s+IP ADDRESS\s+CODE\s+STATUS$/);
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+GET \/api\/products\/5\s+203\.0\.113\.9\s+IP_NOT_ALLOWED\s+403$/,
    );

    const filtered = await cli(["usage", keyId, "--code", "ip-not-allowed", "--since", "1h"]);
    expect(filtered.stdout.trim().split("\n")).toHaveLength(3);
    const request = lastRequest("ListKeyUsage").message as { codes: number[]; startTime?: unknown };
    expect(request.codes).toEqual([5]);
    expect(request.startTime).toBeDefined();

    const paged = await cli(["usage", keyId, "--limit", "4"]);
    expect(paged.stdout).toContain("More events: repeat with --page-token 4 (or --all)");
    const json = fromJson(
      ListKeyUsageResponseSchema,
      JSON.parse((await cli(["usage", keyId, "--json", "--all", "--limit", "4"])).stdout),
    );
    expect(json.events).toHaveLength(6);
  });
});

describe("the Connect protocol (--url)", () => {
  it("runs the same commands over Connect/HTTP 1.1", async () => {
    const connectEnv = { APIKEYS_URL: double.connectUrl, APIKEYS_ADMIN_KEY: ADMIN_KEY };
    const created = await runInProcess(["keys", "create", "--tenant", "acme", "--name", "Via Connect"], {
      env: connectEnv,
    });
    expect(created.code, created.stderr).toBe(0);
    expect(secretLines(created.stdout)).toHaveLength(1);
    const listed = await runInProcess(["keys", "list", "--tenant", "acme", "--name", "via connect"], {
      env: connectEnv,
    });
    expect(listed.stdout).toMatch(/^Via Connect\s+ak_test_\w+\s+active/m);
    const missing = await runInProcess(["keys", "get", "ak_nope"], { env: connectEnv });
    expect(missing.code).toBe(ExitCode.notFound);
  });
});

describe("audit", () => {
  it("tails from a time, prints one line per event, and resumes from the cursor after the stream fails", async () => {
    const { keyId } = await createKey("Tailed key");
    const since = new Date(Date.now() - 1000).toISOString();
    double.addUsage(keyId, "acme", 3);
    double.failStreamsAfter(2);
    const startsBefore = double.streamStarts.length;
    const run = await cli([
      "audit",
      "tail",
      "--key-id",
      keyId,
      "--since",
      since,
      "--max-events",
      "4",
      "--json",
    ]);
    double.failStreamsAfter(null);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { eventId: string; cursor: string });
    // 1 admin event (created) + 3 usage events, each exactly once, in order.
    expect(events).toHaveLength(4);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    const starts = double.streamStarts.slice(startsBefore);
    expect(starts[0]?.case).toBe("startTime");
    expect(starts[1]).toEqual({ case: "resumeCursor", value: events[1]?.cursor });
    expect(run.stderr).toMatch(
      /^apikeys: audit stream interrupted \(unavailable: replica shutting down\); reconnecting in \d+\.\d s, resuming after cursor c\d+$/m,
    );
    expect(run.stderr).toContain(
      `apikeys: stopped after 4 events; resume with --cursor ${events[3]?.cursor}`,
    );
  });

  it("stops on Ctrl-C with exit 0 and tells where to resume", async () => {
    const interrupt = new AbortController();
    const { keyId } = await createKey("Interrupted tail");
    const pending = cli(["audit", "tail", "--key-id", keyId, "--cursor", "c000000"], {
      interrupt: interrupt.signal,
    });
    setTimeout(() => interrupt.abort(), 600);
    const run = await pending;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/admin\s+acme\s+key\.created/);
    expect(run.stderr).toMatch(/apikeys: stopped after 1 events; resume with --cursor c\d+/);
  });

  it("lists admin history", async () => {
    const { keyId } = await createKey("History key");
    await cli(["keys", "revoke", keyId, "--yes", "--request-id", "rev-hist"]);
    const run = await cli(["audit", "history", "--key-id", keyId]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `admin\\s+acme\\s+key\\.revoked\\s+key=${keyId}\\s+by=ak_test_admin\\w*\\s+request=rev-hist$`,
      ),
    );
    expect(lines[1]).toMatch(/key\.created/);
  });
});
