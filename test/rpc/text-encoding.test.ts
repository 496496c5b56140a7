import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VerifyKeyRequestSchema } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { installNodeTextEncoding } from "../../src/rpc/text-encoding.js";

// Captured before installing: the default coder to compare against.
const defaults = { ...getTextEncoding() };
const encoder = new TextEncoder();
installNodeTextEncoding();
const installed = getTextEncoding();

describe("Node text encoding for protobuf-es", () => {
  it("encodes every string to the same bytes as TextEncoder", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 64 }), (text) => {
        expect(Buffer.from(installed.encodeUtf8(text))).toEqual(Buffer.from(encoder.encode(text)));
      }),
    );
  });

  it.each(["\ud800", "a\udc00b", "\ud83d"])(
    "encodes the lone surrogate in %j like TextEncoder (U+FFFD)",
    (text) => {
      expect(Buffer.from(installed.encodeUtf8(text))).toEqual(Buffer.from(encoder.encode(text)));
    },
  );

  it("decodes Buffers and plain arrays to the same text as the default, strict or not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, strict) => {
        const expected = (() => {
          try {
            return { text: defaults.decodeUtf8(bytes, strict) };
          } catch {
            return { error: true };
          }
        })();
        for (const input of [Buffer.from(bytes), bytes]) {
          try {
            expect({ text: installed.decodeUtf8(input, strict) }).toEqual(expected);
          } catch (error) {
            if (!("error" in expected)) {
              throw error;
            }
            expect(error).toBeInstanceOf(TypeError);
          }
        }
      }),
    );
  });

  it("round-trips a message with multi-byte text through Buffers", () => {
    const request = create(VerifyKeyRequestSchema, {
      credential: { case: "key", value: "ak_live_ünïcødé_🔑" },
      endpoint: "GET /produits/été",
    });
    const bytes = Buffer.from(toBinary(VerifyKeyRequestSchema, request));
    expect(fromBinary(VerifyKeyRequestSchema, bytes)).toEqual(request);
  });

  it("still rejects a string field holding invalid UTF-8", () => {
    // Field 5 (endpoint), length 2, bytes 0xC3 0x28: not UTF-8.
    const bytes = Buffer.from([0x2a, 0x02, 0xc3, 0x28]);
    expect(() => fromBinary(VerifyKeyRequestSchema, bytes)).toThrow();
  });
});
