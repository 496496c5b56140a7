import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import type { DomainError } from "../../../src/domain/errors.js";
import {
  compileAllowlist,
  EMPTY_ALLOWLIST,
  formatIp,
  MAX_ALLOWLIST_ENTRIES,
  normalizeAllowlist,
  normalizeCidr,
  type ParsedIp,
  parseClientIp,
} from "../../../src/domain/ip-allowlist.js";

/** caught returns the an invalid-argument error `run` throws (and fails the test if it throws anything else). */
function caught(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toHaveProperty("kind", "invalid_argument");
    return error as DomainError;
  }
  throw new Error("expected an invalid-argument error");
}

// --- BigInt oracle -------------------------------------------------------------------------------------

const v4Text = (n: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
const v6Parts = (n: bigint): number[] =>
  Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
const v6Text = (n: bigint): string => new ipaddr.IPv6(v6Parts(n)).toRFC5952String();
const v6Expanded = (n: bigint): string =>
  v6Parts(n)
    .map((p) => p.toString(16).padStart(4, "0"))
    .join(":");
const network = (n: bigint, prefix: number, bits: number): bigint => {
  const hostBits = BigInt(bits - prefix);
  return (n >> hostBits) << hostBits;
};
const inRange = (addr: bigint, net: bigint, prefix: number, bits: number): boolean => {
  const hostBits = BigInt(bits - prefix);
  return addr >> hostBits === net >> hostBits;
};

const u32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
const u128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
// Addresses near a network are more interesting than uniform ones: share a random number of leading bits.
const nearV4 = (net: bigint, flipFrom: number): bigint => net ^ (1n << BigInt(31 - Math.min(31, flipFrom)));

// --- normalizeAllowlist: accepted input -----------------------------------------------------------------

describe("normalizeAllowlist accepts and canonicalises", () => {
  it.each<[string, string[], string[]]>([
    ["an IPv4 range", ["10.0.0.0/8"], ["10.0.0.0/8"]],
    ["bare IPv4 → /32", ["10.1.2.3"], ["10.1.2.3/32"]],
    ["bare IPv6 → /128", ["2001:db8::1"], ["2001:db8::1/128"]],
    ["IPv6 range", ["2001:db8::/32"], ["2001:db8::/32"]],
    ["IPv6 uppercase and leading zeros", ["2001:0DB8:0000::/48"], ["2001:db8::/48"]],
    ["IPv6 fully expanded", ["2001:0db8:0000:0000:0000:0000:0000:0001"], ["2001:db8::1/128"]],
    ["IPv6 with the longest zero run compressed", ["2001:db8:0:0:1:0:0:1"], ["2001:db8::1:0:0:1/128"]],
    ["/32 and /128 explicitly", ["192.0.2.1/32", "::1/128"], ["192.0.2.1/32", "::1/128"]],
    ["/1 ranges (widest allowed)", ["128.0.0.0/1", "8000::/1"], ["128.0.0.0/1", "8000::/1"]],
    ["IPv4-mapped range folded to IPv4", ["::ffff:10.0.0.0/104"], ["10.0.0.0/8"]],
    ["IPv4-mapped in hex folded to IPv4", ["::ffff:a00:0/104"], ["10.0.0.0/8"]],
    ["IPv4-mapped bare address folded to /32", ["::ffff:10.1.2.3"], ["10.1.2.3/32"]],
    ["IPv4-mapped /128 folded to /32", ["0:0:0:0:0:ffff:192.0.2.1/128"], ["192.0.2.1/32"]],
    ["IPv4-compatible stays IPv6 (not folded)", ["::1.2.3.4"], ["::102:304/128"]],
    ["embedded dotted quad elsewhere stays IPv6", ["64:ff9b::192.0.2.33"], ["64:ff9b::c000:221/128"]],
    ["duplicates removed", ["10.0.0.0/8", "10.0.0.0/8"], ["10.0.0.0/8"]],
    ["duplicates in different spellings removed", ["2001:db8::/32", "2001:DB8:0::/32"], ["2001:db8::/32"]],
    ["nested range dropped, wider kept", ["10.1.0.0/16", "10.0.0.0/8"], ["10.0.0.0/8"]],
    ["address inside a range dropped", ["10.0.0.0/8", "10.1.2.3"], ["10.0.0.0/8"]],
    ["mapped duplicate of an IPv4 entry removed", ["10.0.0.0/8", "::ffff:10.0.0.0/104"], ["10.0.0.0/8"]],
    ["adjacent ranges kept (not merged)", ["10.0.0.0/9", "10.128.0.0/9"], ["10.0.0.0/9", "10.128.0.0/9"]],
    [
      "sorted: IPv4 before IPv6, then by address",
      ["2001:db8::/32", "192.168.0.0/16", "::1", "10.0.0.0/8", "172.16.0.0/12"],
      ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "2001:db8::/32"],
    ],
    [
      "numeric, not text, order",
      ["9.0.0.0/8", "10.0.0.0/8", "100.0.0.0/8"],
      ["9.0.0.0/8", "10.0.0.0/8", "100.0.0.0/8"],
    ],
    ["empty list", [], []],
    ["0.0.0.0/32 (one address, not a catch-all)", ["0.0.0.0/32"], ["0.0.0.0/32"]],
    ["255.255.255.255", ["255.255.255.255"], ["255.255.255.255/32"]],
  ])("%s", (_label, input, expected) => {
    expect(normalizeAllowlist(input)).toEqual(expected);
  });

  it(`accepts exactly ${MAX_ALLOWLIST_ENTRIES} entries`, () => {
    const entries = Array.from({ length: MAX_ALLOWLIST_ENTRIES }, (_, i) => `10.0.${i}.0/24`);
    expect(normalizeAllowlist(entries)).toHaveLength(MAX_ALLOWLIST_ENTRIES);
  });
});

