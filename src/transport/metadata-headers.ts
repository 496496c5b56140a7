/**
 * Headers views over grpc-js Metadata, so service implementations read request metadata through the
 * standard HandlerContext.requestHeader on both transports.
 */
import { Metadata, type MetadataValue } from "@grpc/grpc-js";

function headerValue(name: string, value: MetadataValue): string {
  // Binary metadata ("-bin") travels as bytes in grpc-js and as base64 text in Headers (connect convention).
  return typeof value === "string"
    ? value
    : name.endsWith("-bin")
      ? value.toString("base64")
      : value.toString();
}

/**
 * MetadataHeaders is a Headers view over the incoming grpc-js Metadata. get() and has() read the metadata
 * directly (the common case: one lookup, no copy); anything else first copies it into a real Headers object
 * once, and all later operations use that copy.
 */
export class MetadataHeaders implements Headers {
  readonly #metadata: Metadata;
  #headers: Headers | undefined = undefined;

  constructor(metadata: Metadata) {
    this.#metadata = metadata;
  }

  get(name: string): string | null {
    if (this.#headers !== undefined) {
      return this.#headers.get(name);
    }
    const key = name.toLowerCase();
    const values = this.#metadata.get(key);
    if (values.length === 0) {
      return null;
    }
    if (values.length === 1) {
      return headerValue(key, values[0] as MetadataValue);
    }
    return values.map((value) => headerValue(key, value)).join(", ");
  }

  has(name: string): boolean {
    if (this.#headers !== undefined) {
      return this.#headers.has(name);
    }
    return this.#metadata.get(name.toLowerCase()).length > 0;
  }

  append(name: string, value: string): void {
    this.#materialize().append(name, value);
  }

  delete(name: string): void {
    this.#materialize().delete(name);
  }

  set(name: string, value: string): void {
    this.#materialize().set(name, value);
  }

  getSetCookie(): string[] {
    return this.#materialize().getSetCookie();
  }

  forEach(callbackfn: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#materialize().forEach((value, key) => {
      callbackfn.call(thisArg, value, key, this);
    });
  }

  keys(): ReturnType<Headers["keys"]> {
    return this.#materialize().keys();
  }

  values(): ReturnType<Headers["values"]> {
    return this.#materialize().values();
  }

  entries(): ReturnType<Headers["entries"]> {
    return this.#materialize().entries();
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.#materialize().entries();
  }

  #materialize(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      for (const [key, values] of Object.entries(this.#metadata.toJSON())) {
        for (const value of values) {
          headers.append(key, headerValue(key, value));
        }
      }
      this.#headers = headers;
    }
    return this.#headers;
  }
}

/**
 * headersToMetadata copies Headers into grpc-js Metadata (for response headers and trailers); "-bin" values
 * are base64-decoded. Entries grpc-js cannot carry are skipped rather than failing the call.
 */
export function headersToMetadata(headers: Headers, into: Metadata = new Metadata()): Metadata {
  headers.forEach((value, key) => {
    try {
      if (key.endsWith("-bin")) {
        into.add(key, Buffer.from(value, "base64"));
      } else {
        into.add(key, value);
      }
    } catch {
      // An illegal metadata value (for example non-ASCII text) is dropped, not sent.
    }
  });
  return into;
}

/** isEmptyHeaders tells whether `headers` has no entry. */
export function isEmptyHeaders(headers: Headers): boolean {
  for (const _ of headers.keys()) {
    return false;
  }
  return true;
}
