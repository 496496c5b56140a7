/**
 * IP allowlists: strict, canonical CIDR ranges at write time; at verify time a strictly parsed client address
 * (IPv4-mapped folded to IPv4) matched against ranges compiled once per key (docs/architecture.md).
 */
import ipaddr from "ipaddr.js";
import { type DomainError, invalidArgument } from "./errors.js";

export const MAX_ALLOWLIST_ENTRIES = 100;

/** ParsedIp is a client address: IPv4 as an unsigned 32-bit value, IPv6 as eight 16-bit parts. */
export type ParsedIp =
  | { readonly kind: "ipv4"; readonly value: number }
  | { readonly kind: "ipv6"; readonly parts: readonly number[] };

export interface CompiledAllowlist {
  /** size is the number of ranges; 0 means the key accepts any address. */
  readonly size: number;
  /** contains tells whether `ip` is inside one of the ranges. Never throws (a v4/v6 mismatch is false). */
  contains(ip: ParsedIp): boolean;
}

// The longest IP text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" (45) and, with a prefix, 49.
const MAX_ADDRESS_TEXT = 45;
const MAX_ENTRY_TEXT = MAX_ADDRESS_TEXT + 4;

/** parseClientIp parses a bare client address as strictly as the allowlist; null for anything else. */
export function parseClientIp(text: string): ParsedIp | null {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_ADDRESS_TEXT) {
    return null;
  }
  if (text.includes(":")) {
    const parts = parseIpv6(text);
    if (parts === null) {
      return null;
    }
    return isIpv4Mapped(parts) ? { kind: "ipv4", value: mappedIpv4(parts) } : { kind: "ipv6", parts };
  }
  const value = parseIpv4(text);
  return value < 0 ? null : { kind: "ipv4", value };
}

/** formatIp writes an address canonically: dotted quad for IPv4, RFC 5952 for IPv6. */
export function formatIp(ip: ParsedIp): string {
  return ip.kind === "ipv4" ? formatIpv4(ip.value) : new ipaddr.IPv6([...ip.parts]).toRFC5952String();
}

/** normalizeCidr returns an entry's canonical form, or says what is wrong and, if it can, what to write. */
export function normalizeCidr(entry: string, field = "ip_allowlist"): string {
  return formatRange(parseEntry(entry, field));
}

/**
 * normalizeAllowlist returns the canonical list: sorted (IPv4 first), without duplicates or nested ranges
 * (two CIDR ranges are disjoint or nested, so dropping the nested one allows exactly the same addresses).
 */
export function normalizeAllowlist(entries: readonly string[], field = "ip_allowlist"): string[] {
  if (entries.length > MAX_ALLOWLIST_ENTRIES) {
    throw invalidArgument(
      field,
      `has ${entries.length} entries; at most ${MAX_ALLOWLIST_ENTRIES} are allowed (use wider CIDR ranges)`,
    );
  }
  const ranges = entries.map((entry, i) => parseEntry(entry, `${field}[${i}]`));
  const kept = ranges.filter(
    (range, i) =>
      !ranges.some(
        (other, j) =>
          j !== i &&
          rangeContainsRange(other, range) &&
          // Of two equal ranges keep the first one only.
          (other.prefix < range.prefix || j < i),
      ),
  );
  kept.sort(compareRanges);
  refuseCoveringUnion(kept, field);
  return kept.map(formatRange);
}

// IPv4-mapped IPv6 addresses (::ffff:0:0/96) are IPv4 clients (parseClientIp folds them), so no IPv6 client
// is ever in that block: a list of IPv6 ranges that covers everything else allows every IPv6 client.
const IPV6_MAPPED_START = 0xffffn << 32n;
const IPV6_MAPPED_END = IPV6_MAPPED_START + 0xffffffffn;

function rangeBounds(range: IpRange): [bigint, bigint] {
  const bits = range.kind === "ipv4" ? 32n : 128n;
  const start =
    range.kind === "ipv4"
      ? BigInt(range.value)
      : range.parts.reduce((acc, part) => (acc << 16n) | BigInt(part), 0n);
  return [start, start + (1n << (bits - BigInt(range.prefix))) - 1n];
}

