/**
 * The confirmation prompts of rotate / revoke / delete, against the REAL service. A prompt needs a
 * terminal, which a spawned test process does not have, so these commands run in process (runCli) with a
 * scripted terminal; everything else about the CLI runs as separate processes in test/e2e.
 */
import { describe, expect, it } from "vitest";
import { SECRET_LINE_PREFIX } from "../../src/cli/commands/command-helpers.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { unknownKeyIdOf, useRealService } from "../e2e/helpers/real-service.js";
import { runInProcess } from "./helpers/cli-runner.js";

const TENANT = "prompts";
const service = useRealService("cliprompts");

async function terminal(argv: string[], answers: string[]) {
  const root = await service.rootKey();
  return runInProcess(argv, {
    env: { APIKEYS_SERVER: service.grpcAddress, APIKEYS_ADMIN_KEY: root },
    tty: true,
    answers,
  });
}

async function createKey(name: string): Promise<{ keyId: string; secret: string }> {
  await service.tenant(TENANT);
  const response = await service.admin(await service.rootKey()).createKey({ tenantId: TENANT, name });
  return { keyId: response.key?.keyId ?? "", secret: response.secret };
}

async function statusOf(keyId: string): Promise<KeyStatus | undefined> {
  return (await service.admin(await service.rootKey()).getKey({ keyId })).key?.status;
}

describe("confirmation prompts on a terminal", () => {
  it("revoke asks with the key's name and does nothing when declined (exit 1)", async () => {
    const { keyId } = await createKey("Kept key");
    for (const answer of ["n", "", "no", "maybe"]) {
      const run = await terminal(["keys", "revoke", keyId], [answer]);
      expect(run.code).toBe(ExitCode.unexpected);
      expect(run.prompts).toEqual([
        `Are you sure you want to revoke the API key "Kept key" (${keyId})? This action cannot be undone and any applications using this key will lose access immediately. [y/N] `,
      ]);
      expect(run.stderr).toBe(`apikeys: aborted: revoke key ${keyId} not confirmed\n`);
      expect(run.stdout).toBe("");
    }
    expect(await statusOf(keyId)).toBe(KeyStatus.ACTIVE);

    const confirmed = await terminal(["keys", "revoke", keyId], ["y"]);
    expect(confirmed.code, confirmed.stderr).toBe(ExitCode.ok);
    expect(confirmed.stdout).toBe(`Revoked key "Kept key" (${keyId}).\n`);
    expect(await statusOf(keyId)).toBe(KeyStatus.REVOKED);
  });

  it("rotate tells what happens to the current secret, and prints only the new secret once", async () => {
    const { keyId, secret } = await createKey("Rotated key");
    const run = await terminal(["keys", "rotate", keyId, "--overlap", "24h"], ["yes"]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    expect(run.prompts).toEqual([
      `Rotate API key "Rotated key" (${keyId})? The current secret keeps working for 24h. [y/N] `,
    ]);
    const secretLines = run.stdout.split("\n").filter((line) => line.startsWith(SECRET_LINE_PREFIX));
    expect(secretLines).toHaveLength(1);
    const fresh = (secretLines[0] as string).slice(SECRET_LINE_PREFIX.length);
    expect(fresh.startsWith(`${keyId}_`)).toBe(true);
    expect(fresh).not.toBe(secret);
    expect(run.stdout).not.toContain(secret);

    const immediate = await terminal(["keys", "rotate", keyId], ["n"]);
    expect(immediate.prompts[0]).toContain("Applications using the current secret lose access immediately.");
    expect(immediate.code).toBe(ExitCode.unexpected);
  });

  it("delete of a key and of a group ask first; --yes never asks", async () => {
    const { keyId } = await createKey("Deleted key");
    const run = await terminal(["keys", "delete", keyId], ["y"]);
    expect(run.code, run.stderr).toBe(ExitCode.ok);
    expect(run.prompts).toEqual([
      `Delete the API key "Deleted key" (${keyId})? Any application using it loses access immediately. [y/N] `,
    ]);

    const root = await service.rootKey();
    await service.tenant(TENANT);
    const group = await service.admin(root).createGroup({ tenantId: TENANT, name: "Temporary" });
    const groupId = group.group?.groupId ?? "";
    const declined = await terminal(["groups", "delete", groupId], ["N"]);
    expect(declined.code).toBe(ExitCode.unexpected);
    expect(declined.prompts).toEqual([`Delete the authorization group "Temporary" (${groupId})? [y/N] `]);
    const unasked = await terminal(["groups", "delete", groupId, "--yes"], []);
    expect(unasked.code, unasked.stderr).toBe(ExitCode.ok);
    expect(unasked.prompts).toEqual([]);
  });

  it("asks nothing and exits 4 when the key does not exist", async () => {
    const run = await terminal(["keys", "revoke", unknownKeyIdOf()], ["y"]);
    expect(run.code).toBe(ExitCode.notFound);
    expect(run.prompts).toEqual([]);
  });
});
