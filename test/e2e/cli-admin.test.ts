/**
 * The `apikeys` CLI as a user runs it — one process per command (`node_modules/.bin/tsx src/cli/main.ts`,
 * stdin not a terminal) — against the REAL service started in process on port 0 with its own database and a
 * BOOTSTRAP_TOKEN: bootstrap, every keys / groups / tenant / usage / audit history command, `--json` output
 * parsed with the protobuf schemas, the documented exit codes, confirmation with and without --yes, and a
 * final scan of every output of the file: each secret appears once, in the output of the command that
 * issued it, and nowhere else. (`audit tail` across restarts: cli-audit-tail.test.ts.)
 */
import { fromJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifyClient, type VerifyClient } from "../../packages/client/src/verify-client.js";
import { SECRET_LINE_PREFIX } from "../../src/cli/commands/command-helpers.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { type AuditEvent, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import {
  ListAdminEventsResponseSchema,
  ListKeyUsageResponseSchema,
} from "../../src/gen/apikeys/v1/audit_service_pb.js";
import {
  CreateGroupResponseSchema,
  CreateKeyResponseSchema,
  GetGroupResponseSchema,
  GetKeyResponseSchema,
  GetTenantResponseSchema,
  ListGroupsResponseSchema,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  RotateKeyResponseSchema,
  UpdateGroupResponseSchema,
  UpdateKeyResponseSchema,
  UpdateTenantResponseSchema,
} from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createCliSession, oneErrorLine, type RecordedRun, secretLineOf } from "./helpers/cli-session.js";
import { E2E_BOOTSTRAP_TOKEN, unknownKeyIdOf, unknownKeyOf, useRealService } from "./helpers/real-service.js";

const TENANT = "acme";
const DEFAULT_LIMIT = 10;

const service = useRealService("clie2e", {
  env: { USAGE_FLUSH_INTERVAL_MS: "50", LAST_USED_WRITE_INTERVAL_MS: "0", DEFAULT_TENANT_KEY_LIMIT: "10" },
});
/** adminKey is the key the session's commands authenticate with (APIKEYS_ADMIN_KEY), once known. */
let adminKey = "";
const cli = createCliSession(() => ({
  APIKEYS_SERVER: service.grpcAddress,
  ...(adminKey === "" ? {} : { APIKEYS_ADMIN_KEY: adminKey }),
}));
let verifier: VerifyClient;

beforeAll(() => {
  verifier = createVerifyClient({ address: service.grpcAddress, deadlineMs: 5_000 });
  cli.neverShown(E2E_BOOTSTRAP_TOKEN);
});
afterAll(() => {
  verifier?.close();
});

function json(run: RecordedRun): unknown {
  expect(run.code, `'apikeys ${run.argv.join(" ")}' failed: ${run.stderr}`).toBe(ExitCode.ok);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as unknown;
}

function ok(run: RecordedRun): RecordedRun {
  expect(run.code, `'apikeys ${run.argv.join(" ")}' failed: ${run.stderr}`).toBe(ExitCode.ok);
  return run;
}

async function verify(
  key: string,
  endpoint = "GET /api/orders",
  clientIp = "198.51.100.7",
  requiredPermissions: string[] = [],
) {
  return verifier.verify({ credential: { kind: "key", key }, endpoint, clientIp, requiredPermissions });
}

/** createKeyJson runs `keys create … --json` and notes the secret it issued. */
async function createKeyJson(name: string, extra: string[] = []) {
  const run = await cli.run(["keys", "create", "--tenant", TENANT, "--name", name, "--json", ...extra]);
  const response = fromJson(CreateKeyResponseSchema, json(run) as never);
  cli.issued(run, response.secret, response.secretKey);
  return { keyId: response.key?.keyId ?? "", secret: response.secret, response };
}

async function keyStatus(keyId: string): Promise<KeyStatus | undefined> {
  const run = await cli.run(["keys", "get", keyId, "--json"]);
  return fromJson(GetKeyResponseSchema, json(run) as never).key?.status;
}

