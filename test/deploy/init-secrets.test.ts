/**
 * scripts/init-secrets.sh, the compose stack's one-time command: it writes secrets the service accepts in
 * production, readable by their owner only, and never replaces them (a new pepper would lock every key out).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/server/config.js";

const SCRIPT = "scripts/init-secrets.sh";

function initSecrets(file: string) {
  return spawnSync(SCRIPT, [file], { encoding: "utf8" });
}

/** envFile reads KEY=value lines the way compose does for these values (no quoting needed). */
function envFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      values[match[1]] = match[2];
    }
  }
  return values;
}

describe("scripts/init-secrets.sh", () => {
  const dir = mkdtempSync(join(tmpdir(), "apikeys-secrets-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a pepper and a bootstrap token that the service accepts in production, for its owner only", () => {
    const file = join(dir, "first.env");
    const run = initSecrets(file);
    expect(run.status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secrets = envFile(file);
    expect(Object.keys(secrets).sort()).toEqual(["BOOTSTRAP_TOKEN", "KEY_HASH_PEPPER"]);

    const config = loadConfig({
      NODE_ENV: "production",
      MONGODB_URI: "mongodb://mongo:27017/?replicaSet=rs0",
      ...secrets,
    });
    expect(config.keys.usingDevPepper).toBe(false);
    expect(config.keys.pepper.pepper).toBe(secrets.KEY_HASH_PEPPER);
    expect(run.stdout + run.stderr).not.toContain(secrets.KEY_HASH_PEPPER);
  });

  it("makes new secrets on each first run", () => {
    initSecrets(join(dir, "a.env"));
    initSecrets(join(dir, "b.env"));
    const a = envFile(join(dir, "a.env"));
    const b = envFile(join(dir, "b.env"));
    expect(a.KEY_HASH_PEPPER).not.toBe(b.KEY_HASH_PEPPER);
    expect(a.BOOTSTRAP_TOKEN).not.toBe(b.BOOTSTRAP_TOKEN);
  });

  it("refuses to replace existing secrets, in one line, and leaves them as they were", () => {
    const file = join(dir, "kept.env");
    initSecrets(file);
    const before = readFileSync(file, "utf8");
    const again = initSecrets(file);
    expect(again.status).not.toBe(0);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain(`${file} exists`);
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
