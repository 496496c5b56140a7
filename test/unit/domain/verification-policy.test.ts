import { describe, expect, it } from "vitest";
import type { VerificationCode } from "../../../src/domain/audit-event.js";
import {
  type CompiledAllowlist,
  compileAllowlist,
  EMPTY_ALLOWLIST,
  normalizeAllowlist,
  type ParsedIp,
  parseClientIp,
} from "../../../src/domain/ip-allowlist.js";
import {
  decideVerification,
  HTTP_STATUS_BY_CODE,
  type MatchedSecret,
  type VerificationFacts,
} from "../../../src/domain/verification-policy.js";

const now = new Date("2030-06-15T12:00:00.000Z");
const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);
const ip = (text: string): ParsedIp => {
  const parsed = parseClientIp(text);
  if (parsed === null) {
    throw new Error(`bad test IP ${text}`);
  }
  return parsed;
};
const allow = (...entries: string[]): CompiledAllowlist => compileAllowlist(normalizeAllowlist(entries));

const current: MatchedSecret = { generation: 2, superseded: false, expiresAt: null };
const activeKey: VerificationFacts["key"] = {
  deletedAt: null,
  revokedAt: null,
  disabledAt: null,
  expiresAt: null,
};

/** facts builds a valid situation and applies the case's changes. */
function facts(changes: Partial<VerificationFacts> = {}): VerificationFacts {
  return {
    key: activeKey,
    matchedSecret: current,
    allowlist: EMPTY_ALLOWLIST,
    clientIp: null,
    requiredPermissions: [],
    effectivePermissions: ["orders:read"],
    now,
    ...changes,
  };
}

