/**
 * The process logger: pino JSON lines on stdout, with every path that can hold a secret redacted and
 * key-shaped text scrubbed from logged errors (an exception message may quote input it should not have).
 */
import { type DestinationStream, type Logger, pino, stdSerializers } from "pino";
import type { Config } from "./config.js";

export const REDACTED = "[redacted]";

const secretFields = [
  "key",
  "secret",
  "secret_key",
  "secretKey",
  "authorization",
  "bootstrap_token",
  "bootstrapToken",
  "pepper",
  "previousPeppers",
  "password",
  "token",
  "callerToken",
  "verifyCallerToken",
  "uri",
];
const secretHeaders = [
  "authorization",
  "x-api-key",
  "x-apikeys-caller-token",
  "accesskey",
  "secretkey",
  "cookie",
];

/**
 * redactPaths lists every pino redaction path: secret fields at the top level and up to three levels deep,
 * and secret headers wherever a `headers` / `metadata` object is logged (bracket notation for hyphens).
 */
export const redactPaths: readonly string[] = Object.freeze([
  ...secretFields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
  ...secretHeaders.flatMap((header) =>
    ["headers", "metadata", "requestHeader", "header"].flatMap((holder) => [
      `${holder}["${header}"]`,
      `*.${holder}["${header}"]`,
      `*.*.${holder}["${header}"]`,
    ]),
  ),
  ...secretHeaders
    .filter((header) => header.includes("-"))
    .flatMap((header) => [`["${header}"]`, `*["${header}"]`]),
]);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** createSecretScrubber replaces anything key-shaped (the prefix, then key characters) with "[redacted]". */
function createSecretScrubber(keyPrefix: string): (text: string) => string {
  const keyShaped = new RegExp(`${escapeRegExp(keyPrefix)}[A-Za-z0-9_-]{4,}`, "g");
  return (text) => text.replace(keyShaped, `${keyPrefix}${REDACTED}`);
}

/** createLogger returns the root logger for `config`: level, base fields, redaction and error scrubbing. */
export function createLogger(
  config: Pick<Config, "logLevel" | "replicaId"> & { readonly keys: Pick<Config["keys"], "prefix"> },
  /** destination: where logs go (tests capture them). */
  options: { readonly destination?: DestinationStream } = {},
): Logger {
  const scrub = createSecretScrubber(config.keys.prefix);
  const serializeError = (error: unknown) => {
    const serialized = stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
    return scrubDeep(serialized, scrub);
  };
  return pino(
    {
      level: config.logLevel,
      base: { app: "apikeys", replica: config.replicaId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...redactPaths], censor: REDACTED },
      serializers: { err: serializeError, error: serializeError, cause: serializeError },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

function scrubDeep(value: unknown, scrub: (text: string) => string): Record<string, unknown> {
  const visit = (inner: unknown, depth: number): unknown => {
    if (typeof inner === "string") {
      return scrub(inner);
    }
    if (depth > 5 || inner === null || typeof inner !== "object") {
      return inner;
    }
    if (Array.isArray(inner)) {
      return inner.map((item) => visit(item, depth + 1));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(inner)) {
      out[key] = visit(item, depth + 1);
    }
    return out;
  };
  return visit(value, 0) as Record<string, unknown>;
}
