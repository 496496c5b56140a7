/**
 * Configuration from environment variables, in one table: each variable once, with its default, its parser
 * (which states its range) and what it means. Components keep no defaults of their own; nothing else in src
 * reads process.env.
 */
import { isIP } from "node:net";
import { hostname } from "node:os";

type Parsed<T> = { readonly value: T } | { readonly problem: string };

/** Parser reads one variable's text (its default when unset or empty; null when it has none). */
interface Parser<T> {
  /** range says which values are accepted, for the documentation. */
  readonly range: string;
  parse(text: string | null): Parsed<T>;
}

/** DEV_PEPPER is the fixed pepper used outside production when KEY_HASH_PEPPER is unset. Not a secret. */
export const DEV_PEPPER = "apikeys-development-pepper-do-not-use-in-production";

export const KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}_(?:[a-z0-9]{1,15}_)?$/;

const MIN_PEPPER_BYTES = 32;
const MIN_TOKEN_CHARS = 16;
const HOSTNAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const REPLICA_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const MONGO_URI_PATTERN = /^mongodb(?:\+srv)?:\/\/[^\s/]+(?:\/[^\s]*)?$/;
const DB_NAME_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;
const HTTP_URL_PATTERN = /^https?:\/\/[^\s/]+(?:\/[^\s]*)?$/;
/** The OTLP/HTTP collector address the OpenTelemetry specification defaults to. */
const OTLP_DEFAULT_ENDPOINT = "http://localhost:4318";

const required = { problem: "is required" } as const;

function integer(min: number, max: number): Parser<number> {
  return {
    range: `integer ${min}–${max}`,
    parse(text) {
      const parsed = text !== null && /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(parsed) && parsed >= min && parsed <= max
        ? { value: parsed }
        : { problem: `must be an integer between ${min} and ${max}` };
    },
  };
}

function choice<const T extends string>(allowed: readonly T[]): Parser<T> {
  return {
    range: allowed.join(", "),
    parse: (text) =>
      text !== null && (allowed as readonly string[]).includes(text)
        ? { value: text as T }
        : { problem: `must be one of ${allowed.join(", ")}` },
  };
}

function matching(pattern: RegExp, what: string): Parser<string> {
  return {
    range: String(pattern),
    parse: (text) => (text !== null && pattern.test(text) ? { value: text } : { problem: what }),
  };
}

function minSize(min: number, unit: string, size: (text: string) => number, note = ""): Parser<string> {
  const problem = `must be at least ${min} ${unit}${note}`;
  return {
    range: `at least ${min} ${unit}`,
    parse: (text) => (text !== null && size(text) >= min ? { value: text } : { problem }),
  };
}

const pepperText = minSize(MIN_PEPPER_BYTES, "bytes", (text) => Buffer.byteLength(text, "utf8"));
const tokenText = minSize(MIN_TOKEN_CHARS, "characters", (text) => text.length, " when set");

function optional<T>(parser: Parser<T>): Parser<T | null> {
  return {
    range: `unset, or ${parser.range}`,
    parse: (text) => (text === null ? { value: null } : parser.parse(text)),
  };
}

const text: Parser<string> = {
  range: "text",
  parse: (value) => (value === null ? required : { value }),
};

const host: Parser<string> = {
  range: "IP address or host name",
  parse: (value) =>
    value !== null && (isIP(value) !== 0 || HOSTNAME_PATTERN.test(value))
      ? { value }
      : { problem: "must be an IP address or a host name" },
};

/** previousPeppers reads `version:pepper,version:pepper` (repeats of the current version are checked later). */
const previousPeppers: Parser<readonly PepperVersion[]> = {
  range: "version:pepper,…",
  parse(value) {
    const peppers: PepperVersion[] = [];
    for (const [index, entry] of (value === null ? [] : value.split(",")).entries()) {
      const separator = entry.indexOf(":");
      const versionText = separator > 0 ? entry.slice(0, separator).trim() : "";
      const pepper = separator > 0 ? entry.slice(separator + 1) : "";
      const version = /^\d{1,7}$/.test(versionText) ? Number(versionText) : 0;
      if (version < 1 || Buffer.byteLength(pepper, "utf8") < MIN_PEPPER_BYTES) {
        return {
          problem: `entry ${index + 1} must be version:pepper with a positive integer version and a pepper of at least ${MIN_PEPPER_BYTES} bytes`,
        };
      }
      if (peppers.some((known) => known.version === version)) {
        return { problem: `entry ${index + 1} repeats pepper version ${version}` };
      }
      peppers.push(Object.freeze({ version, pepper }));
    }
    return { value: peppers };
  },
};

