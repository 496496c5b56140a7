import type { VerifyCredential } from "./verify-client.js";

/**
 * HeaderSource is the request headers of any framework: Node's IncomingHttpHeaders (lower-cased names,
 * string or string[] values) or a fetch-style Headers object (as Connect interceptors see them).
 */
export type HeaderSource =
  | { readonly get: (name: string) => string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * CredentialSource names where a credential was found: "authorization-bearer" (Authorization: Bearer …),
 * "authorization-apikey" (Authorization: ApiKey …), "x-api-key" (X-API-Key: …) or "access-key-headers"
 * (the two headers accessKey + secretKey).
 */
export type CredentialSource =
  | "authorization-bearer"
  | "authorization-apikey"
  | "x-api-key"
  | "access-key-headers";

/** ExtractedCredential is a credential found in request headers, with where it came from. */
export interface ExtractedCredential {
  /** credential is what to send to VerifyKey. Secret. */
  readonly credential: VerifyCredential;
  /** source says which header(s) carried it. */
  readonly source: CredentialSource;
}

// One scheme token, whitespace, one credential token; nothing else. The scheme is case-insensitive
// (RFC 9110 §11.1).
const authorizationPattern = /^\s*(bearer|apikey)\s+([^\s,]+)\s*$/i;

/**
 * extractCredential finds the API key in request headers. Precedence, first match wins:
 * `Authorization: Bearer <key>`, `Authorization: ApiKey <key>`, `X-API-Key: <key>`, then the two-header form
 * `accessKey: <key id>` + `secretKey: <secret part>`. An Authorization header with another
 * scheme (Basic, Digest, …) is ignored and never forwarded, so passwords meant for something else never
 * reach the key service. Returns null when no credential is present.
 */
export function extractCredential(headers: HeaderSource): ExtractedCredential | null {
  const authorization = readHeader(headers, "authorization");
  if (authorization !== null) {
    const match = authorizationPattern.exec(authorization);
    if (match !== null) {
      const scheme = (match[1] ?? "").toLowerCase();
      const key = match[2] ?? "";
      return {
        credential: { kind: "key", key },
        source: scheme === "bearer" ? "authorization-bearer" : "authorization-apikey",
      };
    }
  }
  const apiKey = readHeader(headers, "x-api-key");
  if (apiKey !== null) {
    return { credential: { kind: "key", key: apiKey }, source: "x-api-key" };
  }
  const accessKeyId = readHeader(headers, "accesskey");
  const secretKey = readHeader(headers, "secretkey");
  if (accessKeyId !== null && secretKey !== null) {
    return { credential: { kind: "accessKey", accessKeyId, secretKey }, source: "access-key-headers" };
  }
  return null;
}

/**
 * readHeader returns a header's trimmed value, or null when it is absent, empty, or repeated with
 * different values (an ambiguous credential is treated as no credential).
 */
export function readHeader(headers: HeaderSource, name: string): string | null {
  let raw: string | readonly string[] | null | undefined;
  if (typeof headers.get === "function") {
    raw = (headers as { get: (name: string) => string | null }).get(name);
  } else {
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
    raw = record[name] ?? findCaseInsensitive(record, name);
  }
  if (raw === null || raw === undefined) {
    return null;
  }
  let value: string;
  if (typeof raw === "string") {
    value = raw;
  } else {
    const distinct = new Set(raw.map((item) => item.trim()));
    if (distinct.size !== 1) {
      return null;
    }
    value = [...distinct][0] ?? "";
  }
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function findCaseInsensitive(
  record: Readonly<Record<string, string | readonly string[] | undefined>>,
  name: string,
): string | readonly string[] | undefined {
  // Node lower-cases header names; plain objects built by hand may not.
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name) {
      return value;
    }
  }
  return undefined;
}
