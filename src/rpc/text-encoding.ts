/**
 * Faster string coding for protobuf-es on Node. By default protobuf-es encodes every string field with
 * TextEncoder, which costs a native call and a fresh array per string (measured 160-500 ns per short
 * string here, more than the rest of encoding a VerifyKeyResponse); Buffer.from writes short strings into
 * Node's buffer pool in a fraction of that. Decoding reads the Buffer slices grpc-js and connect-node hand
 * over with Buffer#toString, validating UTF-8 (when protobuf-es asks for strict decoding) with isUtf8.
 * Same results, byte for byte; anything that is not a Buffer falls back to the default coder.
 */
import { isUtf8 } from "node:buffer";
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

let installed = false;

/**
 * installNodeTextEncoding switches protobuf-es (process-wide) to Node's Buffer for UTF-8. Idempotent; the
 * transports call it when they are created.
 */
export function installNodeTextEncoding(): void {
  if (installed) {
    return;
  }
  installed = true;
  const fallback = getTextEncoding();
  configureTextEncoding({
    encodeUtf8: (text: string) => Buffer.from(text, "utf8"),
    decodeUtf8(bytes: Uint8Array, strict?: boolean) {
      if (!Buffer.isBuffer(bytes)) {
        return fallback.decodeUtf8(bytes, strict);
      }
      if (strict === true && !isUtf8(bytes)) {
        // The same error the default (fatal TextDecoder) raises.
        throw new TypeError("The encoded data was not valid for encoding utf-8");
      }
      return bytes.toString("utf8");
    },
    checkUtf8: fallback.checkUtf8,
  });
}