/** ConfigVariable documents one environment variable (the README's configuration table mirrors these). */
export interface ConfigVariable {
  readonly name: string;
  /** default is used when the variable is unset or empty; null when there is none. */
  readonly default: string | null;
  readonly range: string;
  readonly meaning: string;
  /** secret variables are never echoed in error messages or logs. */
  readonly secret: boolean;
}

interface Variable<T> extends Omit<ConfigVariable, "name" | "range"> {
  readonly parser: Parser<T>;
}

const SECRET = true;

function variable<T>(
  defaultValue: string | null,
  parser: Parser<T>,
  meaning: string,
  secret = false,
): Variable<T> {
  return { default: defaultValue, parser, meaning, secret };
}

/** variables is THE configuration table, in the README's order. */
const variables = {
  NODE_ENV: variable(
    "development",
    choice(["development", "test", "production"] as const),
    "development, test or production; production never provisions a local database",
  ),
  GRPC_HOST: variable(
    "0.0.0.0",
    host,
    "address the gRPC port (grpc-js: VerifyKey fast path, reflection) binds to",
  ),
  GRPC_PORT: variable("50051", integer(0, 65535), "gRPC port; 0 picks a free port (the log says which)"),
  HTTP_HOST: variable(
    "0.0.0.0",
    host,
    "address the HTTP port (Connect, gRPC-Web, gRPC over h2c, /healthz, /readyz, /metrics) binds to",
  ),
  HTTP_PORT: variable(
    "8080",
    integer(0, 65535),
    "HTTP port (HTTP/1.1 and h2c on the same port); 0 picks a free port",
  ),
  MONGODB_URI: variable(
    null,
    optional(matching(MONGO_URI_PATTERN, "must be a mongodb:// or mongodb+srv:// connection string")),
    "MongoDB connection string; required in production; unset elsewhere provisions a local database",
    SECRET,
  ),
  MONGODB_DB: variable(
    "apikeys",
    matching(DB_NAME_PATTERN, "must be a MongoDB database name (1-63 characters of A-Z a-z 0-9 _ -)"),
    "database name",
  ),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: variable(
    "2000",
    integer(1, 600_000),
    "how long the driver looks for a usable server before failing an operation",
  ),
  MONGODB_CONNECT_TIMEOUT_MS: variable("2000", integer(1, 600_000), "TCP connect timeout to MongoDB"),
  MONGODB_SOCKET_TIMEOUT_MS: variable(
    "5000",
    integer(1, 3_600_000),
    "how long a MongoDB socket may stay silent during an operation",
  ),
  LOCAL_MONGO_DATA_DIR: variable(
    ".data/mongo",
    text,
    "data directory of a provisioned local mongod (the in-memory server keeps nothing)",
  ),
  LOG_LEVEL: variable(
    "info",
    choice(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
    "pino level: fatal, error, warn, info, debug, trace or silent",
  ),
  KEY_PREFIX: variable(
    "ak_live_",
    matching(
      KEY_PREFIX_PATTERN,
      "must match ^[a-z][a-z0-9]{0,15}_(?:[a-z0-9]{1,15}_)?$ (for example ak_live_)",
    ),
    "prefix of issued keys, like ak_live_ or sk_test_ (lowercase, ends with _)",
  ),
  KEY_HASH_PEPPER: variable(
    null,
    optional(pepperText),
    "server-side secret (at least 32 bytes) keyed into key hashes; required in production, a built-in one is used in development",
    SECRET,
  ),
  KEY_HASH_PEPPER_VERSION: variable(
    "1",
    integer(1, 1_000_000),
    "version number of KEY_HASH_PEPPER, stored with each hash",
  ),
  KEY_HASH_PREVIOUS_PEPPERS: variable(
    null,
    previousPeppers,
    "older peppers still accepted during a rotation, as version:pepper,version:pepper",
    SECRET,
  ),
  DEFAULT_TENANT_KEY_LIMIT: variable(
    "10",
    integer(1, 1_000_000),
    "most active keys a tenant may hold unless its settings say otherwise",
  ),
  EXPIRING_SOON_WINDOW_MS: variable(
    "604800000",
    integer(0, 366 * 24 * 3_600_000),
    "a key expiring within this window is listed as expiring soon (default 7 days)",
  ),
  BOOTSTRAP_TOKEN: variable(
    null,
    optional(tokenText),
    "one-time token (at least 16 characters) that lets Bootstrap create the first admin key",
    SECRET,
  ),
  VERIFY_CALLER_TOKEN: variable(
    null,
    optional(tokenText),
    "when set (at least 16 characters), VerifyKey callers must send it in x-apikeys-caller-token",
    SECRET,
  ),
  GRPC_TLS_CERT_FILE: variable(
    null,
    optional(text),
    "PEM certificate chain for TLS on the gRPC port (with GRPC_TLS_KEY_FILE)",
  ),
  GRPC_TLS_KEY_FILE: variable(
    null,
    optional(text),
    "PEM private key for TLS on the gRPC port (with GRPC_TLS_CERT_FILE)",
  ),
  GRPC_TLS_CLIENT_CA_FILE: variable(
    null,
    optional(text),
    "PEM CA bundle; when set, gRPC clients must present a certificate it signed (mTLS)",
  ),
  HTTP_TLS_CERT_FILE: variable(
    null,
    optional(text),
    "PEM certificate chain for TLS on the HTTP port, HTTP/1.1 and HTTP/2 chosen by ALPN (with HTTP_TLS_KEY_FILE)",
  ),
  HTTP_TLS_KEY_FILE: variable(
    null,
    optional(text),
    "PEM private key for TLS on the HTTP port (with HTTP_TLS_CERT_FILE)",
  ),
  MAX_MESSAGE_BYTES: variable(
    "262144",
    integer(1024, 64 * 1024 * 1024),
    "largest request or response message accepted on either port",
  ),
  MAX_DEADLINE_MS: variable(
    "30000",
    integer(1, 3_600_000),
    "largest deadline a caller may request; a larger one is rejected with INVALID_ARGUMENT",
  ),
  DEFAULT_DEADLINE_MS: variable(
    "10000",
    integer(1, 3_600_000),
    "deadline applied to unary calls that arrive without one",
  ),
  SHUTDOWN_DRAIN_MS: variable(
    "10000",
    integer(0, 600_000),
    "how long shutdown waits for in-flight calls before forcing them closed",
  ),
  KEY_CACHE_MAX_ENTRIES: variable(
    "100000",
    integer(1, 100_000_000),
    "most key records kept in the verify cache",
  ),
  KEY_CACHE_MAX_BYTES: variable(
    "67108864",
    integer(1024, 2 ** 40),
    "approximate memory bound of the verify cache",
  ),
  NEGATIVE_CACHE_MAX_ENTRIES: variable(
    "100000",
    integer(1, 100_000_000),
    "most unknown-key lookups remembered",
  ),
  NEGATIVE_CACHE_TTL_MS: variable(
    "30000",
    integer(1, 3_600_000),
    "how long an unknown-key lookup is remembered",
  ),
  CACHE_MAX_STALE_MS: variable(
    "60000",
    integer(0, 3_600_000),
    "how long cached keys keep verifying while MongoDB cannot be reached",
  ),
  KEY_LOOKUP_TIMEOUT_MS: variable(
    "200",
    integer(10, 60_000),
    "time budget of one cache-miss lookup, waiting for a slot included; past it VerifyKey answers UNAVAILABLE",
  ),
  KEY_LOOKUP_MAX_CONCURRENT: variable(
    "32",
    integer(1, 10_000),
    "most cache-miss lookups in flight per replica; more wait (up to 1000) within the budget, then UNAVAILABLE",
  ),
  INVALIDATION_POLL_MS: variable(
    "100",
    integer(10, 60_000),
    "how often each replica polls the invalidation feed",
  ),
  USAGE_FLUSH_INTERVAL_MS: variable(
    "1000",
    integer(10, 600_000),
    "how often buffered usage events are written",
  ),
  AUDIT_REFUSED_USAGE_PER_SECOND: variable(
    "1000",
    integer(0, 1_000_000),
    "most usage events of refused or unknown keys recorded per second per replica; the rest are counted (apikeys_audit_usage_sampled_out_total), so a flood of bad keys cannot crowd out the audit log",
  ),
  LAST_USED_WRITE_INTERVAL_MS: variable(
    "60000",
    integer(0, 86_400_000),
    "at most one last-used write per key per interval",
  ),
  USAGE_STATS_FLUSH_INTERVAL_MS: variable(
    "10000",
    integer(100, 3_600_000),
    "how often each replica adds the verifications it counted to the usage statistics, in one batched write (one $inc upsert per key and tenant hour and day touched); a crash loses at most the counts of one interval (apikeys_usage_stats_pending_verdicts shows them)",
  ),
  USAGE_STATS_HOUR_RETENTION_DAYS: variable(
    "35",
    integer(1, 3_650),
    "how long hourly usage statistics are kept; each replica deletes older buckets every hour",
  ),
  USAGE_STATS_DAY_RETENTION_DAYS: variable(
    "400",
    integer(1, 3_650),
    "how long daily usage statistics are kept; each replica deletes older buckets every hour",
  ),
  KEY_COUNT_REPAIR_INTERVAL_MS: variable(
    "300000",
    integer(1_000, 86_400_000),
    "how often each replica recounts tenants' keys and corrects a key counter left wrong by a crash (also once at start)",
  ),
  AUDIT_BUFFER_MAX_EVENTS: variable(
    "10000",
    integer(1, 100_000_000),
    "most audit events buffered in memory before new ones are dropped (and counted); about 10 s of events at 1k/s",
  ),
  AUDIT_BATCH_MAX_EVENTS: variable("1000", integer(1, 100_000), "most audit events written in one batch"),
  AUDIT_ADMIN_PENDING_MAX: variable(
    "1000",
    integer(1, 1_000_000),
    "most admin events waiting to be stored; beyond it admin mutations answer UNAVAILABLE before changing anything (admin events are never dropped)",
  ),
  AUDIT_RETENTION_DAYS: variable("90", integer(1, 36_500), "how long audit events are kept"),
  AUDIT_HEARTBEAT_MS: variable(
    "5000",
    integer(100, 600_000),
    "interval of heartbeats on an idle audit stream",
  ),
  AUDIT_STREAM_BUFFER_EVENTS: variable(
    "10000",
    integer(1, 10_000_000),
    "most events queued for one slow audit stream subscriber",
  ),
  AUDIT_STREAMS_MAX: variable(
    "256",
    integer(1, 100_000),
    "most audit streams (StreamAuditEvents) open at once on this replica; beyond it an open answers RESOURCE_EXHAUSTED",
  ),
  AUDIT_STREAMS_PER_CALLER_MAX: variable(
    "16",
    integer(1, 100_000),
    "most audit streams one key may have open at once on this replica; beyond it an open answers RESOURCE_EXHAUSTED",
  ),
  OTEL_TRACES_EXPORTER: variable(
    null,
    optional(choice(["otlp", "none"] as const)),
    "otlp sends a span per call (both ports, W3C traceparent continued) to the OTLP/HTTP endpoint; none turns tracing off even with an endpoint set; unset means otlp when an OTLP endpoint is set, else no tracing (and no tracing cost)",
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(
    null,
    optional(matching(HTTP_URL_PATTERN, "must be an http:// or https:// URL")),
    "OTLP/HTTP collector base URL; spans go to its /v1/traces; with OTEL_TRACES_EXPORTER=otlp and no endpoint, the OTLP default http://localhost:4318",
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable(
    null,
    optional(matching(HTTP_URL_PATTERN, "must be an http:// or https:// URL")),
    "full OTLP/HTTP URL for spans (overrides OTEL_EXPORTER_OTLP_ENDPOINT)",
  ),
  OTEL_SERVICE_NAME: variable("apikeys", text, "service.name of the spans"),
  OTEL_BSP_SCHEDULE_DELAY: variable(
    "5000",
    integer(1, 600_000),
    "longest time a finished span waits before it is sent (spans go in batches; shutdown sends the rest)",
  ),
  REPLICA_ID: variable(
    null,
    optional(matching(REPLICA_ID_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ : -")),
    "name of this replica in logs and the invalidation feed (default hostname-pid)",
  ),
};

type ConfigValues = {
  readonly [K in keyof typeof variables]: (typeof variables)[K] extends Variable<infer T> ? T : never;
};

/** configVariables lists every variable loadConfig reads, in the README's order. */
export const configVariables: readonly ConfigVariable[] = Object.freeze(
  Object.entries(variables).map(([name, { parser, ...entry }]: [string, Variable<unknown>]) =>
    Object.freeze({ name, ...entry, range: parser.range }),
  ),
);

/** PepperVersion is one hashing pepper and the version number stored with hashes made with it. */
export interface PepperVersion {
  readonly version: number;
  /** pepper is secret: never logged. */
  readonly pepper: string;
}

type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Config is the validated, frozen configuration of one process, as configOf shapes it. */
export type Config = DeepReadonly<ReturnType<typeof configOf>>;

/** TracingConfig turns on OpenTelemetry tracing with an OTLP/HTTP exporter; null in Config means off. */
export type TracingConfig = NonNullable<Config["tracing"]>;

/** ConfigError lists every configuration problem; its message is one line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** RuntimeFacts are the process facts defaults depend on (injected so loadConfig stays pure). */
export interface RuntimeFacts {
  readonly hostname: string;
  readonly pid: number;
}

/** Contradiction is a rule between two variables: [name, other, holds, message naming the other]. */
type Contradiction = readonly [name: string, other: string, holds: boolean, message: string];

type NumberName = {
  [K in keyof ConfigValues]: ConfigValues[K] extends number ? K : never;
}[keyof ConfigValues];

const ORDERS = {
  "<": ["must be less than", (value: number, bound: number) => value < bound],
  "<=": ["must not exceed", (value: number, bound: number) => value <= bound],
  ">=": ["must be at least", (value: number, bound: number) => value >= bound],
} as const;

/**
 * BOUNDS order numeric variables: [name, order, other, why]. A bound of 0 bounds nothing (0 turns its feature
 * off: CACHE_MAX_STALE_MS=0 never serves stale keys).
 */
const BOUNDS: readonly (readonly [NumberName, keyof typeof ORDERS, NumberName, string?])[] = [
  ["DEFAULT_DEADLINE_MS", "<=", "MAX_DEADLINE_MS"],
  [
    "KEY_LOOKUP_TIMEOUT_MS",
    "<",
    "DEFAULT_DEADLINE_MS",
    "a call without a deadline would end before the lookup budget could answer UNAVAILABLE",
  ],
  [
    "NEGATIVE_CACHE_TTL_MS",
    "<=",
    "CACHE_MAX_STALE_MS",
    "an unknown key is never remembered longer than a known one is trusted",
  ],
  [
    "INVALIDATION_POLL_MS",
    "<",
    "CACHE_MAX_STALE_MS",
    "otherwise cached keys go stale between two polls and every call reads the database",
  ],
  ["AUDIT_BATCH_MAX_EVENTS", "<=", "AUDIT_BUFFER_MAX_EVENTS"],
  [
    "AUDIT_STREAM_BUFFER_EVENTS",
    ">=",
    "AUDIT_BATCH_MAX_EVENTS",
    "events reach a stream a written batch at a time, so a smaller buffer cuts off every subscriber",
  ],
  ["AUDIT_STREAMS_PER_CALLER_MAX", "<=", "AUDIT_STREAMS_MAX"],
];

/** parseVariables reads every variable of the table; a variable with a problem is left undefined. */
function parseVariables(env: Readonly<Record<string, string | undefined>>, problems: string[]): ConfigValues {
  const values: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(variables) as [string, Variable<unknown>][]) {
    const given = env[name];
    const raw = given !== undefined && given !== "" ? given : entry.default;
    const parsed = entry.parser.parse(raw);
    if ("problem" in parsed) {
      const shown = entry.secret || raw === null ? "" : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${name}: ${parsed.problem}${shown}`);
    } else {
      values[name] = parsed.value;
    }
  }
  return values as ConfigValues;
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) {
      deepFreeze(inner);
    }
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}

/** loadConfig returns the frozen Config, or throws a ConfigError naming every variable that is wrong. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  runtime: RuntimeFacts = { hostname: hostname(), pid: process.pid },
): Config {
  const problems: string[] = [];
  const v = parseVariables(env, problems);
  const production = v.NODE_ENV === "production";

  if (v.MONGODB_URI === null && production) {
    problems.push("MONGODB_URI: is required when NODE_ENV=production (no local database is provisioned)");
  }
  if (v.KEY_HASH_PEPPER === null && production) {
    problems.push(
      `KEY_HASH_PEPPER: is required when NODE_ENV=production (at least ${MIN_PEPPER_BYTES} bytes)`,
    );
  }
  if (v.KEY_HASH_PEPPER === DEV_PEPPER && production) {
    problems.push("KEY_HASH_PEPPER: must not be the built-in development pepper in production");
  }
  const repeated = (v.KEY_HASH_PREVIOUS_PEPPERS ?? []).findIndex(
    (previous) => previous.version === v.KEY_HASH_PEPPER_VERSION,
  );
  if (repeated >= 0) {
    problems.push(
      `KEY_HASH_PREVIOUS_PEPPERS: entry ${repeated + 1} repeats pepper version ${v.KEY_HASH_PEPPER_VERSION}`,
    );
  }
  for (const port of ["GRPC", "HTTP"] as const) {
    const [cert, key] = [`${port}_TLS_CERT_FILE`, `${port}_TLS_KEY_FILE`] as const;
    if ((v[cert] === null) !== (v[key] === null)) {
      problems.push(`${v[cert] === null ? cert : key}: ${cert} and ${key} must be set together`);
    }
  }
  if (v.GRPC_TLS_CLIENT_CA_FILE !== null && (v.GRPC_TLS_CERT_FILE === null || v.GRPC_TLS_KEY_FILE === null)) {
    problems.push(
      "GRPC_TLS_CLIENT_CA_FILE: requires GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE (mTLS needs a server certificate)",
    );
  }

  const contradictions: Contradiction[] = [
    [
      "HTTP_PORT",
      "GRPC_PORT",
      v.GRPC_PORT === 0 || v.GRPC_PORT !== v.HTTP_PORT,
      `must differ from GRPC_PORT (both are ${v.GRPC_PORT})`,
    ],
    ...BOUNDS.map(([name, order, other, why]): Contradiction => {
      const [says, holds] = ORDERS[order];
      const bound = v[other];
      const message = `${says} ${other} (${bound})${why === undefined ? "" : `: ${why}`}`;
      return [name, other, bound === 0 || holds(v[name], bound), message];
    }),
    [
      "VERIFY_CALLER_TOKEN",
      "BOOTSTRAP_TOKEN",
      v.VERIFY_CALLER_TOKEN === null || v.VERIFY_CALLER_TOKEN !== v.BOOTSTRAP_TOKEN,
      "must differ from BOOTSTRAP_TOKEN: every VerifyKey caller would hold the token that creates super users",
    ],
  ];
  // A rule is only checked between variables that parsed: a malformed one is reported once, as such.
  const malformed = new Set(problems.map((problem) => problem.slice(0, problem.indexOf(":"))));
  for (const [name, other, holds, message] of contradictions) {
    if (!holds && !malformed.has(name) && !malformed.has(other)) {
      problems.push(`${name}: ${message}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return deepFreeze(configOf(v, runtime));
}

/** configOf shapes the parsed variables (all valid) into the settings components read. */
function configOf(v: ConfigValues, runtime: RuntimeFacts) {
  const { GRPC_TLS_CERT_FILE: certFile, GRPC_TLS_KEY_FILE: keyFile } = v;
  const { HTTP_TLS_CERT_FILE: httpCertFile, HTTP_TLS_KEY_FILE: httpKeyFile } = v;
  // As the OTel SDKs do: an explicit otlp exporter without an endpoint sends to the local collector's
  // default; without OTEL_TRACES_EXPORTER only an endpoint turns tracing on (off by default, unlike the SDKs).
  const otlpEndpoint =
    v.OTEL_EXPORTER_OTLP_ENDPOINT ?? (v.OTEL_TRACES_EXPORTER === "otlp" ? OTLP_DEFAULT_ENDPOINT : null);
  const tracesUrl =
    v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (otlpEndpoint === null ? null : `${otlpEndpoint.replace(/\/+$/, "")}/v1/traces`);
  const defaultReplicaId = `${runtime.hostname}-${runtime.pid}`
    .replace(/[^A-Za-z0-9._:-]/g, "-")
    .slice(0, 128);
  return {
    nodeEnv: v.NODE_ENV,
    grpc: {
      host: v.GRPC_HOST,
      port: v.GRPC_PORT,
      tls:
        certFile !== null && keyFile !== null
          ? { certFile, keyFile, clientCaFile: v.GRPC_TLS_CLIENT_CA_FILE }
          : null,
    },
    http: {
      host: v.HTTP_HOST,
      port: v.HTTP_PORT,
      tls:
        httpCertFile !== null && httpKeyFile !== null
          ? { certFile: httpCertFile, keyFile: httpKeyFile }
          : null,
    },
    mongo: {
      /** uri is secret (may hold credentials); null means "provision a local database". */
      uri: v.MONGODB_URI,
      dbName: v.MONGODB_DB,
      serverSelectionTimeoutMs: v.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
      connectTimeoutMs: v.MONGODB_CONNECT_TIMEOUT_MS,
      socketTimeoutMs: v.MONGODB_SOCKET_TIMEOUT_MS,
      localDataDir: v.LOCAL_MONGO_DATA_DIR,
    },
    logLevel: v.LOG_LEVEL,
    keys: {
      prefix: v.KEY_PREFIX,
      pepper: { version: v.KEY_HASH_PEPPER_VERSION, pepper: v.KEY_HASH_PEPPER ?? DEV_PEPPER },
      previousPeppers: v.KEY_HASH_PREVIOUS_PEPPERS,
      /** usingDevPepper is true when the built-in development pepper is in use (main logs a warning). */
      usingDevPepper: v.KEY_HASH_PEPPER === null,
      defaultTenantKeyLimit: v.DEFAULT_TENANT_KEY_LIMIT,
      expiringSoonWindowMs: v.EXPIRING_SOON_WINDOW_MS,
    },
    bootstrapToken: v.BOOTSTRAP_TOKEN,
    verifyCallerToken: v.VERIFY_CALLER_TOKEN,
    limits: {
      maxMessageBytes: v.MAX_MESSAGE_BYTES,
      maxDeadlineMs: v.MAX_DEADLINE_MS,
      defaultDeadlineMs: v.DEFAULT_DEADLINE_MS,
    },
    shutdownDrainMs: v.SHUTDOWN_DRAIN_MS,
    cache: {
      keyMaxEntries: v.KEY_CACHE_MAX_ENTRIES,
      keyMaxBytes: v.KEY_CACHE_MAX_BYTES,
      negativeMaxEntries: v.NEGATIVE_CACHE_MAX_ENTRIES,
      negativeTtlMs: v.NEGATIVE_CACHE_TTL_MS,
      maxStaleMs: v.CACHE_MAX_STALE_MS,
      lookupTimeoutMs: v.KEY_LOOKUP_TIMEOUT_MS,
      maxConcurrentLookups: v.KEY_LOOKUP_MAX_CONCURRENT,
      invalidationPollMs: v.INVALIDATION_POLL_MS,
    },
    usage: {
      flushIntervalMs: v.USAGE_FLUSH_INTERVAL_MS,
      lastUsedWriteIntervalMs: v.LAST_USED_WRITE_INTERVAL_MS,
      refusedPerSecond: v.AUDIT_REFUSED_USAGE_PER_SECOND,
    },
    usageStats: {
      flushIntervalMs: v.USAGE_STATS_FLUSH_INTERVAL_MS,
      hourRetentionDays: v.USAGE_STATS_HOUR_RETENTION_DAYS,
      dayRetentionDays: v.USAGE_STATS_DAY_RETENTION_DAYS,
    },
    keyCountRepairIntervalMs: v.KEY_COUNT_REPAIR_INTERVAL_MS,
    audit: {
      bufferMaxEvents: v.AUDIT_BUFFER_MAX_EVENTS,
      batchMaxEvents: v.AUDIT_BATCH_MAX_EVENTS,
      adminPendingMax: v.AUDIT_ADMIN_PENDING_MAX,
      retentionDays: v.AUDIT_RETENTION_DAYS,
      heartbeatMs: v.AUDIT_HEARTBEAT_MS,
      streamBufferEvents: v.AUDIT_STREAM_BUFFER_EVENTS,
      streamsMax: v.AUDIT_STREAMS_MAX,
      /** streamsPerCallerMax bounds the open audit streams of one authenticated key. */
      streamsPerCallerMax: v.AUDIT_STREAMS_PER_CALLER_MAX,
    },
    replicaId: v.REPLICA_ID ?? defaultReplicaId,
    /** tracing is null unless the OTEL_* variables turn it on; spans are posted to tracesUrl. */
    tracing:
      v.OTEL_TRACES_EXPORTER !== "none" && tracesUrl !== null
        ? { tracesUrl, serviceName: v.OTEL_SERVICE_NAME, scheduleDelayMs: v.OTEL_BSP_SCHEDULE_DELAY }
        : null,
  };
}