/** refuseCoveringUnion refuses ranges that together allow every client ("0.0.0.0/1, 128.0.0.0/1"). */
function refuseCoveringUnion(sorted: readonly IpRange[], field: string): void {
  for (const kind of ["ipv4", "ipv6"] as const) {
    const ranges = sorted.filter((range) => range.kind === kind);
    const intervals = ranges.map(rangeBounds);
    if (kind === "ipv6") {
      intervals.push([IPV6_MAPPED_START, IPV6_MAPPED_END]);
      intervals.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    let next = 0n; // the lowest address not yet covered
    for (const [start, end] of intervals) {
      if (start > next) {
        break;
      }
      next = end + 1n > next ? end + 1n : next;
    }
    if (ranges.length > 0 && next === 1n << (kind === "ipv4" ? 32n : 128n)) {
      const shown = ranges.slice(0, 4).map(formatRange).join(", ");
      throw invalidArgument(
        field,
        `together allows every ${kind === "ipv4" ? "IPv4" : "IPv6"} address (${shown}${ranges.length > 4 ? ", …" : ""}); leave the allowlist empty to allow any address`,
      );
    }
  }
}

export const EMPTY_ALLOWLIST: CompiledAllowlist = { size: 0, contains: () => false };

/**
 * compileAllowlist throws on an entry that is not canonical (corrupted storage): failing loudly beats
 * dropping entries, since an allowlist that lost them all would allow everything.
 */
export function compileAllowlist(canonical: readonly string[]): CompiledAllowlist {
  if (canonical.length === 0) {
    return EMPTY_ALLOWLIST;
  }
  const v4Networks: number[] = [];
  const v4Masks: number[] = [];
  const v6: Ipv6Range[] = [];
  canonical.forEach((entry, i) => {
    const range = parseEntry(entry, `ip_allowlist[${i}]`);
    if (formatRange(range) !== entry) {
      throw invalidArgument(`ip_allowlist[${i}]`, `${quote(entry)} is not in canonical form`);
    }
    if (range.kind === "ipv4") {
      v4Networks.push(range.value | 0);
      v4Masks.push(ipv4Mask(range.prefix));
    } else {
      v6.push(range);
    }
  });
  const v4Count = v4Networks.length;
  return {
    size: canonical.length,
    contains(ip) {
      if (ip.kind === "ipv4") {
        // Signed 32-bit on both sides: `&` yields int32 and networks are stored as int32.
        for (let i = 0; i < v4Count; i++) {
          if ((ip.value & (v4Masks[i] as number)) === v4Networks[i]) {
            return true;
          }
        }
        return false;
      }
      for (const range of v6) {
        if (ipv6InRange(ip.parts, range)) {
          return true;
        }
      }
      return false;
    },
  };
}

type Ipv4Range = { readonly kind: "ipv4"; readonly value: number; readonly prefix: number };
type Ipv6Range = { readonly kind: "ipv6"; readonly parts: readonly number[]; readonly prefix: number };
type IpRange = Ipv4Range | Ipv6Range;

function quote(entry: string): string {
  // JSON quoting escapes control characters, so a CR/LF in bad input cannot break a log line.
  return JSON.stringify(entry.length > 60 ? `${entry.slice(0, 60)}…` : entry);
}

function invalid(field: string, entry: string, why: string): DomainError {
  return invalidArgument(field, `${quote(entry)} ${why}`);
}

const PREFIX_TEXT = /^(?:0|[1-9][0-9]{0,2})$/;
const DOTTED_NUMBERS = /^[0-9]+(?:\.[0-9]+){3}$/;
const HOSTNAME_LIKE = /^[A-Za-z0-9.-]+$/;

function parseEntry(entry: string, field: string): IpRange {
  if (typeof entry !== "string" || entry.length === 0) {
    throw invalidArgument(field, "is empty; expected an IP address or CIDR range such as 10.0.0.0/8");
  }
  if (entry.length > MAX_ENTRY_TEXT) {
    throw invalid(field, entry, "is too long to be an IP address or CIDR range");
  }
  if (/\s/.test(entry)) {
    throw invalid(field, entry, "contains whitespace; write the address or range alone, with no spaces");
  }
  if (entry.includes("%")) {
    throw invalid(field, entry, "has a zone id (%…); zone ids are local to one host and are not allowed");
  }
  if (entry.includes("[") || entry.includes("]")) {
    throw invalid(field, entry, "has brackets or a port; write the bare address or CIDR range");
  }
  const slash = entry.indexOf("/");
  if (slash !== -1 && entry.indexOf("/", slash + 1) !== -1) {
    throw invalid(field, entry, "has more than one '/'; expected address/prefix");
  }
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? null : entry.slice(slash + 1);

  let range: IpRange;
  if (addressText.includes(":")) {
    const parts = parseIpv6(addressText);
    if (parts === null) {
      throw invalid(
        field,
        entry,
        "is not a valid IPv6 address or range (expected standard text like 2001:db8::/32)",
      );
    }
    const prefix = prefixText === null ? 128 : parsePrefix(prefixText, 128, field, entry);
    range =
      isIpv4Mapped(parts) && prefix >= 96
        ? { kind: "ipv4", value: mappedIpv4(parts), prefix: prefix - 96 }
        : { kind: "ipv6", parts, prefix };
  } else {
    const value = parseIpv4(addressText);
    if (value < 0) {
      throw invalid(field, entry, describeBadIpv4(addressText));
    }
    const prefix = prefixText === null ? 32 : parsePrefix(prefixText, 32, field, entry);
    range = { kind: "ipv4", value, prefix };
  }

  // Catch-all first: "10.0.0.0/0" is a catch-all too, not a range with host bits to fix.
  if (range.prefix === 0) {
    throw invalid(
      field,
      entry,
      `allows every ${range.kind === "ipv4" ? "IPv4" : "IPv6"} address; leave the allowlist empty to allow any address`,
    );
  }
  const network = networkOf(range);
  if (!sameRange(network, range)) {
    throw invalid(
      field,
      entry,
      `has host bits set beyond the /${prefixText ?? range.prefix} prefix; did you mean ${quote(formatRange(network))}?`,
    );
  }
  return range;
}

function parsePrefix(text: string, max: number, field: string, entry: string): number {
  const prefix = PREFIX_TEXT.test(text) ? Number(text) : Number.NaN;
  if (!(prefix <= max)) {
    throw invalid(field, entry, `has an invalid prefix length; expected a decimal number from 1 to ${max}`);
  }
  return prefix;
}

function describeBadIpv4(text: string): string {
  if (DOTTED_NUMBERS.test(text)) {
    const octets = text.split(".");
    if (octets.some((o) => o.length > 1 && o.startsWith("0"))) {
      const suggestion = octets.map((o) => String(Number(o))).join(".");
      return `has leading zeros, which some software reads as octal; write ${JSON.stringify(suggestion)} if that is what you mean`;
    }
    return "is not a valid IPv4 address: each of the four numbers must be 0-255";
  }
  if (text.length > 0 && HOSTNAME_LIKE.test(text) && /[A-Za-z]/.test(text) && !/^0x/i.test(text)) {
    return "is not an IP address or CIDR range (hostnames are not allowed)";
  }
  return "is not a valid IP address: IPv4 must be four decimal numbers 0-255 without leading zeros, like 10.0.0.1";
}

/** parseIpv4 reads a strict dotted quad into an unsigned 32-bit value, or returns -1. */
function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) {
        return -1;
      }
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) {
        return -1; // a leading zero
      }
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) {
        return -1;
      }
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) {
    return -1;
  }
  return value * 256 + octet;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** parseIpv6 reads RFC 4291 §2.2 text (maybe ending in a strict dotted quad) into eight parts, or null. */
