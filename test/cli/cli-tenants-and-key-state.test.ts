/**
 * The CLI's tenant commands and the key commands for disabling, labels and etags, against the real service:
 * tenant create/list/get/update, keys create --label, list --label / --status disabled, disable/enable, and
 * an update with a stale --etag refused (ABORTED, exit 6) while the current one is accepted.
 */
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { useRealService } from "../e2e/helpers/real-service.js";
import { runInProcess } from "./helpers/cli-runner.js";

const service = useRealService("clitenants");

async function cli(argv: string[]) {
  const root = await service.rootKey();
  return runInProcess(["--json", ...argv], {
    env: { APIKEYS_SERVER: service.grpcAddress, APIKEYS_ADMIN_KEY: root },
  });
}

async function json(argv: string[]): Promise<Record<string, unknown>> {
  const run = await cli(argv);
  expect(run.code, run.stderr).toBe(ExitCode.ok);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe("tenants and key state from the CLI", () => {
  it("creates, lists, shows and updates tenants; a key in an unknown tenant exits 4 naming it", async () => {
    const missing = await cli(["keys", "create", "--tenant", "nowhere", "--name", "orphan"]);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stderr).toContain('"nowhere"');
    const created = await json([
      "tenant",
      "create",
      "--tenant",
      "cli-acme",
      "--display-name",
      "Acme",
      "--limit",
      "5",
    ]);
    expect(created.tenant).toMatchObject({ tenantId: "cli-acme", displayName: "Acme", keyLimit: 5 });
    const listed = await json(["tenant", "list", "--all"]);
    expect((listed.tenants as Array<{ tenantId: string }>).map((t) => t.tenantId)).toContain("cli-acme");
    const updated = await json([
      "tenant",
      "update",
      "--tenant",
      "cli-acme",
      "--display-name",
      "Acme Inc",
      "--clear-limit",
    ]);
    expect(updated.tenant).toMatchObject({ displayName: "Acme Inc" });
    expect((updated.tenant as { keyLimitOverridden?: boolean }).keyLimitOverridden).toBeUndefined();
    const text = await runInProcess(["tenant", "get", "--tenant", "cli-acme"], {
      env: { APIKEYS_SERVER: service.grpcAddress, APIKEYS_ADMIN_KEY: await service.rootKey() },
    });
    expect(text.stdout).toContain('cli-acme "Acme Inc": 0/');
  });

  it("labels, disable and enable, and etags on keys", async () => {
    await service.tenant("cli-keys");
    const created = await json([
      "keys",
      "create",
      "--tenant",
      "cli-keys",
      "--name",
      "labelled",
      "--label",
      "tier=gold",
      "--label",
      "region=eu",
    ]);
    const key = created.key as { keyId: string; etag: string; labels: Record<string, string> };
    expect(key.labels).toEqual({ tier: "gold", region: "eu" });
    const byLabel = await json(["keys", "list", "--tenant", "cli-keys", "--label", "tier=gold"]);
    expect((byLabel.keys as unknown[]).length).toBe(1);

    const disabled = await json(["keys", "disable", key.keyId, "--reason", "audit"]);
    expect(disabled.key).toMatchObject({ status: "KEY_STATUS_DISABLED", disableReason: "audit" });
    const listedDisabled = await json(["keys", "list", "--tenant", "cli-keys", "--status", "disabled"]);
    expect((listedDisabled.keys as Array<{ keyId: string }>).map((k) => k.keyId)).toEqual([key.keyId]);
    const enabled = await json(["keys", "enable", key.keyId]);
    expect(enabled.key).toMatchObject({ status: "KEY_STATUS_ACTIVE" });

    const stale = await cli(["keys", "update", key.keyId, "--name", "renamed", "--etag", key.etag]);
    expect(stale.code).toBe(ExitCode.unavailable);
    expect(stale.stderr).toContain("etag");
    const current = (enabled.key as { etag: string }).etag;
    const renamed = await json([
      "keys",
      "update",
      key.keyId,
      "--name",
      "renamed",
      "--etag",
      current,
      "--clear-labels",
    ]);
    expect(renamed.key).toMatchObject({ name: "renamed" });
    expect((renamed.key as { labels?: unknown }).labels).toBeUndefined();
  });

  it("groups carry labels and take an etag", async () => {
    await service.tenant("cli-groups");
    const created = await json([
      "groups",
      "create",
      "--tenant",
      "cli-groups",
      "--name",
      "partners",
      "--label",
      "region=eu",
    ]);
    const group = created.group as { groupId: string; etag: string; labels: Record<string, string> };
    expect(group.labels).toEqual({ region: "eu" });
    const updated = await json([
      "groups",
      "update",
      group.groupId,
      "--label",
      "region=us",
      "--etag",
      group.etag,
    ]);
    expect(updated.group).toMatchObject({ labels: { region: "us" } });
    const stale = await cli(["groups", "update", group.groupId, "--clear-labels", "--etag", group.etag]);
    expect(stale.code).toBe(ExitCode.unavailable);
    const deleted = await cli([
      "groups",
      "delete",
      group.groupId,
      "--yes",
      "--etag",
      (updated.group as { etag: string }).etag,
    ]);
    expect(deleted.code, deleted.stderr).toBe(ExitCode.ok);
  });
});
