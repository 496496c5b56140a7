/** MAX_ENDPOINT_BYTES is the longest endpoint VerifyKey accepts (UTF-8 bytes). */
export const MAX_ENDPOINT_BYTES = 256;

/**
 * formatEndpoint builds the VerifyKey endpoint "METHOD /path" of a request: the path without query string
 * or fragment (an absolute URL is reduced to its path), control characters percent-encoded, and the whole
 * cut to 256 bytes so an oversized path never turns a verification into an INVALID_ARGUMENT.
 */
export function formatEndpoint(method: string, url: string): string {
  const verb = method.toUpperCase().replace(/[^A-Z0-9!#$%&'*+.^_`|~-]/g, "") || "GET";
  let path = url;
  const cut = path.search(/[?#]/);
  if (cut !== -1) {
    path = path.slice(0, cut);
  }
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme !== null) {
    path = path.slice(scheme[0].length);
  }
  if (!path.startsWith("/")) {
    path = `/${path}`;
  }
  path = escapeControlCharacters(path);
  return truncateUtf8(`${verb} ${path}`, MAX_ENDPOINT_BYTES);
}

function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, "utf8") <= maxBytes) {
    return value;
  }
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    const size = Buffer.byteLength(char, "utf8");
    if (bytes + size > maxBytes) {
      break;
    }
    bytes += size;
    end += char.length;
  }
  return value.slice(0, end);
}

function escapeControlCharacters(value: string): string {
  let out = "";
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    // C0, DEL and C1 controls would break usage-log lines; percent-encoding keeps them visible.
    out +=
      code < 0x20 || (code >= 0x7f && code <= 0x9f)
        ? `%${code.toString(16).padStart(2, "0").toUpperCase()}`
        : char;
  }
  return out;
}