function parseIpv6(text: string): number[] | null {
  if (text.length < 2 || text.length > MAX_ADDRESS_TEXT) {
    return null;
  }
  const gap = text.indexOf("::");
  if (gap !== -1 && text.indexOf("::", gap + 1) !== -1) {
    return null;
  }
  const headText = gap === -1 ? text : text.slice(0, gap);
  const tailText = gap === -1 ? null : text.slice(gap + 2);
  const head = parseGroups(headText, tailText === null);
  const tail = tailText === null ? [] : parseGroups(tailText, true);
  if (head === null || tail === null) {
    return null;
  }
  const count = head.length + tail.length;
  if (gap === -1 ? count !== 8 : count > 7) {
    return null;
  }
  return [...head, ...new Array<number>(8 - count).fill(0), ...tail];
}

function parseGroups(text: string, mayEndWithIpv4: boolean): number[] | null {
  if (text === "") {
    return [];
  }
  const groups = text.split(":");
  const parts: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] as string;
    if (HEX_GROUP.test(group)) {
      parts.push(Number.parseInt(group, 16));
    } else if (mayEndWithIpv4 && i === groups.length - 1 && group.includes(".")) {
      const v4 = parseIpv4(group);
      if (v4 < 0) {
        return null;
      }
      parts.push(Math.floor(v4 / 65536), v4 % 65536);
    } else {
      return null;
    }
  }
  return parts;
}

