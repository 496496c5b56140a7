/**
 * Credential forms: the ways a caller may present a key, unwrapped into one candidate key for KeyFormat.parse
 * (nothing here decides validity). Total and bounded: longer than MAX_CREDENTIAL_LENGTH is refused unread.
 */
import { DomainError } from "./errors.js";

/** MAX_CREDENTIAL_LENGTH caps every form; UTF-16 length never exceeds UTF-8 bytes, so the byte cap holds. */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** VerifyCredential is the credential of a VerifyKey request, mirroring the proto oneof. */
export type VerifyCredential =
  /** key is a raw key, as sent in an X-API-Key header or a query parameter. */
  | { readonly kind: "key"; readonly key: string }
  /** authorization is a whole Authorization header value, "Bearer <key>" or "ApiKey <key>". */
  | { readonly kind: "authorization"; readonly authorization: string }
  | { readonly kind: "access_key"; readonly accessKeyId: string; readonly secretKey: string }
  | { readonly kind: "none" };

// Scheme names are case-insensitive (RFC 9110 §11.1); exactly one space separates scheme and token.
const AUTHORIZATION_SCHEMES = new Set(["bearer", "apikey"]);

// Any whitespace or control character inside a token means it is not a bare key.
const WHITESPACE_OR_CONTROL = /[\p{Cc}\s]/u;

/** candidateKeyFromCredential unwraps any credential form into a candidate whole key, or null. */
export function candidateKeyFromCredential(credential: VerifyCredential): string | null {
  switch (credential.kind) {
    case "key":
      return candidateKeyFromRaw(credential.key);
    case "authorization":
      return candidateKeyFromAuthorization(credential.authorization);
    case "access_key":
      return candidateKeyFromAccessKey(credential.accessKeyId, credential.secretKey);
    case "none":
      return null;
  }
}

/** candidateKeyFromRaw returns a raw key untrimmed (" key" and "key\n" are not keys), or null. */
export function candidateKeyFromRaw(key: string): string | null {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_CREDENTIAL_LENGTH) {
    return null;
  }
  return key;
}

export function candidateKeyFromAuthorization(value: string): string | null {
  if (typeof value !== "string" || value.length > MAX_CREDENTIAL_LENGTH) {
    return null;
  }
  const space = value.indexOf(" ");
  if (space <= 0) {
    return null;
  }
  if (!AUTHORIZATION_SCHEMES.has(value.slice(0, space).toLowerCase())) {
    return null;
  }
  const token = value.slice(space + 1);
  if (token.length === 0 || WHITESPACE_OR_CONTROL.test(token)) {
    return null;
  }
  return token;
}

/**
 * candidateKeyFromAccessKey joins accessKeyId + "_" + secretKey. A secret key never contains "_"; requiring
 * that keeps the split unique, so a whole key cannot be smuggled in as another id/secret split.
 */
export function candidateKeyFromAccessKey(accessKeyId: string, secretKey: string): string | null {
  if (
    typeof accessKeyId !== "string" ||
    typeof secretKey !== "string" ||
    accessKeyId.length === 0 ||
    secretKey.length === 0 ||
    accessKeyId.length > MAX_CREDENTIAL_LENGTH ||
    secretKey.length > MAX_CREDENTIAL_LENGTH ||
    secretKey.includes("_")
  ) {
    return null;
  }
  return `${accessKeyId}_${secretKey}`;
}

/** AdminCredentialHeaders are the request headers (gRPC metadata) that may carry an admin credential. */
export interface AdminCredentialHeaders {
  readonly authorization?: string | undefined;
  readonly xApiKey?: string | undefined;
}

/** CREDENTIAL_FORMS is how an admin credential may be sent, for the messages that refuse one. */
const CREDENTIAL_FORMS = "send 'authorization: Bearer <key>' (or 'ApiKey <key>') or 'x-api-key: <key>'";

/**
 * extractAdminCredential returns the presented key or null for none; an unusable one is refused, naming its
 * form, never its value. Two different keys are refused: a proxy-added header never overrides the caller's.
 */
export function extractAdminCredential(headers: AdminCredentialHeaders): string | null {
  const { authorization, xApiKey } = headers;
  const hasAuthorization = authorization !== undefined && authorization !== "";
  const hasApiKey = xApiKey !== undefined && xApiKey !== "";
  const fromAuthorization = hasAuthorization ? candidateKeyFromAuthorization(authorization) : null;
  const fromApiKey = hasApiKey ? candidateKeyFromRaw(xApiKey) : null;
  if (hasAuthorization && fromAuthorization === null) {
    throw new DomainError(
      "unauthenticated",
      `malformed authorization header: expected 'Bearer <key>' or 'ApiKey <key>' (one space, no other whitespace)${hasApiKey ? "; it is refused even beside x-api-key, send one credential" : ""}`,
    );
  }
  if (hasApiKey && fromApiKey === null) {
    throw new DomainError(
      "unauthenticated",
      `malformed x-api-key header: expected the key alone (at most ${MAX_CREDENTIAL_LENGTH} characters)`,
    );
  }
  if (fromAuthorization !== null && fromApiKey !== null && fromAuthorization !== fromApiKey) {
    throw new DomainError(
      "unauthenticated",
      `the authorization and x-api-key headers carry different keys; ${CREDENTIAL_FORMS}, one key`,
    );
  }
  return fromAuthorization ?? fromApiKey;
}
