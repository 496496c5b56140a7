/**
 * Machine-readable validation errors over real servers: INVALID_ARGUMENT carries a google.rpc.BadRequest
 * with one field violation per bad field, its path in proto field names, on both transports; the CLI prints
 * the violations; nothing is stored.
 */
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { FieldViolation } from "../../src/domain/errors.js";
import { fieldViolationsOf } from "../../src/rpc/error-info.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { runInProcess } from "../cli/helpers/cli-runner.js";
import { grpcFieldViolations, isServiceError } from "../helpers/grpc-client.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { TRANSPORTS, type TransportName, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("adminviolations");

/** violationsOf awaits a failing call and returns its status code number and field violations. */
async function violationsOf(
  promise: Promise<unknown>,
): Promise<{ code: number; violations: FieldViolation[] }> {
  let error: unknown;
  try {
    await promise;
  } catch (thrown) {
    error = thrown;
  }
  if (error instanceof ConnectError) {
    return { code: error.code, violations: fieldViolationsOf(error) };
  }
  if (isServiceError(error)) {
    return { code: error.code, violations: grpcFieldViolations(error) };
  }
  throw new Error(`expected an RPC error, got ${String(error)}`);
}

const INVALID_ARGUMENT = 3;

describe.each(TRANSPORTS)("field violations over %s", (transport: TransportName) => {
  const api = () => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });

  it("names the one bad allowlist entry of a CreateKey by its index", async () => {
    const tenantId = uniqueTenant("viol");
    const failure = await violationsOf(
      api().createKey(
        { tenantId, name: "valid name", ipAllowlist: ["10.0.0.0/8", "192.168.0.0/16", "10.0.0.1/8"] },
        su(),
      ),
    );
    expect(failure.code).toBe(INVALID_ARGUMENT);
    expect(failure.violations).toEqual([{ field: "ip_allowlist[2]", description: expect.any(String) }]);
    expect(failure.violations[0]?.description).toContain("10.0.0.1/8");
  });

  it("names every bad field of one CreateKey", async () => {
    const tenantId = uniqueTenant("viol");
    const failure = await violationsOf(
      api().createKey({ tenantId, name: "", permissions: ["ok:read", "Bad Perm"], ipAllowlist: [""] }, su()),
    );
    expect(failure.code).toBe(INVALID_ARGUMENT);
    expect(failure.violations.map((violation) => violation.field)).toEqual([
      "name",
      "permissions[1]",
      "ip_allowlist[0]",
    ]);
    expect(await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(0);
  });

  it("names the nested path of a bad UpdateKey field", async () => {
    const tenantId = uniqueTenant("viol");
    const created = await api().createKey({ tenantId, name: "target" }, su());
    const keyId = created.key?.keyId ?? "";
    const failure = await violationsOf(
      api().updateKey(
        { key: { keyId, ipAllowlist: ["10.0.0.0/8", "nonsense"] }, updateMask: { paths: ["ip_allowlist"] } },
        su(),
      ),
    );
    expect(failure.code).toBe(INVALID_ARGUMENT);
    expect(failure.violations.map((violation) => violation.field)).toEqual(["key.ip_allowlist[1]"]);
  });

  it("has the CLI print each violation", async () => {
    const target =
      transport === "grpc-js" ? ["--server", admin.server.grpcAddress] : ["--url", admin.server.httpBaseUrl];
    const run = await runInProcess(
      [
        ...target,
        "keys",
        "create",
        "--tenant",
        uniqueTenant("viol"),
        "--name",
        "x",
        "--allow-ip",
        "10.0.0.0/8",
        "--allow-ip",
        "10.0.0.1/8",
      ],
      { env: { APIKEYS_ADMIN_KEY: admin.superuserKey() } },
    );
    expect(run.code).toBe(ExitCode.rejected);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^apikeys: name: .*; ip_allowlist\[1\]: .*\(invalid_argument\)$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}name: /),
      expect.stringMatching(/^ {2}ip_allowlist\[1\]: "10\.0\.0\.1\/8" /),
    ]);
  });
});
