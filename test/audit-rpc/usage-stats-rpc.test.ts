/**
 * GetUsageStats over real servers, on both transports: verifications through VerifyKey show up, counted per
 * verification code, in the key's and the tenant's hour and day buckets once the replica flushed
 * (USAGE_STATS_FLUSH_INTERVAL_MS); access follows the audit API (super user: any tenant; tenant admin: its
 * own tenant, another tenant's key NOT_FOUND, another tenant_id PERMISSION_DENIED; any other key
 * PERMISSION_DENIED); bad requests are INVALID_ARGUMENT naming the field; the CLI prints the series.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { AuditService, UsageGranularity } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { USAGE_ROLLUPS_COLLECTION } from "../../src/storage/usage-rollup-store.js";
import { rpcFailure, TRANSPORTS, useAdminServer } from "../admin/helpers/admin-server.js";
import { createdTenant } from "../admin/helpers/created-tenant.js";
import { runInProcess } from "../cli/helpers/cli-runner.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient } from "../helpers/grpc-client.js";

const FLUSH_MS = 100;
const admin = useAdminServer("usagestatsrpc", { USAGE_STATS_FLUSH_INTERVAL_MS: String(FLUSH_MS) });

type Counts = Partial<Record<keyof typeof VerificationCode, number>>;

describe.each(TRANSPORTS)("GetUsageStats over %s", (transport) => {
  const api = () => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });
  const audit = () => {
    const server = admin.server;
    return transport === "grpc-js"
      ? createGrpcJsClient(AuditService, server.grpcAddress)
      : createConnectClient(AuditService, server.httpBaseUrl);
  };
  const headers = (key: string) =>
    transport === "grpc-js"
      ? { metadata: { authorization: `Bearer ${key}` } }
      : { headers: { authorization: `Bearer ${key}` } };

  let tenantId = "";
  let otherTenant = "";
  let keyId = "";
  let otherKeyId = "";
  let tenantAdminKey = "";
  let holderKey = "";

  beforeAll(async () => {
    tenantId = await createdTenant(api(), admin.superuserKey(), "stats");
    otherTenant = await createdTenant(api(), admin.superuserKey(), "stats");
    const target = await api().createKey({ tenantId, name: "counted", ipAllowlist: ["10.0.0.0/8"] }, su());
    keyId = target.key?.keyId ?? "";
    otherKeyId = (await api().createKey({ tenantId: otherTenant, name: "other" }, su())).key?.keyId ?? "";
    tenantAdminKey = (
      await api().createKey({ tenantId, name: "admin", permissions: ["apikeys:admin"] }, su())
    ).secret;
    holderKey = (await api().createKey({ tenantId, name: "holder", userId: "u1" }, su())).secret;
    const verify = createConnectClient(KeyVerifyService, admin.server.httpBaseUrl);
    for (let i = 0; i < 7; i += 1) {
      await verify.verifyKey({ credential: { case: "key", value: target.secret }, clientIp: "10.1.1.1" });
    }
    for (let i = 0; i < 3; i += 1) {
      await verify.verifyKey({ credential: { case: "key", value: target.secret }, clientIp: "192.0.2.9" });
    }
    // The replica adds its counts every FLUSH_MS.
    await vi.waitFor(
      async () => {
        // Key and tenant, hour and day: four buckets of 10 verifications each.
        const buckets = await admin.server.db
          .collection<{ counts: Record<string, number> }>(USAGE_ROLLUPS_COLLECTION)
          .find({ tenantId })
          .toArray();
        const sum = buckets.flatMap((bucket) => Object.values(bucket.counts)).reduce((a, b) => a + b, 0);
        expect(sum).toBe(40);
      },
      { timeout: 20_000, interval: 50 },
    );
  });

  /** countsOf sums the buckets' counts per verdict (the calls may straddle an hour or day boundary). */
  function countsOf(
    buckets: ReadonlyArray<{ counts: Array<{ code: VerificationCode; count: bigint }> }>,
  ): Counts {
    const counts: Record<string, number> = {};
    for (const count of buckets.flatMap((bucket) => bucket.counts)) {
      const name = VerificationCode[count.code];
      counts[name] = (counts[name] ?? 0) + Number(count.count);
    }
    return counts;
  }

  it("answers a key's hour buckets with the exact count per verification code", async () => {
    const response = await audit().getUsageStats({ keyId }, headers(admin.superuserKey()) as never);
    expect(response.granularity).toBe(UsageGranularity.HOUR);
    expect(response.tenantId).toBe(tenantId);
    expect(response.buckets).toHaveLength(24);
    expect(countsOf(response.buckets)).toEqual({ VALID: 7, IP_NOT_ALLOWED: 3 });
    expect(response.buckets.reduce((sum, bucket) => sum + bucket.total, 0n)).toBe(10n);
    expect(response.buckets.slice(0, -2).every((bucket) => bucket.total === 0n)).toBe(true);
  });

  it("shows each key's requests of the last 24 hours in GetKey and ListKeys", async () => {
    expect((await api().getKey({ keyId }, su())).key?.requestsLast24h).toBe(10n);
    const listed = await api().listKeys({}, { key: tenantAdminKey });
    const counts = Object.fromEntries(listed.keys.map((key) => [key.keyId, key.requestsLast24h]));
    expect(counts[keyId]).toBe(10n);
    expect(
      Object.values(counts)
        .filter((n) => n !== 10n)
        .every((n) => n === 0n),
    ).toBe(true);
  });

  it("answers a tenant's day buckets to its own admin", async () => {
    const response = await audit().getUsageStats(
      { granularity: UsageGranularity.DAY },
      headers(tenantAdminKey) as never,
    );
    expect(response.tenantId).toBe(tenantId);
    expect(response.keyId).toBe("");
    expect(response.buckets).toHaveLength(30);
    expect(countsOf(response.buckets)).toEqual({ VALID: 7, IP_NOT_ALLOWED: 3 });
  });

  it("refuses what the caller may not see", async () => {
    const call = (request: object, key: string) =>
      audit().getUsageStats(request as never, headers(key) as never);
    expect((await rpcFailure(call({ keyId: otherKeyId }, tenantAdminKey))).code).toBe("NOT_FOUND");
    expect((await rpcFailure(call({ tenantId: otherTenant }, tenantAdminKey))).code).toBe(
      "PERMISSION_DENIED",
    );
    expect((await rpcFailure(call({ keyId }, holderKey))).code).toBe("PERMISSION_DENIED");
    expect((await rpcFailure(call({ tenantId }, holderKey))).code).toBe("PERMISSION_DENIED");
  });

  it.each([
    ["both tenant_id and key_id", () => ({ tenantId: "acme", keyId: "ak_x" }), "tenant_id"],
    [
      "end before start",
      () => ({
        startTime: timestampFromDate(new Date(2_000_000_000_000)),
        endTime: timestampFromDate(new Date(1_900_000_000_000)),
      }),
      "end_time",
    ],
    [
      "more than 744 hour buckets",
      () => ({ startTime: timestampFromDate(new Date(Date.now() - 40 * 86_400_000)) }),
      "start_time",
    ],
    ["an undefined granularity", () => ({ granularity: 7 }), "granularity"],
  ])("refuses %s naming the field", async (_name, request, field) => {
    const failure = await rpcFailure(
      audit().getUsageStats({ tenantId, ...request() } as never, headers(admin.superuserKey()) as never),
    );
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message.startsWith(`${field}: `), failure.message).toBe(true);
  });

  it("has the CLI print the series", async () => {
    const target =
      transport === "grpc-js" ? ["--server", admin.server.grpcAddress] : ["--url", admin.server.httpBaseUrl];
    const run = await runInProcess([...target, "stats", "--key-id", keyId, "--since", "1h"], {
      env: { APIKEYS_ADMIN_KEY: admin.superuserKey() },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
    const rows = run.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^HOUR\s+TOTAL\s+VALID\s+/);
    expect(rows).toHaveLength(3);
    // Columns HOUR (two cells: date and time), UTC, TOTAL, VALID, IP_NOT_ALLOWED; summed over both hours.
    const cells = rows.slice(1).map((row) => row.trim().split(/\s+/).slice(3).map(Number));
    expect(cells.reduce((sum, row) => sum.map((n, i) => n + (row[i] ?? 0)), [0, 0, 0])).toEqual([10, 7, 3]);
  });
});
