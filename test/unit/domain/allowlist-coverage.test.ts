/**
 * An allowlist whose ranges together allow every IPv4 or every IPv6 address is refused like the single
 * catch-all, decided by merging the ranges (so any split is caught, not only the halves).
 */
import { describe, expect, it } from "vitest";
import { normalizeAllowlist } from "../../../src/domain/ip-allowlist.js";
import { captureError } from "../../helpers/capture-error.js";

/** split returns the 2^bits ranges of `family` with prefix `bits` (IPv4 first octet, IPv6 first group). */
function split(family: "ipv4" | "ipv6", bits: number): string[] {
  const count = 2 ** bits;
  return Array.from({ length: count }, (_, i) =>
    family === "ipv4"
      ? `${(i << (8 - bits)) & 255}.0.0.0/${bits}`
      : `${((i << (16 - bits)) & 0xffff).toString(16)}::/${bits}`,
  );
}

/**
 * allBut returns the ranges that cover every address of the family except the block `network/prefix`: for each
 * bit of the prefix, the range that agrees with the block up to that bit and differs at it.
 */
function allBut(family: "ipv4" | "ipv6", network: bigint, prefix: number): string[] {
  const width = family === "ipv4" ? 32 : 128;
  return Array.from({ length: prefix }, (_, i) => {
    const shift = BigInt(width - (i + 1));
    const value = ((network >> shift) ^ 1n) << shift;
    const text =
      family === "ipv4"
        ? [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".")
        : Array.from({ length: 8 }, (_, g) => ((value >> BigInt(112 - 16 * g)) & 0xffffn).toString(16)).join(
            ":",
          );
    return `${text}/${i + 1}`;
  });
}

function refusal(entries: string[]): Error {
  const error = captureError(() => normalizeAllowlist(entries));
  expect(error).toHaveProperty("kind", "invalid_argument");
  return error as Error;
}

describe("an allowlist covering every address", () => {
  it.each<[string, string[], RegExp]>([
    ["IPv4 halves", ["0.0.0.0/1", "128.0.0.0/1"], /every IPv4 address/],
    ["IPv6 halves", ["::/1", "8000::/1"], /every IPv6 address/],
    ["IPv4 in 64 pieces", split("ipv4", 6), /every IPv4 address/],
    ["IPv6 in 16 pieces", split("ipv6", 4), /every IPv6 address/],
    [
      "IPv4 in uneven pieces, out of order, with nested and duplicate entries",
      ["192.0.0.0/2", "0.0.0.0/1", "128.0.0.0/2", "10.0.0.0/8", "0.0.0.0/1"],
      /every IPv4 address/,
    ],
    ["IPv4 written as IPv4-mapped IPv6", ["::ffff:0.0.0.0/97", "::ffff:128.0.0.0/97"], /every IPv4 address/],
    [
      "every IPv6 address but the IPv4-mapped block (no IPv6 client is in it)",
      allBut("ipv6", 0xffffn << 32n, 96),
      /every IPv6 address/,
    ],
    ["IPv4 in 32 ranges of every size", allBut("ipv4", 0n, 32).concat(["0.0.0.0/32"]), /every IPv4 address/],
    ["IPv4 covered beside IPv6 entries", ["2001:db8::/32", "0.0.0.0/1", "128.0.0.0/1"], /every IPv4 address/],
  ])("refuses %s", (_name, entries, message) => {
    const error = refusal(entries);
    expect(error.message).toMatch(/^ip_allowlist: /);
    expect(error.message).toMatch(message);
  });

  it.each<[string, string[]]>([
    ["IPv4 but one address", allBut("ipv4", 0xffffffffn, 32)],
    ["IPv4 but 240.0.0.0/4", ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4"]],
    ["IPv6 but ::/99 (99 ranges)", allBut("ipv6", 0n, 99)],
    ["IPv6 with the first half only", ["::/1"]],
    ["both families, each partly", ["0.0.0.0/1", "8000::/1"]],
  ])("accepts %s", (_name, entries) => {
    expect(() => normalizeAllowlist(entries)).not.toThrow();
  });
});
