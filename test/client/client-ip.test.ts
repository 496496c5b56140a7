import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileTrustProxy, normalizeIp, resolveClientIp } from "../../packages/client/src/client-ip.js";

function request(remoteAddress: string | undefined, forwardedFor?: string | string[]) {
  return {
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
    socket: { remoteAddress },
  };
}

describe("resolveClientIp", () => {
  it.each([
    // [label, trust setting, socket peer, X-Forwarded-For, expected]
    ["default: socket peer, no header", undefined, "198.51.100.7", undefined, "198.51.100.7"],
    [
      "default: spoofed XFF from an untrusted peer is ignored",
      undefined,
      "198.51.100.7",
      "10.0.0.1",
      "198.51.100.7",
    ],
    ["false: XFF ignored even from loopback", false, "127.0.0.1", "10.0.0.1", "127.0.0.1"],
    ["loopback proxy: XFF client believed", "loopback", "127.0.0.1", "203.0.113.9", "203.0.113.9"],
    ["loopback proxy, IPv4-mapped peer", "loopback", "::ffff:127.0.0.1", "203.0.113.9", "203.0.113.9"],
    ["loopback proxy, IPv6 peer", "loopback", "::1", "2001:db8::5", "2001:db8::5"],
    [
      "trusted CIDR, spoofed XFF from an untrusted peer",
      "10.0.0.0/8",
      "198.51.100.7",
      "10.1.1.1",
      "198.51.100.7",
    ],
    [
      "trusted proxy: the client-prepended spoofed entry is skipped, the nearest untrusted entry wins",
      "10.0.0.0/8",
      "10.0.0.2",
      "1.2.3.4, 203.0.113.9",
      "203.0.113.9",
    ],
    [
      "chain of trusted proxies",
      ["10.0.0.0/8", "loopback"],
      "127.0.0.1",
      "203.0.113.9, 10.0.0.5",
      "203.0.113.9",
    ],
    [
      "comma-separated string setting",
      "loopback, 10.0.0.0/8",
      "127.0.0.1",
      "203.0.113.9, 10.0.0.5",
      "203.0.113.9",
    ],
    ["hop count 1", 1, "192.0.2.1", "1.2.3.4, 203.0.113.9", "203.0.113.9"],
    ["hop count 2", 2, "192.0.2.1", "1.2.3.4, 203.0.113.9", "1.2.3.4"],
    ["trust all: left-most entry", true, "192.0.2.1", "1.2.3.4, 203.0.113.9", "1.2.3.4"],
    ["repeated XFF headers are one list", "loopback", "127.0.0.1", ["1.2.3.4", "203.0.113.9"], "203.0.113.9"],
    [
      "function setting",
      (address: string) => address === "192.0.2.1",
      "192.0.2.1",
      "203.0.113.9",
      "203.0.113.9",
    ],
    ["trusted proxy relays garbage: unknown", "loopback", "127.0.0.1", "not-an-ip", ""],
    ["trusted proxy relays host:port: unknown", "loopback", "127.0.0.1", "203.0.113.9:4711", ""],
    ["trusted proxy but empty XFF: the proxy itself", "loopback", "127.0.0.1", "", "127.0.0.1"],
    ["no socket address: unknown, headers not consulted", true, undefined, "203.0.113.9", ""],
    ["link-local peer with zone id: zone dropped", undefined, "fe80::1%eth0", undefined, "fe80::1"],
  ] as const)("%s", (_label, setting, peer, forwardedFor, expected) => {
    const trust = compileTrustProxy(setting as Parameters<typeof compileTrustProxy>[0]);
    expect(resolveClientIp(request(peer, forwardedFor as string | string[] | undefined), trust)).toBe(
      expected,
    );
  });

  it("rejects an unparsable trusted range at startup", () => {
    expect(() => compileTrustProxy("10.0.0.0/33")).toThrow(TypeError);
    expect(() => compileTrustProxy(["localhost"])).toThrow(TypeError);
    expect(() => compileTrustProxy(-1)).toThrow(TypeError);
  });
});

describe("normalizeIp", () => {
  it.each([
    ["IPv4", "203.0.113.9", "203.0.113.9"],
    ["IPv6", "2001:db8::1", "2001:db8::1"],
    ["IPv4-mapped", "::ffff:10.1.2.3", "10.1.2.3"],
    ["IPv4-mapped, upper case", "::FFFF:203.0.113.9", "203.0.113.9"],
    ["IPv4-mapped in hex", "::ffff:7f00:1", "127.0.0.1"],
    ["IPv4-mapped, zeros written out", "0:0:0:0:0:ffff:c000:0201", "192.0.2.1"],
    ["not mapped: ffff elsewhere", "ffff::10.1.2.3", "ffff::10.1.2.3"],
    ["not mapped: NAT64 prefix", "64:ff9b::10.1.2.3", "64:ff9b::10.1.2.3"],
    ["IPv4-compatible (not mapped) stays IPv6", "::10.1.2.3", "::10.1.2.3"],
    ["zone id dropped", "fe80::1%eth0", "fe80::1"],
    ["short IPv4", "127.1", ""],
    ["leading zero", "010.0.0.1", ""],
    ["host name", "example.com", ""],
    ["empty", "", ""],
  ])("%s: %j -> %j", (_label, input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it("turns every IPv4-mapped address into its IPv4 address, and returns an IP or nothing for any input", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(normalizeIp(`::ffff:${ip}`)).toBe(ip);
        expect(normalizeIp(`0:0:0:0:0:FFFF:${ip}`)).toBe(ip);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV6(), fc.ipV4Extended()), (input) => {
        const result = normalizeIp(input);
        expect(result === "" || isIP(result) !== 0).toBe(true);
      }),
    );
  });
});