// --- normalizeAllowlist: refused input ------------------------------------------------------------------

describe("normalizeAllowlist refuses, naming the entry", () => {
  it.each<[string, string, RegExp]>([
    ["IPv4 prefix over 32", "10.0.0.0/33", /invalid prefix length.*1 to 32/],
    ["IPv6 prefix over 128", "2001:db8::/129", /invalid prefix length.*1 to 128/],
    ["::1/129", "::1/129", /invalid prefix length/],
    ["empty prefix", "10.0.0.0/", /invalid prefix length/],
    ["prefix only", "/24", /not a valid IP address/],
    ["negative prefix", "10.0.0.0/-1", /invalid prefix length/],
    ["plus sign prefix", "10.0.0.0/+8", /invalid prefix length/],
    ["prefix with leading zero", "10.0.0.0/08", /invalid prefix length/],
    ["prefix with a space", "10.0.0.0/ 8", /whitespace/],
    ["two prefixes", "10.0.0.0/24/1", /more than one '\/'/],
    ["netmask instead of prefix", "10.0.0.0/255.0.0.0", /invalid prefix length/],
    ["host bits set", "10.0.0.1/8", /host bits set beyond the \/8 prefix; did you mean "10\.0\.0\.0\/8"/],
    ["IPv6 host bits set", "2001:db8::1/32", /host bits.*"2001:db8::\/32"/],
    [
      "mapped host bits set",
      "::ffff:10.0.0.1/104",
      /host bits set beyond the \/104 prefix; did you mean "10\.0\.0\.0\/8"/,
    ],
    ["IPv4 catch-all", "0.0.0.0/0", /allows every IPv4 address/],
    ["IPv6 catch-all", "::/0", /allows every IPv6 address/],
    ["catch-all with host bits", "10.0.0.0/0", /allows every IPv4 address/],
    ["mapped catch-all", "::ffff:0.0.0.0/96", /allows every IPv4 address/],
    ["leading zeros", "010.0.0.0/8", /leading zeros.*"10\.0\.0\.0"/],
    ["leading zeros in a later octet", "10.00.0.0/8", /leading zeros/],
    ["leading zero address", "010.0.0.1", /leading zeros/],
    ["leading zeros in embedded IPv4", "::ffff:010.0.0.1", /not a valid IPv6/],
    ["zone id", "fe80::%eth0/64", /zone id/],
    ["zone id on an address", "fe80::1%eth0", /zone id/],
    ["hostname localhost", "localhost", /hostnames are not allowed/],
    ["hostname example.com", "example.com", /hostnames are not allowed/],
    ["leading space", " 10.0.0.0/8", /whitespace/],
    ["trailing newline", "10.0.0.0/8\n", /whitespace/],
    ["space inside", "10.0.0.0 /8", /whitespace/],
    ["empty string", "", /is empty/],
    ["short IPv4 1.2.3", "1.2.3", /not a valid IP address/],
    ["short IPv4 127.1", "127.1", /not a valid IP address/],
    ["hex IPv4", "0x7f.0.0.1", /not a valid IP address/],
    ["integer IPv4", "4294967295", /not a valid IP address/],
    ["octet over 255", "256.0.0.0/8", /0-255/],
    ["five octets", "1.2.3.4.5", /not a valid IP address/],
    ["trailing dot", "1.2.3.4.", /not a valid IP address/],
    ["host:port", "10.1.2.3:443", /not a valid IPv6/],
    ["bracketed IPv6", "[::1]", /brackets/],
    ["bracketed IPv6 with port", "[::1]:443", /brackets/],
    ["two ::", "1::2::3", /not a valid IPv6/],
    ["IPv6 with 9 groups", "1:2:3:4:5:6:7:8:9", /not a valid IPv6/],
    ["IPv6 with 7 groups and no ::", "1:2:3:4:5:6:7", /not a valid IPv6/],
    ["IPv6 :: replacing nothing", "1:2:3:4::5:6:7:8", /not a valid IPv6/],
    ["IPv6 group of 5 digits", "12345::", /not a valid IPv6/],
    ["IPv6 leading single colon", ":1::", /not a valid IPv6/],
    ["IPv6 non-hex", "2001:db8::g", /not a valid IPv6/],
    ["dotted quad not at the end", "::1.2.3.4:1", /not a valid IPv6/],
    ["dotted quad before ::", "1.2.3.4::", /not a valid IPv6/],
    ["Unicode digits", "１0.0.0.0/8", /not a valid IP address/],
    ["over-long text", `${"1".repeat(60)}`, /too long/],
  ])("%s: %j", (_label, entry, message) => {
    const error = caught(() =>
      normalizeAllowlist(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", entry]),
    );
    expect(error.field).toBe("ip_allowlist[3]");
    expect(error.message).toMatch(/^ip_allowlist\[3\]: /);
    expect(error.message).toMatch(message);
  });

  it("quotes the entry JSON-escaped, so a CR/LF cannot break a log line", () => {
    const error = caught(() => normalizeAllowlist(["10.0.0.0/8\r\nfake log line"]));
    expect(error.message).toContain('"10.0.0.0/8\\r\\nfake log line"');
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it("uses the given field name", () => {
    expect(caught(() => normalizeAllowlist(["bad"], "key.ip_allowlist")).field).toBe("key.ip_allowlist[0]");
  });

  it(`refuses more than ${MAX_ALLOWLIST_ENTRIES} entries before parsing any`, () => {
    const entries = Array.from({ length: 10_001 }, () => "not an address");
    const error = caught(() => normalizeAllowlist(entries));
    expect(error.field).toBe("ip_allowlist");
    expect(error.message).toMatch(/10001 entries; at most 100/);
    expect(
      caught(() => normalizeAllowlist(Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`))).field,
    ).toBe("ip_allowlist");
  });

  it("normalizeCidr checks a single entry with the same rules", () => {
    expect(normalizeCidr("::ffff:10.0.0.0/104")).toBe("10.0.0.0/8");
    expect(caught(() => normalizeCidr("010.0.0.0/8", "entry")).field).toBe("entry");
  });
});

// --- parseClientIp ----------------------------------------------------------------------------------------

describe("parseClientIp", () => {
  it.each<[string, string]>([
    ["10.1.2.3", "10.1.2.3"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:db8::1", "2001:db8::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["::1", "::1"],
    ["::", "::"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["::ffff:a01:203", "10.1.2.3"],
    ["::1.2.3.4", "::102:304"],
  ])("%s → %s", (input, expected) => {
    const ip = parseClientIp(input.replace(/^V\d+ /, ""));
    expect(ip).not.toBeNull();
    expect(formatIp(ip as ParsedIp)).toBe(expected);
  });

  it("folds an IPv4-mapped address to IPv4", () => {
    expect(parseClientIp("::ffff:10.1.2.3")).toEqual({ kind: "ipv4", value: 0x0a010203 });
  });

  it.each([
    ["octet over 255", "999.1.1.1"],
    ["five parts", "1.2.3.4.5"],
    ["short form", "127.1"],
    ["hex", "0x7f.0.0.1"],
    ["octal-looking", "017.0.0.1"],
    ["integer", "4294967295"],
    ["zone id", "fe80::1%eth0"],
    ["IPv4 host:port", "10.1.2.3:443"],
    ["bracketed with port", "[::1]:443"],
    ["bracketed", "[::1]"],
    ["empty", ""],
    ["CIDR", "10.0.0.0/8"],
    ["leading space", " 10.1.2.3"],
    ["trailing newline", "10.1.2.3\n"],
    ["hostname", "localhost"],
    ["over-long", `${"1".repeat(46)}`],
    ["embedded IPv4 with leading zero", "::ffff:10.01.2.3"],
  ])("%s: %j → null", (_label, input) => {
    expect(parseClientIp(input)).toBeNull();
  });

  it("agrees with ipaddr.js on every spelling of a random IPv6 address", () => {
    fc.assert(
      fc.property(u128, (n) => {
        const parts = v6Parts(n);
        const ip = new ipaddr.IPv6(parts);
        for (const text of [
          ip.toRFC5952String(),
          ip.toNormalizedString(),
          v6Expanded(n),
          v6Expanded(n).toUpperCase(),
        ]) {
          const parsed = parseClientIp(text);
          if (ip.isIPv4MappedAddress()) {
            expect(parsed).toEqual({ kind: "ipv4", value: Number(n & 0xffffffffn) });
          } else {
            expect(parsed).toEqual({ kind: "ipv6", parts });
          }
        }
      }),
    );
  });

  it("parses every canonical dotted quad and refuses it with a leading zero added", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 3 }), (n, octet) => {
        const text = v4Text(n);
        expect(parseClientIp(text)).toEqual({ kind: "ipv4", value: Number(n) });
        const padded = text
          .split(".")
          .map((o, i) => (i === octet ? `0${o}` : o))
          .join(".");
        expect(parseClientIp(padded)).toBeNull();
      }),
    );
  });

  it("never throws, on any input", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%/[] ") })),
        (s) => {
          const parsed = parseClientIp(s);
          expect(parsed === null || parsed.kind === "ipv4" || parsed.kind === "ipv6").toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

// --- compileAllowlist and contains ---------------------------------------------------------------------

describe("compileAllowlist", () => {
  const ip = (text: string): ParsedIp => parseClientIp(text) as ParsedIp;

  it.each<[string, string[], string, boolean]>([
    ["v4 inside", ["10.0.0.0/8"], "10.255.0.1", true],
    ["v4 outside", ["10.0.0.0/8"], "203.0.113.9", false],
    ["v4 just below", ["10.0.0.0/8"], "9.255.255.255", false],
    ["v4 just above", ["10.0.0.0/8"], "11.0.0.0", false],
    ["v4 /32 exact", ["192.0.2.1/32"], "192.0.2.1", true],
    ["v4 /32 neighbour", ["192.0.2.1/32"], "192.0.2.2", false],
    ["v4 /1 upper half", ["128.0.0.0/1"], "255.255.255.255", true],
    ["v4 /1 lower half", ["128.0.0.0/1"], "127.255.255.255", false],
    ["v4 0.0.0.0/1 contains 0.0.0.0", ["0.0.0.0/1"], "0.0.0.0", true],
    ["/0-equivalent: both halves of IPv4", ["0.0.0.0/1", "128.0.0.0/1"], "203.0.113.9", true],
    ["/0-equivalent: both halves of IPv6", ["::/1", "8000::/1"], "2001:db8::1", true],
    ["/0-equivalent v4 halves do not admit IPv6", ["0.0.0.0/1", "128.0.0.0/1"], "2001:db8::1", false],
    ["v6 inside", ["2001:db8::/32"], "2001:db8:ffff::1", true],
    ["v6 outside", ["2001:db8::/32"], "2001:db9::1", false],
    ["v6 /128 exact", ["2001:db8::1/128"], "2001:db8::1", true],
    ["v6 /128 neighbour", ["2001:db8::1/128"], "2001:db8::2", false],
    ["v6 prefix not on a 16-bit boundary", ["2001:db8:8000::/33"], "2001:db8:8000::1", true],
    ["v6 prefix not on a 16-bit boundary, outside", ["2001:db8:8000::/33"], "2001:db8:7fff::1", false],
    ["mapped client vs v4 range", ["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    ["folded mapped range vs v4 client", normalizeAllowlist(["::ffff:10.0.0.0/104"]), "10.1.2.3", true],
    ["v6 client vs v4-only list", ["10.0.0.0/8"], "2001:db8::1", false],
    ["v4 client vs v6-only list", ["2001:db8::/32"], "10.1.2.3", false],
    ["IPv4-compatible client is IPv6, not IPv4", ["1.2.3.0/24"], "::1.2.3.4", false],
    ["mixed list, v4 client", ["10.0.0.0/8", "2001:db8::/32"], "10.0.0.1", true],
    ["mixed list, v6 client", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", true],
  ])("%s", (_label, list, client, expected) => {
    const allowlist = compileAllowlist(list);
    expect(allowlist.size).toBe(list.length);
    expect(allowlist.contains(ip(client))).toBe(expected);
  });

  it("compiles an empty list to size 0", () => {
    expect(compileAllowlist([])).toBe(EMPTY_ALLOWLIST);
    expect(EMPTY_ALLOWLIST.size).toBe(0);
  });

  it.each([
    ["10.0.0.1/8"],
    ["010.0.0.0/8"],
    ["10.1.2.3"],
    ["2001:DB8::/32"],
    ["::ffff:10.0.0.0/104"],
    ["garbage"],
  ])("refuses the non-canonical stored entry %j", (entry) => {
    expect(() => compileAllowlist([entry])).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
  });
});

// --- properties P04-P06 --------------------------------------------------------------------------------

/** coversAFamily tells whether `entries` together allow every IPv4 or every IPv6 address. */
function coversAFamily(entries: readonly string[]): boolean {
  try {
    normalizeAllowlist(entries);
    return false;
  } catch (error) {
    return error instanceof Error && error.message.includes("together allows every");
  }
}

describe("properties", () => {
  it("IPv4 containment equals the BigInt oracle", () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 32 }),
        u32,
        fc.integer({ min: 0, max: 32 }),
        (a, prefix, b, near) => {
          const net = network(a, prefix, 32);
          const list = compileAllowlist([`${v4Text(net)}/${prefix}`]);
          for (const client of [b, a, net, nearV4(net, near)]) {
            expect(list.contains({ kind: "ipv4", value: Number(client) })).toBe(
              inRange(client, net, prefix, 32),
            );
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("IPv6 containment equals the BigInt oracle", () => {
    fc.assert(
      fc.property(
        u128,
        fc.integer({ min: 1, max: 128 }),
        u128,
        fc.integer({ min: 0, max: 127 }),
        (a, prefix, b, flip) => {
          const net = network(a, prefix, 128);
          // Mapped ranges fold to IPv4; the IPv6 oracle is about the rest.
          fc.pre(!(net >> 32n === 0xffffn && prefix >= 96));
          const list = compileAllowlist(normalizeAllowlist([`${v6Text(net)}/${prefix}`]));
          for (const client of [b, a, net, net ^ (1n << BigInt(127 - flip))]) {
            const parsed = parseClientIp(v6Text(client)) as ParsedIp;
            const expected = parsed.kind === "ipv6" && inRange(client, net, prefix, 128);
            expect(list.contains(parsed)).toBe(expected);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("a v4 range contains a ::ffff: mapped client exactly when it contains the IPv4 client", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 32 }), u32, (a, prefix, client) => {
        const list = compileAllowlist([`${v4Text(network(a, prefix, 32))}/${prefix}`]);
        const plain = parseClientIp(v4Text(client)) as ParsedIp;
        const mapped = parseClientIp(`::ffff:${v4Text(client)}`) as ParsedIp;
        const mappedHex = parseClientIp(v6Text((0xffffn << 32n) | client)) as ParsedIp;
        expect(list.contains(mapped)).toBe(list.contains(plain));
        expect(list.contains(mappedHex)).toBe(list.contains(plain));
      }),
    );
  });

  it("a mapped IPv6 range matches the same clients as its IPv4 form", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 32 }), u32, (a, prefix, client) => {
        const net = network(a, prefix, 32);
        const viaMapped = compileAllowlist(normalizeAllowlist([`::ffff:${v4Text(net)}/${prefix + 96}`]));
        const viaV4 = compileAllowlist([`${v4Text(net)}/${prefix}`]);
        const ip = parseClientIp(v4Text(client)) as ParsedIp;
        expect(viaMapped.contains(ip)).toBe(viaV4.contains(ip));
      }),
    );
  });

  it("canonical entries round-trip unchanged; normalisation is idempotent", () => {
    const canonical = fc.oneof(
      fc.tuple(u32, fc.integer({ min: 1, max: 32 })).map(([a, p]) => `${v4Text(network(a, p, 32))}/${p}`),
      fc
        .tuple(u128, fc.integer({ min: 1, max: 128 }))
        .filter(([a, p]) => !(network(a, p, 128) >> 32n === 0xffffn && p >= 96))
        .map(([a, p]) => `${v6Text(network(a, p, 128))}/${p}`),
    );
    fc.assert(
      fc.property(fc.array(canonical, { maxLength: 10 }), (entries) => {
        for (const entry of entries) {
          expect(normalizeCidr(entry)).toBe(entry);
        }
        // Entries that together cover a whole family are refused like a catch-all (tested above).
        fc.pre(!coversAFamily(entries));
        const once = normalizeAllowlist(entries);
        expect(normalizeAllowlist(once)).toEqual(once);
        expect(compileAllowlist(once).size).toBe(once.length);
      }),
    );
  });

  it("non-canonical IPv4 text (a leading zero) is refused", () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 3 }), (a, p, octet) => {
        const parts = v4Text(network(a, p, 32)).split(".");
        parts[octet] = `0${parts[octet]}`;
        expect(() => normalizeCidr(`${parts.join(".")}/${p}`)).toThrow(
          expect.objectContaining({ kind: "invalid_argument" }),
        );
      }),
    );
  });

  it("normalisation never changes which addresses are allowed (dropping nested ranges is lossless)", () => {
    const entry = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 24 }))
      .map(([a, p]) => `${v4Text(network(BigInt(a) << 16n, p, 32))}/${p}`);
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 8 }),
        fc.array(u32, { maxLength: 20 }),
        (entries, clients) => {
          const normalised = compileAllowlist(normalizeAllowlist(entries));
          const networks = entries.map((e) => parseClientIp(e.split("/")[0] as string) as ParsedIp);
          const others = clients.map((c): ParsedIp => ({ kind: "ipv4", value: Number(c) }));
          for (const ip of [...networks, ...others]) {
            const expected = entries.some((e) => compileAllowlist([e]).contains(ip));
            expect(normalised.contains(ip)).toBe(expected);
          }
        },
      ),
    );
  });
});