describe("decideVerification", () => {
  it.each<[string, Partial<VerificationFacts>, VerificationCode, number]>([
    // valid
    ["active key, no restrictions", {}, "valid", 200],
    ["never-expiring key", { key: { ...activeKey, expiresAt: null } }, "valid", 200],
    // not_found
    ["no key (malformed, bad checksum or unknown id)", { key: null }, "not_found", 401],
    ["deleted key", { key: { ...activeKey, deletedAt: at(-1000) } }, "not_found", 401],
    [
      "deleted and revoked key",
      { key: { ...activeKey, deletedAt: at(-1), revokedAt: at(-2) } },
      "not_found",
      401,
    ],
    ["wrong secret for a known key id", { matchedSecret: null }, "not_found", 401],
    [
      "wrong secret for a revoked key (no state leak)",
      { key: { ...activeKey, revokedAt: at(-1) }, matchedSecret: null },
      "not_found",
      401,
    ],
    [
      "unknown key from a disallowed IP",
      { key: null, allowlist: allow("10.0.0.0/8"), clientIp: ip("203.0.113.9") },
      "not_found",
      401,
    ],
    // revoked
    ["revoked key", { key: { ...activeKey, revokedAt: at(-1) } }, "revoked", 401],
    [
      "revoked and disabled key (revocation wins)",
      { key: { ...activeKey, revokedAt: at(-1), disabledAt: at(-2) } },
      "revoked",
      401,
    ],
    // disabled
    ["disabled key", { key: { ...activeKey, disabledAt: at(-1) } }, "disabled", 401],
    [
      "disabled and expired key (disabled wins)",
      { key: { ...activeKey, disabledAt: at(-1), expiresAt: at(-1) } },
      "disabled",
      401,
    ],
    [
      "wrong secret for a disabled key (no state leak)",
      { key: { ...activeKey, disabledAt: at(-1) }, matchedSecret: null },
      "not_found",
      401,
    ],
    [
      "disabled key from a disallowed IP (disabled first)",
      {
        key: { ...activeKey, disabledAt: at(-1) },
        allowlist: allow("10.0.0.0/8"),
        clientIp: ip("203.0.113.9"),
      },
      "disabled",
      401,
    ],
    [
      "revoked and expired key",
      { key: { ...activeKey, revokedAt: at(-1), expiresAt: at(-1) } },
      "revoked",
      401,
    ],
    [
      "revoked key from a disallowed IP",
      {
        key: { ...activeKey, revokedAt: at(-1) },
        allowlist: allow("10.0.0.0/8"),
        clientIp: ip("203.0.113.9"),
      },
      "revoked",
      401,
    ],
    // expired
    ["now == expiresAt", { key: { ...activeKey, expiresAt: at(0) } }, "expired", 401],
    ["expired by 1 ms", { key: { ...activeKey, expiresAt: at(-1) } }, "expired", 401],
    ["1 ms before expiry", { key: { ...activeKey, expiresAt: at(1) } }, "valid", 200],
    [
      "expired key from a disallowed IP",
      {
        key: { ...activeKey, expiresAt: at(-1) },
        allowlist: allow("10.0.0.0/8"),
        clientIp: ip("203.0.113.9"),
      },
      "expired",
      401,
    ],
    [
      "superseded secret inside its overlap",
      { matchedSecret: { generation: 1, superseded: true, expiresAt: at(1) } },
      "valid",
      200,
    ],
    [
      "superseded secret at the end of its overlap",
      { matchedSecret: { generation: 1, superseded: true, expiresAt: at(0) } },
      "expired",
      401,
    ],
    [
      "superseded secret after its overlap",
      { matchedSecret: { generation: 1, superseded: true, expiresAt: at(-1) } },
      "expired",
      401,
    ],
    [
      "superseded secret without an overlap end (fail closed)",
      { matchedSecret: { generation: 1, superseded: true, expiresAt: null } },
      "expired",
      401,
    ],
    [
      "superseded secret in overlap but key expired",
      {
        key: { ...activeKey, expiresAt: at(0) },
        matchedSecret: { generation: 1, superseded: true, expiresAt: at(1000) },
      },
      "expired",
      401,
    ],
    // ip_not_allowed
    [
      "IPv4 outside the allowlist",
      { allowlist: allow("10.0.0.0/8"), clientIp: ip("203.0.113.9") },
      "ip_not_allowed",
      403,
    ],
    ["IPv4 inside the allowlist", { allowlist: allow("10.0.0.0/8"), clientIp: ip("10.1.2.3") }, "valid", 200],
    [
      "allowlist set, client IP missing (fail closed)",
      { allowlist: allow("10.0.0.0/8"), clientIp: null },
      "ip_not_allowed",
      403,
    ],
    ["no allowlist, client IP missing", { allowlist: EMPTY_ALLOWLIST, clientIp: null }, "valid", 200],
    [
      "no allowlist, any client IP",
      { allowlist: EMPTY_ALLOWLIST, clientIp: ip("203.0.113.9") },
      "valid",
      200,
    ],
    ["IPv6 inside", { allowlist: allow("2001:db8::/32"), clientIp: ip("2001:db8::42") }, "valid", 200],
    [
      "IPv6 outside",
      { allowlist: allow("2001:db8::/32"), clientIp: ip("2001:db9::42") },
      "ip_not_allowed",
      403,
    ],
    [
      "IPv4-mapped client inside an IPv4 range",
      { allowlist: allow("10.0.0.0/8"), clientIp: ip("::ffff:10.1.2.3") },
      "valid",
      200,
    ],
    [
      "IPv4-mapped client outside an IPv4 range",
      { allowlist: allow("10.0.0.0/8"), clientIp: ip("::ffff:203.0.113.9") },
      "ip_not_allowed",
      403,
    ],
    [
      "mapped range stored as IPv4, IPv4 client",
      { allowlist: allow("::ffff:10.0.0.0/104"), clientIp: ip("10.1.2.3") },
      "valid",
      200,
    ],
    [
      "IPv6 client, IPv4-only allowlist",
      { allowlist: allow("10.0.0.0/8"), clientIp: ip("2001:db8::1") },
      "ip_not_allowed",
      403,
    ],
    [
      "IPv4 client, IPv6-only allowlist",
      { allowlist: allow("2001:db8::/32"), clientIp: ip("10.1.2.3") },
      "ip_not_allowed",
      403,
    ],
    [
      "wide IPv4 ranges admit an IPv4 client inside them",
      { allowlist: allow("0.0.0.0/2", "128.0.0.0/1"), clientIp: ip("203.0.113.9") },
      "valid",
      200,
    ],
    [
      "wide IPv4 ranges refuse IPv6",
      { allowlist: allow("0.0.0.0/2", "128.0.0.0/1"), clientIp: ip("2001:db8::1") },
      "ip_not_allowed",
      403,
    ],
    [
      "wide IPv6 ranges admit an IPv6 client inside them",
      { allowlist: allow("::/2", "8000::/1"), clientIp: ip("2001:db8::1") },
      "valid",
      200,
    ],
    ["/32 exact match", { allowlist: allow("192.0.2.7/32"), clientIp: ip("192.0.2.7") }, "valid", 200],
    ["/32 neighbour", { allowlist: allow("192.0.2.7/32"), clientIp: ip("192.0.2.8") }, "ip_not_allowed", 403],
    ["/128 exact match", { allowlist: allow("2001:db8::7/128"), clientIp: ip("2001:db8::7") }, "valid", 200],
    [
      "/128 neighbour",
      { allowlist: allow("2001:db8::7/128"), clientIp: ip("2001:db8::8") },
      "ip_not_allowed",
      403,
    ],
    [
      "disallowed IP and missing permission",
      { allowlist: allow("10.0.0.0/8"), clientIp: ip("203.0.113.9"), requiredPermissions: ["x"] },
      "ip_not_allowed",
      403,
    ],
    // insufficient_permissions
    ["required permission granted", { requiredPermissions: ["orders:read"] }, "valid", 200],
    [
      "required permission missing",
      { requiredPermissions: ["orders:write"] },
      "insufficient_permissions",
      403,
    ],
    [
      "one of two missing",
      { requiredPermissions: ["orders:read", "orders:write"] },
      "insufficient_permissions",
      403,
    ],
    [
      "granted via the group (effective permissions)",
      { effectivePermissions: ["billing:read", "orders:read"], requiredPermissions: ["billing:read"] },
      "valid",
      200,
    ],
    [
      "no effective permissions at all",
      { effectivePermissions: [], requiredPermissions: ["orders:read"] },
      "insufficient_permissions",
      403,
    ],
  ])("%s → %s (%s)", (_label, changes, code, status) => {
    const decision = decideVerification(facts(changes));
    expect(decision.code).toBe(code);
    expect(decision.httpStatus).toBe(status);
    expect(HTTP_STATUS_BY_CODE[decision.code]).toBe(status);
  });

  it("lists the missing permissions only for insufficient_permissions", () => {
    expect(
      decideVerification(facts({ requiredPermissions: ["orders:write", "orders:read", "admin"] }))
        .missingPermissions,
    ).toEqual(["orders:write", "admin"]);
    expect(decideVerification(facts({ requiredPermissions: ["orders:read"] })).missingPermissions).toEqual(
      [],
    );
    expect(decideVerification(facts({ key: null, requiredPermissions: ["x"] })).missingPermissions).toEqual(
      [],
    );
  });

  it("maps every code to its HTTP status", () => {
    expect(HTTP_STATUS_BY_CODE).toEqual({
      valid: 200,
      not_found: 401,
      expired: 401,
      revoked: 401,
      ip_not_allowed: 403,
      insufficient_permissions: 403,
      disabled: 401,
    });
  });

  it("expiry is monotonic: valid at t2 means valid at every earlier t1", () => {
    const key = { ...activeKey, expiresAt: at(10_000) };
    let seenExpired = false;
    for (let offset = 9_990; offset <= 10_010; offset++) {
      const code = decideVerification(facts({ key, now: at(offset) })).code;
      if (seenExpired) {
        expect(code).toBe("expired");
      }
      seenExpired ||= code === "expired";
      expect(code).toBe(offset < 10_000 ? "valid" : "expired");
    }
  });
});
