/** Page tokens: a storage cursor signed for its scope (tenant and filters); see docs/architecture.md. */
import { createHmac, timingSafeEqual } from "node:crypto";
import { type DomainError, invalidArgument } from "./errors.js";

export const MIN_PAGE_TOKEN_KEY_BYTES = 32;
/** MAX_PAGE_TOKEN_LENGTH is the longest token decode looks at; anything longer is refused unread. */
export const MAX_PAGE_TOKEN_LENGTH = 4096;

export interface PageTokenCodec {
  encode(scope: string, cursor: string): string;
  /** decode throws invalidArgument("page_token") for garbage, tampering and another scope; "" is no token. */
  decode(token: string, scope: string): string;
}

const VERSION = 1;
const TAG_BYTES = 16;
const DOMAIN = Buffer.from("apikeys/page-token/v1\u0000", "utf8");
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** createPageTokenCodec signs with `secretKey`, the same on every replica so any can continue a listing. */
export function createPageTokenCodec(secretKey: Uint8Array): PageTokenCodec {
  if (secretKey.length < MIN_PAGE_TOKEN_KEY_BYTES) {
    throw new RangeError(`the page token key must be at least ${MIN_PAGE_TOKEN_KEY_BYTES} bytes`);
  }
  const key = Buffer.from(secretKey);
  const tag = (scope: string, cursor: Buffer): Buffer => {
    const scopeBytes = Buffer.from(scope, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(scopeBytes.length);
    return createHmac("sha256", key)
      .update(DOMAIN)
      .update(length)
      .update(scopeBytes)
      .update(cursor)
      .digest()
      .subarray(0, TAG_BYTES);
  };
  const refuse = (why: string): DomainError =>
    invalidArgument("page_token", `${why}; pass the next_page_token of the same listing unchanged`);

  return {
    encode(scope, cursor) {
      const cursorBytes = Buffer.from(cursor, "utf8");
      return Buffer.concat([Buffer.of(VERSION), tag(scope, cursorBytes), cursorBytes]).toString("base64url");
    },
    decode(token, scope) {
      if (typeof token !== "string" || token.length > MAX_PAGE_TOKEN_LENGTH || !BASE64URL.test(token)) {
        throw refuse("is not a valid page token");
      }
      const bytes = Buffer.from(token, "base64url");
      // Node's decoder ignores stray trailing bits; only the canonical text of the bytes is a token.
      if (bytes.length < 1 + TAG_BYTES || bytes[0] !== VERSION || bytes.toString("base64url") !== token) {
        throw refuse("is not a valid page token");
      }
      const cursor = bytes.subarray(1 + TAG_BYTES);
      if (!timingSafeEqual(bytes.subarray(1, 1 + TAG_BYTES), tag(scope, cursor))) {
        throw refuse(
          "does not belong to this listing (it was altered, or made for other filters or another tenant)",
        );
      }
      return cursor.toString("utf8");
    },
  };
}

/** pageTokenScope joins tenant and filters unambiguously: ("a", "b|c") and ("a|b", "c") never collide. */
export function pageTokenScope(...parts: readonly string[]): string {
  return JSON.stringify(parts);
}