function isIpv4Mapped(parts: readonly number[]): boolean {
  return (
    parts[0] === 0 &&
    parts[1] === 0 &&
    parts[2] === 0 &&
    parts[3] === 0 &&
    parts[4] === 0 &&
    parts[5] === 0xffff
  );
}

function mappedIpv4(parts: readonly number[]): number {
  return (parts[6] as number) * 65536 + (parts[7] as number);
}

function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function formatRange(range: IpRange): string {
  const address =
    range.kind === "ipv4" ? formatIpv4(range.value) : new ipaddr.IPv6([...range.parts]).toRFC5952String();
  return `${address}/${range.prefix}`;
}

function ipv4Mask(prefix: number): number {
  // `<< 32` is a no-op in JavaScript, so /0 needs its own case.
  return prefix === 0 ? 0 : -1 << (32 - prefix);
}

function ipv6PartMask(prefix: number, index: number): number {
  const bits = Math.min(16, Math.max(0, prefix - index * 16));
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}

function networkOf(range: IpRange): IpRange {
  if (range.kind === "ipv4") {
    return { ...range, value: (range.value & ipv4Mask(range.prefix)) >>> 0 };
  }
  return { ...range, parts: range.parts.map((part, i) => part & ipv6PartMask(range.prefix, i)) };
}

function sameRange(a: IpRange, b: IpRange): boolean {
  if (a.kind === "ipv4" && b.kind === "ipv4") {
    return a.value === b.value && a.prefix === b.prefix;
  }
  if (a.kind === "ipv6" && b.kind === "ipv6") {
    return a.prefix === b.prefix && a.parts.every((part, i) => part === b.parts[i]);
  }
  return false;
}

function ipv6InRange(parts: readonly number[], range: Ipv6Range): boolean {
  for (let i = 0; i < 8; i++) {
    const mask = ipv6PartMask(range.prefix, i);
    if (mask === 0) {
      return true;
    }
    if (((parts[i] as number) & mask) !== range.parts[i]) {
      return false;
    }
  }
  return true;
}

function rangeContainsRange(outer: IpRange, inner: IpRange): boolean {
  if (outer.prefix > inner.prefix) {
    return false;
  }
  if (outer.kind === "ipv4" && inner.kind === "ipv4") {
    return (inner.value & ipv4Mask(outer.prefix)) >>> 0 === outer.value;
  }
  if (outer.kind === "ipv6" && inner.kind === "ipv6") {
    return ipv6InRange(inner.parts, outer);
  }
  return false;
}

function compareRanges(a: IpRange, b: IpRange): number {
  if (a.kind !== b.kind) {
    return a.kind === "ipv4" ? -1 : 1;
  }
  if (a.kind === "ipv4" && b.kind === "ipv4") {
    return a.value - b.value || a.prefix - b.prefix;
  }
  if (a.kind === "ipv6" && b.kind === "ipv6") {
    for (let i = 0; i < 8; i++) {
      const d = (a.parts[i] as number) - (b.parts[i] as number);
      if (d !== 0) {
        return d;
      }
    }
  }
  return a.prefix - b.prefix;
}
