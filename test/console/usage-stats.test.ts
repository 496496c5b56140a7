/** The key page's usage statistics and history values: series totals, bar heights, values before and after. */
import { create, fromJson } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { fieldChangeOf, valueText } from "../../console/src/format.js";
import { barPercent, countOf, summarizeUsage } from "../../console/src/usage-stats.js";
import { FieldChangeSchema } from "../../src/gen/apikeys/v1/audit_pb.js";
import { UsageBucketSchema } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";

const bucket = (hour: number, counts: [VerificationCode, bigint][]) =>
  create(UsageBucketSchema, {
    startTime: timestampFromDate(new Date(Date.UTC(2030, 0, 15, hour))),
    total: counts.reduce((sum, [, count]) => sum + count, 0n),
    counts: counts.map(([code, count]) => ({ code, count })),
  });

describe("summarizeUsage", () => {
  it("adds up totals per verdict in code order and keeps only the busy hours for the table", () => {
    const series = [
      bucket(10, [[VerificationCode.VALID, 3n]]),
      bucket(11, []),
      bucket(12, [
        [VerificationCode.VALID, 1n],
        [VerificationCode.IP_NOT_ALLOWED, 5n],
      ]),
    ];
    const summary = summarizeUsage(series);
    expect(summary.total).toBe(9n);
    expect(summary.codes).toEqual([
      [VerificationCode.VALID, 4n],
      [VerificationCode.IP_NOT_ALLOWED, 5n],
    ]);
    expect(summary.busiest).toBe(6n);
    expect(summary.busyBuckets).toEqual([series[0], series[2]]);
    expect(countOf(series[2] as never, VerificationCode.IP_NOT_ALLOWED)).toBe(5n);
    expect(countOf(series[2] as never, VerificationCode.REVOKED)).toBe(0n);
  });

  it("is all zero for an empty series", () => {
    expect(summarizeUsage([bucket(1, [])])).toMatchObject({
      total: 0n,
      codes: [],
      busiest: 0n,
      busyBuckets: [],
    });
  });
});

describe("barPercent", () => {
  it("scales to the busiest hour, shows any traffic, and nothing for none", () => {
    expect(barPercent(6n, 6n)).toBe(100);
    expect(barPercent(3n, 6n)).toBe(50);
    expect(barPercent(1n, 1000n)).toBe(4);
    expect(barPercent(0n, 6n)).toBe(0);
    expect(barPercent(0n, 0n)).toBe(0);
  });
});

describe("history values", () => {
  const change = (field: string, before: unknown, after: unknown) =>
    create(FieldChangeSchema, {
      field,
      oldValue: fromJson(ValueSchema, before as never),
      newValue: fromJson(ValueSchema, after as never),
    });

  it("shows each changed field's previous and new value in words", () => {
    expect(fieldChangeOf(change("name", "ERP", "ERP v2"))).toEqual({
      label: "name",
      before: "“ERP”",
      after: "“ERP v2”",
    });
    expect(fieldChangeOf(change("ip_allowlist", ["10.0.0.0/8"], []))).toEqual({
      label: "IP allowlist",
      before: "[10.0.0.0/8]",
      after: "[]",
    });
    expect(fieldChangeOf(change("labels", {}, { tier: "gold" }))).toMatchObject({
      before: "{}",
      after: "{tier=gold}",
    });
    expect(fieldChangeOf(change("key_limit", null, 5))).toEqual({
      label: "key limit",
      before: "—",
      after: "5",
    });
  });

  it("shows times in the browser's zone, not as RFC 3339 text", () => {
    const text = valueText(fromJson(ValueSchema, "2030-01-15T12:00:00Z"));
    expect(text).not.toContain("2030-01-15T");
    expect(text).toContain("2030");
    expect(valueText(undefined)).toBe("—");
  });
});
