import { isIP } from "node:net";
import proxyaddr from "proxy-addr";

/**
 * TrustProxySetting says which peers are trusted proxies whose X-Forwarded-For entries may be believed,
 * with the same meanings as Express's "trust proxy" setting:
 * - `false` (the default): trust nothing; the client IP is the socket peer address;
 * - `true`: trust every hop; the client IP is the left-most X-Forwarded-For entry. Only safe when a proxy
 *   in front always overwrites the header;
 * - a number n: trust the n nearest hops (the socket peer is hop 0);
 * - addresses, CIDR ranges or the names "loopback", "linklocal", "uniquelocal", as an array or a
 *   comma-separated string (for example `"loopback, 10.0.0.0/8"`);
 * - a function `(address, hopIndex) => boolean`.
 */
export type TrustProxySetting =
  | boolean
  | number
  | string
  | readonly string[]
  | ((address: string, hopIndex: number) => boolean);

/** TrustProxy is a compiled TrustProxySetting: whether the hop at hopIndex with that address is trusted. */
export type TrustProxy = (address: string, hopIndex: number) => boolean;

/** SocketRequest is the part of a Node HTTP/1 or HTTP/2 request that client IP resolution reads. */
export interface SocketRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly socket?: { readonly remoteAddress?: string | undefined } | null | undefined;
}

/**
 * compileTrustProxy turns a TrustProxySetting into a TrustProxy; it throws a TypeError at startup for an
 * address or range that does not parse, so a typo never silently trusts or distrusts a proxy.
 */
export function compileTrustProxy(setting: TrustProxySetting | undefined): TrustProxy {
  if (setting === undefined || setting === false) {
    return () => false;
  }
  if (setting === true) {
    return () => true;
  }
  if (typeof setting === "number") {
    if (!Number.isInteger(setting) || setting < 0) {
      throw new TypeError("trustProxy hop count must be a non-negative integer");
    }
    return (_address, hopIndex) => hopIndex < setting;
  }
  if (typeof setting === "function") {
    return setting;
  }
  const list = typeof setting === "string" ? setting.split(",") : [...setting];
  const entries = list.map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (entries.length === 0) {
    return () => false;
  }
  return proxyaddr.compile(entries);
}

/**
 * resolveClientIp returns the end user's IP address: the socket peer, or — only through peers the
 * TrustProxy trusts — the nearest untrusted X-Forwarded-For entry. It returns "" when the address is
 * unknown or is not a plain IP address (a forged "X-Forwarded-For: nonsense" relayed by a trusted proxy,
 * a "host:port"), so VerifyKey fails closed for keys with an IP allowlist instead of erroring. An IPv6
 * zone id is dropped.
 */
export function resolveClientIp(request: SocketRequest, trust: TrustProxy): string {
  const remoteAddress = request.socket?.remoteAddress;
  if (remoteAddress === undefined || remoteAddress === "") {
    // A closed socket has no peer address; never fall back on headers the peer could have forged.
    return "";
  }
  // proxy-addr reads req.socket.remoteAddress and req.headers["x-forwarded-for"]; give it exactly that, so
  // HTTP/2 compatibility requests and hand-made objects behave the same.
  const address = proxyaddr(
    {
      headers: { "x-forwarded-for": joinForwardedFor(request.headers["x-forwarded-for"]) },
      socket: { remoteAddress },
    } as unknown as Parameters<typeof proxyaddr>[0],
    trust,
  );
  return normalizeIp(address);
}

/**
 * normalizeIp keeps a plain IPv4/IPv6 address (zone id dropped) and turns anything else into "". An
 * IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4 peer, "::ffff:10.1.2.3") becomes
 * the IPv4 address itself, so usage logs show the address the end user has; allowlists match it the same.
 */
export function normalizeIp(address: string | undefined): string {
  if (address === undefined) {
    return "";
  }
  const zone = address.indexOf("%");
  const bare = zone === -1 ? address.trim() : address.slice(0, zone).trim();
  const family = isIP(bare);
  if (family === 0) {
    return "";
  }
  return family === 6 ? (mappedIPv4(bare) ?? bare) : bare;
}

/**
 * mappedIPv4 returns the IPv4 address of an IPv4-mapped IPv6 address (::ffff:0:0/96), or null. `address`
 * must be valid IPv6 text (isIP checked it). Hand-parsed: ipaddr.js would also fold the IPv4-compatible
 * form ::a.b.c.d, which is a different address.
 */
function mappedIPv4(address: string): string | null {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  const hextets = [...left, ...zeros, ...right].map((part) => Number.parseInt(part, 16));
  const isMapped =
    hextets.length === 8 && hextets.slice(0, 5).every((part) => part === 0) && hextets[5] === 0xffff;
  if (!isMapped) {
    return null;
  }
  const high = hextets[6] ?? 0;
  const low = hextets[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function joinForwardedFor(value: string | readonly string[] | undefined): string {
  if (value === undefined) {
    return "";
  }
  return typeof value === "string" ? value : value.join(",");
}
