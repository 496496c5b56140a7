import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeAuditCursor,
  decodeAuditPageToken,
  encodeAuditCursor,
  encodeAuditPageToken,
} from "../../../src/domain/audit-cursor.js";
import type { DomainError } from "../../../src/domain/errors.js";

const pageToken = encodeAuditPageToken({ time: new Date("2026-01-02T03:04:05.678Z"), seq: 42 });
const cursor = encodeAuditCursor(42);
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** nonCanonical sets a spare low bit of the last character (17 bytes leave 2 unused bits). */
const nonCanonical = (token: string) =>
  token.slice(0, -1) + BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(token.slice(-1)) | 1];

describe("resume cursor", () => {
  it("round-trips every safe seq", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (seq) => {
        expect(decodeAuditCursor(encodeAuditCursor(seq))).toBe(seq);
      }),
    );
  });

  it("is short and URL-safe", () => {
    expect(cursor).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it.each([
    ["empty", ""],
    ["plain text", "hello"],
    ["a number", "42"],
    ["padding", `${cursor}=`],
    ["one character short", cursor.slice(0, -1)],
    ["one character long", `${cursor}A`],
    ["standard base64 characters", `${cursor.slice(0, -1)}+`],
    ["a page token", pageToken],
    ["unknown format byte", Buffer.from([0x09, 0, 0, 0, 0, 0, 0, 0, 1]).toString("base64url")],
    [
      "seq beyond safe integers",
      Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).toString("base64url"),
    ],
    ["huge input", "A".repeat(100_000)],
  ])("rejects %s with invalidArgument(resume_cursor)", (_name, text) => {
    expect.assertions(2);
    try {
      decodeAuditCursor(text);
    } catch (error) {
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe("resume_cursor");
    }
  });

  it("never throws anything but an invalid-argument error on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (text) => {
        try {
          decodeAuditCursor(text);
        } catch (error) {
          expect(error).toHaveProperty("kind", "invalid_argument");
        }
      }),
    );
  });

  it.each([[-1], [1.5], [Number.MAX_SAFE_INTEGER + 1], [Number.NaN]])("refuses to encode seq %s", (seq) => {
    expect(() => encodeAuditCursor(seq)).toThrow(RangeError);
  });
});

describe("page token", () => {
  it("round-trips time and seq", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (time, seq) => {
          const decoded = decodeAuditPageToken(encodeAuditPageToken({ time, seq }));
          expect(decoded.time.getTime()).toBe(time.getTime());
          expect(decoded.seq).toBe(seq);
        },
      ),
    );
  });

  it.each([
    ["empty", ""],
    ["a resume cursor", cursor],
    ["garbage", "not-a-token"],
    ["a non-canonical spelling", nonCanonical(pageToken)],
    [
      "time beyond Date range",
      Buffer.concat([Buffer.from([0x02]), Buffer.alloc(8, 0x7f), Buffer.alloc(8)]).toString("base64url"),
    ],
  ])("rejects %s with invalidArgument(page_token)", (_name, text) => {
    expect.assertions(2);
    try {
      decodeAuditPageToken(text);
    } catch (error) {
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe("page_token");
    }
  });
});