// One process per command (~1-2 s each on a busy machine): generous per-test time.
describe("apikeys against the real service", { timeout: 90_000 }, () => {
  let groupId = "";
  let erp = { keyId: "", secret: "" };
  let mobile = { keyId: "", secret: "" };

  it("bootstrap prints the super-user secret once; a second bootstrap is refused (exit 5)", async () => {
    const noKey = await cli.run(["keys", "list"]);
    expect(noKey.code).toBe(ExitCode.auth);
    expect(oneErrorLine(noKey)).toBe("apikeys: no admin key: set APIKEYS_ADMIN_KEY or pass --key");

    const first = ok(await cli.run(["bootstrap"], { BOOTSTRAP_TOKEN: E2E_BOOTSTRAP_TOKEN }));
    const root = secretLineOf(first.stdout);
    cli.issued(first, root);
    expect(first.stdout).toMatch(
      /^Created super-user key "bootstrap super user" \(ak_live_\w+\) in tenant _system\.$/m,
    );
    expect(root.startsWith("ak_live_")).toBe(true);

    const second = await cli.run(["bootstrap", "--token", E2E_BOOTSTRAP_TOKEN]);
    expect(second.code).toBe(ExitCode.rejected);
    expect(second.stdout).toBe("");
    expect(oneErrorLine(second)).toMatch(/already been done/);
    expect((await cli.run(["bootstrap", "--force"], { BOOTSTRAP_TOKEN: E2E_BOOTSTRAP_TOKEN })).code).toBe(
      ExitCode.usage,
    );

    const wrong = await cli.run(["bootstrap", "--token", "not-the-bootstrap-token-0000"]);
    expect(wrong.code).toBe(ExitCode.auth);
    expect(wrong.stderr + wrong.stdout).not.toContain("not-the-bootstrap-token-0000");

    adminKey = root;
    // Keys and groups live in tenants that exist: the super user creates the session's tenant.
    const tenant = ok(await cli.run(["tenant", "create", "--tenant", TENANT, "--display-name", "Acme"]));
    expect(tenant.stdout).toMatch(
      /^Created tenant acme "Acme": 0\/10 keys \(server default limit, etag \S+\)$/m,
    );
  });

  it("groups create / list / get / update", async () => {
    const created = ok(
      await cli.run([
        "groups",
        "create",
        "--tenant",
        TENANT,
        "--name",
        "Inventory sync",
        "--permission",
        "inventory:read",
      ]),
    );
    groupId = /^Created group (grp_\w+)\.$/m.exec(created.stdout)?.[1] ?? "";
    expect(groupId).not.toBe("");
    expect(created.stdout).toMatch(/^Permissions:\s+inventory:read$/m);

    const duplicate = await cli.run(["groups", "create", "--tenant", TENANT, "--name", "inventory SYNC"]);
    expect(duplicate.code).toBe(ExitCode.rejected);
    oneErrorLine(duplicate);

    const other = fromJson(
      CreateGroupResponseSchema,
      json(await cli.run(["groups", "create", "--tenant", TENANT, "--name", "Unused", "--json"])) as never,
    );
    expect(other.group?.name).toBe("Unused");

    const list = ok(await cli.run(["groups", "list", "--tenant", TENANT]));
    expect(list.stdout.split("\n")[0]).toMatch(/^NAME\s+GROUP ID\s+KEYS\s+PERMISSIONS$/);
    expect(list.stdout).toMatch(new RegExp(`^Inventory sync\\s+${groupId}\\s+0\\s+inventory:read$`, "m"));
    const listed = fromJson(
      ListGroupsResponseSchema,
      json(await cli.run(["groups", "list", "--tenant", TENANT, "--json"])) as never,
    );
    expect(listed.groups.map((g) => g.name)).toEqual(["Inventory sync", "Unused"]);

    const updated = fromJson(
      UpdateGroupResponseSchema,
      json(
        await cli.run([
          "groups",
          "update",
          groupId,
          "--permission",
          "inventory:read,inventory:write",
          "--description",
          "nightly stock sync",
          "--json",
        ]),
      ) as never,
    );
    expect(updated.group).toMatchObject({
      permissions: ["inventory:read", "inventory:write"],
      description: "nightly stock sync",
    });
    const got = ok(await cli.run(["groups", "get", groupId]));
    expect(got.stdout).toMatch(/^Description:\s+nightly stock sync$/m);
    expect(
      fromJson(GetGroupResponseSchema, json(await cli.run(["groups", "get", groupId, "--json"])) as never)
        .group?.groupId,
    ).toBe(groupId);
  });

  it("keys create prints the secret once (human and --json), and the key verifies", async () => {
    const human = ok(
      await cli.run([
        "keys",
        "create",
        "--tenant",
        TENANT,
        "--name",
        "ERP Inventory Sync",
        "--group",
        groupId,
        "--user",
        "erp-service",
        "--expires",
        "90d",
      ]),
    );
    const secret = secretLineOf(human.stdout);
    cli.issued(human, secret);
    const keyId = /^Created key "ERP Inventory Sync" \((ak_live_\w+)\) for tenant acme\.$/m.exec(
      human.stdout,
    )?.[1];
    expect(keyId).toBeDefined();
    expect(secret.startsWith(`${keyId}_`)).toBe(true);
    erp = { keyId: keyId ?? "", secret };

    mobile = await createKeyJson("Mobile App", [
      "--permission",
      "orders:read,products:read",
      "--allow-ip",
      "198.51.100.0/24",
      "--description",
      "iOS + Android",
    ]);

    expect(await verify(erp.secret)).toMatchObject({
      valid: true,
      keyId: erp.keyId,
      groupId,
      userId: "erp-service",
      permissions: ["inventory:read", "inventory:write"],
    });
    expect(await verify(mobile.secret)).toMatchObject({ valid: true, keyId: mobile.keyId });
    expect(await verify(mobile.secret, "GET /api/orders", "203.0.113.1")).toMatchObject({
      valid: false,
      code: "IP_NOT_ALLOWED",
    });
  });

  it("a retried create with the same --request-id makes no second key and shows no second secret", async () => {
    const argv = [
      "keys",
      "create",
      "--tenant",
      TENANT,
      "--name",
      "Retried key",
      "--request-id",
      "retry-e2e-1",
    ];
    const first = ok(await cli.run(argv));
    cli.issued(first, secretLineOf(first.stdout));
    const replayed = ok(await cli.run(argv));
    expect(replayed.stdout).not.toContain(SECRET_LINE_PREFIX);
    expect(replayed.stdout).toContain("This request id was already used");
    const listed = fromJson(
      ListKeysResponseSchema,
      json(await cli.run(["keys", "list", "--tenant", TENANT, "--name", "retried", "--json"])) as never,
    );
    expect(listed.keys).toHaveLength(1);
    const keyId = listed.keys[0]?.keyId ?? "";
    ok(await cli.run(["keys", "delete", keyId, "--yes"]));
  });

  it('keys list shows an aligned table under "2/10 keys"; --json parses; get shows details but no secret', async () => {
    const list = ok(await cli.run(["keys", "list", "--tenant", TENANT]));
    const lines = list.stdout.split("\n");
    expect(lines[0]).toBe(`Tenant ${TENANT}: 2/${DEFAULT_LIMIT} keys`);
    expect(lines[1]).toBe("");
    const header = lines[2] as string;
    expect(header).toMatch(/^NAME\s+KEY ID\s+STATUS\s+GROUP\s+EXPIRY\s+LAST USED$/);
    const columns = ["KEY ID", "STATUS", "GROUP", "EXPIRY", "LAST USED"].map((c) => header.indexOf(c));
    const rows = lines.slice(3).filter((line) => line !== "");
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      for (const start of columns) {
        expect(row[start - 1], row).toBe(" ");
        expect(row[start], row).not.toBe(" ");
      }
    }
    // Newest first; the ERP key shows its group and "(valid)" expiry; both were used moments ago.
    expect(rows[0]).toMatch(new RegExp(`^Mobile App\\s+${mobile.keyId}\\s+active\\s+-\\s+never\\s+\\d{4}-`));
    expect(rows[1]).toMatch(
      new RegExp(`^ERP Inventory Sync\\s+${erp.keyId}\\s+active\\s+${groupId}\\s+\\S+ \\S+ UTC \\(valid\\)`),
    );

    const listed = fromJson(
      ListKeysResponseSchema,
      json(await cli.run(["keys", "list", "--tenant", TENANT, "--json"])) as never,
    );
    expect(listed.tenant).toMatchObject({ tenantId: TENANT, usedKeys: 2, keyLimit: DEFAULT_LIMIT });
    expect(listed.keys.map((k) => k.keyId)).toEqual([mobile.keyId, erp.keyId]);

    const filtered = fromJson(
      ListKeysResponseSchema,
      json(await cli.run(["keys", "list", "--tenant", TENANT, "--group", groupId, "--json"])) as never,
    );
    expect(filtered.keys.map((k) => k.keyId)).toEqual([erp.keyId]);

    const details = ok(await cli.run(["keys", "get", mobile.keyId]));
    expect(details.stdout).toMatch(new RegExp(`^Key id:\\s+${mobile.keyId}$`, "m"));
    expect(details.stdout).toMatch(/^IP allowlist:\s+198\.51\.100\.0\/24$/m);
    expect(details.stdout).toMatch(new RegExp(`^Secret hint:\\s+${mobile.keyId}_\\w{4}…$`, "m"));
    const got = fromJson(
      GetKeyResponseSchema,
      json(await cli.run(["keys", "get", mobile.keyId, "--json"])) as never,
    );
    expect(got.key).toMatchObject({
      keyId: mobile.keyId,
      permissions: ["orders:read", "products:read"],
      description: "iOS + Android",
      status: KeyStatus.ACTIVE,
    });
  });

  it("keys update changes exactly the given fields", async () => {
    const updated = fromJson(
      UpdateKeyResponseSchema,
      json(
        await cli.run([
          "keys",
          "update",
          mobile.keyId,
          "--name",
          "Mobile App (EU)",
          "--clear-allow-ip",
          "--json",
        ]),
      ) as never,
    );
    expect(updated.key).toMatchObject({
      name: "Mobile App (EU)",
      ipAllowlist: [],
      permissions: ["orders:read", "products:read"],
      description: "iOS + Android",
    });
    expect(await verify(mobile.secret, "GET /api/orders", "203.0.113.1")).toMatchObject({ valid: true });
    const nothing = await cli.run(["keys", "update", mobile.keyId]);
    expect(nothing.code).toBe(ExitCode.usage);
    oneErrorLine(nothing);
  });

  it("keys rotate needs --yes without a terminal, then prints only the new secret, once", async () => {
    const refused = await cli.run(["keys", "rotate", erp.keyId]);
    expect(refused.code).toBe(ExitCode.usage);
    expect(oneErrorLine(refused)).toBe(
      `apikeys: refusing to rotate key ${erp.keyId} without confirmation: stdin is not a terminal; pass --yes`,
    );
    expect((await verify(erp.secret)).valid, "nothing changed").toBe(true);

    const rotated = ok(await cli.run(["keys", "rotate", erp.keyId, "--yes"]));
    expect(rotated.stdout).toMatch(
      new RegExp(`^Rotated key "ERP Inventory Sync" \\(${erp.keyId}\\)\\.$`, "m"),
    );
    const fresh = secretLineOf(rotated.stdout);
    cli.issued(rotated, fresh);
    expect(rotated.stdout).not.toContain(erp.secret);
    expect(await verify(fresh)).toMatchObject({ valid: true, keyId: erp.keyId, secretGeneration: 2 });
    expect((await verify(erp.secret)).valid, "without --overlap the old secret stops at once").toBe(false);

    const overlapRun = await cli.run(["keys", "rotate", erp.keyId, "--yes", "--overlap", "1h", "--json"]);
    const overlapped = fromJson(RotateKeyResponseSchema, json(overlapRun) as never);
    cli.issued(overlapRun, overlapped.secret, overlapped.secretKey);
    expect(await verify(overlapped.secret)).toMatchObject({ valid: true, secretGeneration: 3 });
    expect(await verify(fresh)).toMatchObject({ valid: true, secretSuperseded: true });
    erp = { keyId: erp.keyId, secret: overlapped.secret };
  });

  it("keys revoke needs --yes without a terminal; revoked keys stop verifying and rotation exits 5", async () => {
    const victim = await createKeyJson("Leaked key");
    const refused = await cli.run(["keys", "revoke", victim.keyId, "--reason", "leaked"]);
    expect(refused.code).toBe(ExitCode.usage);
    oneErrorLine(refused);
    expect(await keyStatus(victim.keyId)).toBe(KeyStatus.ACTIVE);

    const revoked = ok(await cli.run(["keys", "revoke", victim.keyId, "--reason", "leaked", "--yes"]));
    expect(revoked.stdout).toBe(`Revoked key "Leaked key" (${victim.keyId}).\n`);
    expect(await verify(victim.secret)).toMatchObject({ valid: false, code: "REVOKED" });
    const again = fromJson(
      RevokeKeyResponseSchema,
      json(await cli.run(["keys", "revoke", victim.keyId, "--yes", "--json"])) as never,
    );
    expect(again.key?.revokeReason).toBe("leaked");

    const listed = fromJson(
      ListKeysResponseSchema,
      json(await cli.run(["keys", "list", "--tenant", TENANT, "--status", "revoked", "--json"])) as never,
    );
    expect(listed.keys.map((k) => k.keyId)).toEqual([victim.keyId]);

    const rotate = await cli.run(["keys", "rotate", victim.keyId, "--yes"]);
    expect(rotate.code).toBe(ExitCode.rejected);
    expect(rotate.stdout).toBe("");
    oneErrorLine(rotate);
  });

  it("keys delete needs --yes without a terminal; a deleted key leaves listings and deleting it again exits 4", async () => {
    const doomed = await createKeyJson("Short-lived key");
    const refused = await cli.run(["keys", "delete", doomed.keyId]);
    expect(refused.code).toBe(ExitCode.usage);
    expect(await keyStatus(doomed.keyId)).toBe(KeyStatus.ACTIVE);

    const deleted = ok(await cli.run(["keys", "delete", doomed.keyId, "--yes"]));
    expect(deleted.stdout).toBe(`Deleted key "Short-lived key" (${doomed.keyId}).\n`);
    expect(await verify(doomed.secret)).toMatchObject({ valid: false });
    const shown = ok(await cli.run(["keys", "get", doomed.keyId]));
    expect(shown.stdout).toMatch(/^Status:\s+deleted$/m);
    const listed = ok(await cli.run(["keys", "list", "--tenant", TENANT]));
    expect(listed.stdout).not.toContain(doomed.keyId);
    const withDeleted = ok(await cli.run(["keys", "list", "--tenant", TENANT, "--show-deleted"]));
    expect(withDeleted.stdout).toMatch(new RegExp(`^Short-lived key\\s+${doomed.keyId}\\s+deleted\\s`, "m"));

    const again = await cli.run(["keys", "delete", doomed.keyId, "--yes"]);
    expect(again.code).toBe(ExitCode.notFound);
    expect(again.stdout).toBe("");
    oneErrorLine(again);
  });

  it("groups delete: refused while keys use the group (exit 5), needs --yes, then the group is gone", async () => {
    const inUse = await cli.run(["groups", "delete", groupId, "--yes"]);
    expect(inUse.code).toBe(ExitCode.rejected);
    oneErrorLine(inUse);

    const unused = fromJson(
      ListGroupsResponseSchema,
      json(await cli.run(["groups", "list", "--tenant", TENANT, "--json"])) as never,
    ).groups.find((g) => g.name === "Unused");
    const unusedId = unused?.groupId ?? "";
    const refused = await cli.run(["groups", "delete", unusedId]);
    expect(refused.code).toBe(ExitCode.usage);
    ok(await cli.run(["groups", "delete", unusedId, "--yes"]));
    expect((await cli.run(["groups", "get", unusedId])).code).toBe(ExitCode.notFound);
  });

  it("tenant get / set-limit: the limit is enforced (exit 7) and only a super user may set it (exit 3)", async () => {
    const tenantAdmin = await createKeyJson("acme admin", ["--permission", "apikeys:admin"]);
    // ERP, Mobile and the tenant admin: the revoked and the deleted key freed their slots.
    const shown = ok(await cli.run(["tenant", "get", "--tenant", TENANT]));
    expect(shown.stdout).toMatch(
      new RegExp(`^${TENANT} "Acme": 3/${DEFAULT_LIMIT} keys \\(server default limit, etag \\S+\\)\n$`),
    );

    const notAllowed = await cli.run(["tenant", "set-limit", "9", "--tenant", TENANT], {
      APIKEYS_ADMIN_KEY: tenantAdmin.secret,
    });
    expect(notAllowed.code).toBe(ExitCode.auth);
    oneErrorLine(notAllowed);

    const set = fromJson(
      UpdateTenantResponseSchema,
      json(await cli.run(["tenant", "set-limit", "4", "--tenant", TENANT, "--json"])) as never,
    );
    expect(set.tenant).toMatchObject({ keyLimit: 4, usedKeys: 3, keyLimitOverridden: true });
    await createKeyJson("Fourth key");
    const full = await cli.run(["keys", "create", "--tenant", TENANT, "--name", "Fifth key"]);
    expect(full.code).toBe(ExitCode.exhausted);
    expect(full.stdout).toBe("");
    expect(oneErrorLine(full)).toMatch(/4\/4 keys/);

    const cleared = ok(await cli.run(["tenant", "set-limit", "--clear", "--tenant", TENANT]));
    expect(cleared.stdout).toMatch(
      new RegExp(`^${TENANT} "Acme": 4/${DEFAULT_LIMIT} keys \\(server default limit, etag \\S+\\)\n$`),
    );
    const asAdmin = fromJson(
      GetTenantResponseSchema,
      json(await cli.run(["tenant", "get", "--json"], { APIKEYS_ADMIN_KEY: tenantAdmin.secret })) as never,
    );
    expect(asAdmin.tenant).toMatchObject({ tenantId: TENANT, usedKeys: 4, keyLimit: DEFAULT_LIMIT });
  });

  it("usage shows a key's usage log (endpoint, IP, verdict, status); --code filters; --json parses", async () => {
    await verify(erp.secret, "GET /api/stock/42", "198.51.100.9");
    await verify(erp.secret, "POST /api/stock", "198.51.100.9");
    await verify(erp.secret, "DELETE /api/stock/1", "198.51.100.9", ["stock:delete"]);
    // The usage log is written asynchronously (USAGE_FLUSH_INTERVAL_MS): wait for it through the admin API.
    const root = adminKey;
    await expect
      .poll(async () => (await service.audit(root).listKeyUsage({ keyId: erp.keyId })).events.length, {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(3);

    const table = ok(await cli.run(["usage", erp.keyId]));
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+ENDPOINT\s+IP ADDRESS\s+CODE\s+STATUS$/);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+DELETE \/api\/stock\/1\s+198\.51\.100\.9\s+INSUFFICIENT_PERMISSIONS\s+403$/,
    );
    expect(lines[2]).toMatch(/\s+POST \/api\/stock\s+198\.51\.100\.9\s+VALID\s+200$/);
    expect(lines[3]).toMatch(/\s+GET \/api\/stock\/42\s+198\.51\.100\.9\s+VALID\s+200$/);

    const refused = ok(await cli.run(["usage", erp.keyId, "--code", "insufficient-permissions"]));
    expect(refused.stdout.trim().split("\n").slice(1)).toEqual([
      expect.stringMatching(/\s+DELETE \/api\/stock\/1\s+198\.51\.100\.9\s+INSUFFICIENT_PERMISSIONS\s+403$/),
    ]);
    const parsed = fromJson(
      ListKeyUsageResponseSchema,
      json(await cli.run(["usage", erp.keyId, "--json", "--all", "--since", "1h"])) as never,
    );
    const endpoints = parsed.events.map((e) => (e.detail.case === "usage" ? e.detail.value.endpoint : ""));
    expect(endpoints.slice(0, 3)).toEqual(["DELETE /api/stock/1", "POST /api/stock", "GET /api/stock/42"]);
    expect(parsed.events.every((e: AuditEvent) => e.kind === AuditEventKind.USAGE)).toBe(true);
    const codes = parsed.events.map((e) => (e.detail.case === "usage" ? e.detail.value.code : -1));
    expect(codes).toContain(VerificationCode.VALID);
  });

  it("audit history lists who changed a key, newest first, with request ids", async () => {
    const history = ok(await cli.run(["audit", "history", "--key-id", erp.keyId, "--tenant", TENANT]));
    // One line per event; the changed fields' before and after values follow each, indented.
    const lines = history.stdout.trim().split("\n");
    const events = lines.filter((line) => /^\S/.test(line));
    expect(events.map((line) => /admin\s+acme\s+(key\.\w+)/.exec(line)?.[1])).toEqual([
      "key.rotated",
      "key.rotated",
      "key.created",
    ]);
    expect(events[2]).toMatch(new RegExp(`key=${erp.keyId}\\s+by=ak_live_\\w+.*request=[0-9a-f-]{36}$`));
    expect(lines.some((line) => /^\s+\S.*->/.test(line))).toBe(true);
    const parsed = fromJson(
      ListAdminEventsResponseSchema,
      json(await cli.run(["audit", "history", "--tenant", TENANT, "--json", "--limit", "2"])) as never,
    );
    expect(parsed.events).toHaveLength(2);
    expect(parsed.nextPageToken).not.toBe("");
  });

  it("exit codes: 3 for a bad admin key, 4 for an unknown key, 2 for usage errors, 6 when the server is down", async () => {
    const bogus = unknownKeyOf();
    const badKey = await cli.run(["keys", "list"], { APIKEYS_ADMIN_KEY: bogus });
    expect(badKey.code).toBe(ExitCode.auth);
    expect(oneErrorLine(badKey)).toMatch(/\(unauthenticated\)$/);
    expect(badKey.stderr).not.toContain(bogus);
    cli.neverShown(bogus);

    const missing = await cli.run(["--json", "keys", "get", unknownKeyIdOf()]);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stdout).toBe("");

    const usage = await cli.run(["keys", "list", "--status", "sleeping"]);
    expect(usage.code).toBe(ExitCode.usage);
    oneErrorLine(usage);

    const invalid = await cli.run(["keys", "create", "--tenant", TENANT, "--name", "x"]);
    expect(invalid.code).toBe(ExitCode.rejected);
    expect(oneErrorLine(invalid)).toMatch(/\(invalid_argument\)$/);

    const viaConnect = await cli.run(["keys", "list", "--tenant", TENANT, "--json"], {
      APIKEYS_URL: service.httpBaseUrl,
      APIKEYS_SERVER: "",
    });
    expect(fromJson(ListKeysResponseSchema, json(viaConnect) as never).tenant?.usedKeys).toBe(4);

    await service.stop();
    try {
      const down = await cli.run(["keys", "list", "--timeout", "3000"]);
      expect(down.code).toBe(ExitCode.unavailable);
      expect(down.stdout).toBe("");
      oneErrorLine(down);
    } finally {
      await service.start();
    }
    ok(await cli.run(["keys", "list", "--tenant", TENANT]));
  });

  it("every secret appeared once, in the output of the command that issued it, and in no other output", () => {
    expect(cli.runs.length).toBeGreaterThan(40);
    cli.expectSecretsShownOnce();
  });
});
