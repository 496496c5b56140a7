import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DomainError } from "../../../src/domain/errors.js";
import {
  createPageTokenCodec,
  MAX_PAGE_TOKEN_LENGTH,
  pageTokenScope,
} from "../../../src/domain/page-token.js";

const key = randomBytes(32);
const codec = createPageTokenCodec(key);
const scope = pageTokenScope("acme", "status=active", "user=");
const cursor = '{"createdAt":"2030-06-15T12:00:00.000Z","id":"ak_live_A1b2C3d4E5f6G7h8"}';

/** rejection returns the an invalid-argument error `run` throws. */
function rejection(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toHaveProperty("kind", "invalid_argument");
    return error as DomainError;
  }
  throw new Error("expected an invalid-argument error");
}

describe("page tokens", () => {
  it("round-trip a cursor within the same scope", () => {
    const token = codec.encode(scope, cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode(token, scope)).toBe(cursor);
  });

  it("round-trip any scope and cursor, including empty and non-ASCII ones", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary", maxLength: 200 }), (s, c) => {
        expect(codec.decode(codec.encode(s, c), s)).toBe(c);
      }),
    );
  });

  it("are accepted by another codec with the same key (another replica)", () => {
    expect(createPageTokenCodec(Buffer.from(key)).decode(codec.encode(scope, cursor), scope)).toBe(cursor);
  });

  it.each<[string, () => string, RegExp]>([
    [
      "another tenant",
      () => codec.decode(codec.encode(scope, cursor), pageTokenScope("globex", "status=active", "user=")),
      /does not belong/,
    ],
    [
      "other filters",
      () => codec.decode(codec.encode(scope, cursor), pageTokenScope("acme", "status=revoked", "user=")),
      /does not belong/,
    ],
    [
      "another key",
      () => createPageTokenCodec(randomBytes(32)).decode(codec.encode(scope, cursor), scope),
      /does not belong/,
    ],
    ["garbage", () => codec.decode("not a token!", scope), /not a valid page token/],
    ["empty", () => codec.decode("", scope), /not a valid page token/],
    ["too short", () => codec.decode("AQ", scope), /not a valid page token/],
    ["padded base64", () => codec.decode(`${codec.encode(scope, cursor)}=`, scope), /not a valid page token/],
    [
      "standard base64 alphabet",
      () => codec.decode(`${codec.encode(scope, cursor).replaceAll("_", "/").replaceAll("-", "+")}+/`, scope),
      /not a valid page token/,
    ],
    ["over-long", () => codec.decode("A".repeat(MAX_PAGE_TOKEN_LENGTH + 1), scope), /not a valid page token/],
    [
      "wrong version",
      () =>
        codec.decode(
          Buffer.concat([
            Buffer.of(2),
            Buffer.from(codec.encode(scope, cursor), "base64url").subarray(1),
          ]).toString("base64url"),
          scope,
        ),
      /not a valid page token/,
    ],
  ])("refuse %s", (_label, run, message) => {
    const error = rejection(run);
    expect(error.field).toBe("page_token");
    expect(error.message).toMatch(message);
  });

  it("refuse every single-character change of a token", () => {
    const token = codec.encode(scope, cursor);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < token.length; i++) {
      for (const c of [
        alphabet[(alphabet.indexOf(token[i] as string) + 1) % 64],
        alphabet[(alphabet.indexOf(token[i] as string) + 32) % 64],
      ]) {
        const tampered = token.slice(0, i) + c + token.slice(i + 1);
        expect(() => codec.decode(tampered, scope), `position ${i}`).toThrow(
          expect.objectContaining({ kind: "invalid_argument" }),
        );
      }
    }
  });

  it("refuse a cursor swapped into a valid token's tag", () => {
    const a = Buffer.from(codec.encode(scope, cursor), "base64url");
    const forged = Buffer.concat([
      a.subarray(0, 17),
      Buffer.from('{"createdAt":"1970-01-01T00:00:00.000Z","id":""}'),
    ]);
    expect(() => codec.decode(forged.toString("base64url"), scope)).toThrow(/does not belong/);
  });

  it("keep scope and cursor boundaries unambiguous", () => {
    expect(() => codec.decode(codec.encode("ab", "c"), "a")).toThrow(
      expect.objectContaining({ kind: "invalid_argument" }),
    );
    expect(pageTokenScope("a", "b|c")).not.toBe(pageTokenScope("a|b", "c"));
    expect(pageTokenScope("a", "b")).not.toBe(pageTokenScope("ab"));
  });

  it("need a signing key of at least 32 bytes", () => {
    expect(() => createPageTokenCodec(randomBytes(31))).toThrow(RangeError);
  });
});
