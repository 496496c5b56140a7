/**
 * UsageEvent: one object per VerifyKey verdict whose id and detail are built when first read.
 */
import { describe, expect, it } from "vitest";
import { UsageEvent } from "../../src/verify/usage-event.js";

function origin() {
  let minted = 0;
  return {
    replica: "replica-a",
    ids: () => {
      minted += 1;
      return `id-${minted}`;
    },
    minted: () => minted,
  };
}

const time = new Date("2032-01-01T00:00:00Z");

describe("UsageEvent", () => {
  it("mints its id on first read only, and keeps it", () => {
    const source = origin();
    const dropped = new UsageEvent(source, time, "acme", "ak_k1", "GET /a", "10.0.0.1", "valid", 200);
    const kept = new UsageEvent(source, time, "acme", "ak_k1", "GET /a", "10.0.0.1", "valid", 200);
    expect(source.minted()).toBe(0);
    expect(kept.id).toBe("id-1");
    expect(kept.id).toBe("id-1");
    expect(source.minted()).toBe(1);
    expect(dropped.id).toBe("id-2");
  });

  it.each([
    { tenantId: "acme", keyId: "ak_k1", code: "valid", httpStatus: 200 },
    { tenantId: "acme", keyId: "ak_k1", code: "ip_not_allowed", httpStatus: 403 },
    { tenantId: "", keyId: "", code: "not_found", httpStatus: 401 },
  ] as const)("carries $code ($httpStatus) as a usage detail", ({ tenantId, keyId, code, httpStatus }) => {
    const event = new UsageEvent(
      origin(),
      time,
      tenantId,
      keyId,
      "POST /orders",
      "2001:db8::1",
      code,
      httpStatus,
    );
    const expected = {
      kind: "usage",
      keyId,
      endpoint: "POST /orders",
      clientIp: "2001:db8::1",
      code,
      httpStatus,
      replica: "replica-a",
    };
    expect(event.detail).toEqual(expected);
    expect(event.detail).toBe(event.detail);
    expect(Object.isFrozen(event.detail)).toBe(true);
    expect(event.time).toBe(time);
    expect(event.tenantId).toBe(tenantId);
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      id: event.id,
      time: time.toISOString(),
      tenantId,
      detail: expected,
    });
  });
});
