import { describe, expect, it } from "vitest";
import { encodeAuditPageToken } from "../../../src/domain/audit-cursor.js";
import {
  type AdminEventsRequest,
  type KeyUsageRequest,
  toAdminEventQuery,
  toKeyUsageQuery,
} from "../../../src/domain/audit-query.js";
import type { DomainError } from "../../../src/domain/errors.js";

const usage: KeyUsageRequest = {
  keyId: "ak_test_key1",
  startTime: null,
  endTime: null,
  codes: [],
  pageSize: 0,
  pageToken: "",
};
const admin: AdminEventsRequest = {
  tenantId: "tenant_a",
  keyId: "",
  groupId: "",
  pageSize: 0,
  pageToken: "",
};
const t0 = new Date("2026-03-01T00:00:00Z");
const t1 = new Date("2026-03-02T00:00:00Z");

describe("toKeyUsageQuery", () => {
  it("applies defaults and the caller's tenant scope", () => {
    expect(toKeyUsageQuery(usage, "tenant_a")).toEqual({
      keyId: "ak_test_key1",
      tenantId: "tenant_a",
      from: null,
      to: null,
      codes: [],
      limit: 50,
      after: null,
    });
  });

  it("deduplicates codes and decodes the page token", () => {
    const token = encodeAuditPageToken({ time: t0, seq: 7 });
    const query = toKeyUsageQuery(
      { ...usage, codes: ["valid", "revoked", "valid"], pageToken: token, startTime: t0, endTime: t1 },
      null,
    );
    expect(query.codes).toEqual(["valid", "revoked"]);
    expect(query.after).toEqual({ time: t0, seq: 7 });
    expect(query.from).toEqual(t0);
    expect(query.to).toEqual(t1);
    expect(query.tenantId).toBeNull();
  });

  it.each([
    ["key_id", { keyId: "" }],
    ["key_id", { keyId: "k".repeat(257) }],
    ["end_time", { startTime: t1, endTime: t0 }],
    ["end_time", { startTime: t0, endTime: t0 }],
    ["page_size", { pageSize: -1 }],
    ["page_size", { pageSize: 1001 }],
    ["page_size", { pageSize: 2.5 }],
    ["page_token", { pageToken: "garbage" }],
  ] as const)("rejects a bad %s", (field, change) => {
    expect.assertions(2);
    try {
      toKeyUsageQuery({ ...usage, ...change }, null);
    } catch (error) {
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe(field);
    }
  });

  it.each([[1], [1000], [50]])("accepts page size %i", (pageSize) => {
    expect(toKeyUsageQuery({ ...usage, pageSize }, null).limit).toBe(pageSize);
  });
});

describe("toAdminEventQuery", () => {
  it("turns empty ids into null", () => {
    expect(toAdminEventQuery(admin)).toEqual({
      tenantId: "tenant_a",
      keyId: null,
      groupId: null,
      limit: 50,
      after: null,
    });
    expect(toAdminEventQuery({ ...admin, keyId: "ak_x", groupId: "grp_y", pageSize: 10 })).toMatchObject({
      keyId: "ak_x",
      groupId: "grp_y",
      limit: 10,
    });
  });

  it.each([
    ["tenant_id", { tenantId: "" }],
    ["group_id", { groupId: "g".repeat(300) }],
    ["page_size", { pageSize: 5000 }],
    ["page_token", { pageToken: "AAAA" }],
  ] as const)("rejects a bad %s", (field, change) => {
    expect(() => toAdminEventQuery({ ...admin, ...change })).toThrow(
      expect.objectContaining({ field, kind: "invalid_argument" }),
    );
  });
});
