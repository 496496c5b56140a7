/**
 * Configuration from environment variables: one table of every variable (name, default, meaning), and a
 * pure loadConfig(env) that validates all of them, collects every problem, and either returns a frozen typed
 * Config or throws one ConfigError listing each problem as `NAME: what is wrong`. Nothing else in src reads
 * process.env; main passes it in.
 */
import { isIP } from "node:net";
import { hostname } from "node:os";

/** ConfigVariable documents one environment variable (the README's configuration table mirrors these). */
export interface ConfigVariable {
  readonly name: string;
  /** default is the value used when the variable is unset or empty; null when there is none. */
  readonly default: string | null;
  readonly meaning: string;
  /** secret variables are never echoed in error messages or logs. */
  readonly secret: boolean;
}

const variable = (
  name: string,
  defaultValue: string | null,
  meaning: string,
  secret = false,
): ConfigVariable => Object.freeze({ name, default: defaultValue, meaning, secret });

/** configVariables lists every variable loadConfig reads, in the README's order. */
export const configVariables: readonly ConfigVariable[] = Object.freeze([
  variable(
    "NODE_ENV",
    "development",
    "development, test or production; production never provisions a local database",
  ),
  variable(
    "GRPC_HOST",
    "0.0.0.0",
    "address the gRPC port (grpc-js: VerifyKey fast path, reflection) binds to",
  ),
  variable("GRPC_PORT", "50051", "gRPC port; 0 picks a free port (the log says which)"),
  variable(
    "HTTP_HOST",
    "0.0.0.0",
    "address the HTTP port (Connect, gRPC-Web, gRPC over h2c, /healthz, /readyz, /metrics) binds to",
  ),
  variable("HTTP_PORT", "8080", "HTTP port (HTTP/1.1 and h2c on the same port); 0 picks a free port"),
  variable(
    "MONGODB_URI",
    null,
    "MongoDB connection string; required in production; unset elsewhere provisions a local database",
    true,
  ),
  variable("MONGODB_DB", "apikeys", "database name"),
  variable(
    "MONGODB_SERVER_SELECTION_TIMEOUT_MS",
    "2000",
    "how long the driver looks for a usable server before failing an operation",
  ),
  variable("MONGODB_CONNECT_TIMEOUT_MS", "2000", "TCP connect timeout to MongoDB"),
  variable(
    "MONGODB_SOCKET_TIMEOUT_MS",
    "5000",
    "how long a MongoDB socket may stay silent during an operation",
  ),
  variable(
    "LOCAL_MONGO_DATA_DIR",
    ".data/mongo",
    "data directory of a provisioned local mongod (the in-memory server keeps nothing)",
  ),
  variable("LOG_LEVEL", "info", "pino level: fatal, error, warn, info, debug, trace or silent"),
  variable(
    "KEY_PREFIX",
    "ak_live_",
    "prefix of issued keys, like ak_live_ or sk_test_ (lowercase, ends with _)",
  ),
  variable(
    "KEY_HASH_PEPPER",
    null,
    "server-side secret (at least 32 bytes) keyed into key hashes; required in production, a built-in one is used in development",
    true,
  ),
  variable("KEY_HASH_PEPPER_VERSION", "1", "version number of KEY_HASH_PEPPER, stored with each hash"),
  variable(
    "KEY_HASH_PREVIOUS_PEPPERS",
    null,
    "older peppers still accepted during a rotation, as version:pepper,version:pepper",
    true,
  ),
  variable(
    "DEFAULT_TENANT_KEY_LIMIT",
    "10",
    "most active keys a tenant may hold unless its settings say otherwise",
  ),
  variable(
    "EXPIRING_SOON_WINDOW_MS",
    "604800000",
    "a key expiring within this window is listed as expiring soon (default 7 days)",
  ),
  variable(
    "BOOTSTRAP_TOKEN",
    null,
    "one-time token (at least 16 characters) that lets Bootstrap create the first admin key",
    true,
  ),
  variable(
    "VERIFY_CALLER_TOKEN",
    null,
    "when set (at least 16 characters), VerifyKey callers must send it in x-apikeys-caller-token",
    true,
  ),
  variable(
    "GRPC_TLS_CERT_FILE",
    null,
    "PEM certificate chain for TLS on the gRPC port (with GRPC_TLS_KEY_FILE)",
  ),
  variable("GRPC_TLS_KEY_FILE", null, "PEM private key for TLS on the gRPC port (with GRPC_TLS_CERT_FILE)"),
  variable(
    "GRPC_TLS_CLIENT_CA_FILE",
    null,
    "PEM CA bundle; when set, gRPC clients must present a certificate it signed (mTLS)",
  ),
  variable("MAX_MESSAGE_BYTES", "262144", "largest request or response message accepted on either port"),
  variable(
    "MAX_DEADLINE_MS",
    "30000",
    "largest deadline a caller may request; a larger one is rejected with INVALID_ARGUMENT",
  ),
  variable("DEFAULT_DEADLINE_MS", "10000", "deadline applied to unary calls that arrive without one"),
  variable(
    "SHUTDOWN_DRAIN_MS",
    "10000",
    "how long shutdown waits for in-flight calls before forcing them closed",
  ),
  variable("KEY_CACHE_MAX_ENTRIES", "100000", "most key records kept in the verify cache"),
  variable("KEY_CACHE_MAX_BYTES", "67108864", "approximate memory bound of the verify cache"),
  variable("NEGATIVE_CACHE_MAX_ENTRIES", "100000", "most unknown-key lookups remembered"),
  variable("NEGATIVE_CACHE_TTL_MS", "30000", "how long an unknown-key lookup is remembered"),
  variable(
    "CACHE_MAX_STALE_MS",
    "60000",
    "how long cached keys keep verifying while MongoDB cannot be reached",
  ),
  variable(
    "KEY_LOOKUP_TIMEOUT_MS",
    "200",
    "time budget of one cache-miss lookup, waiting for a slot included; past it VerifyKey answers UNAVAILABLE",
  ),
  variable(
    "KEY_LOOKUP_MAX_CONCURRENT",
    "32",
    "most cache-miss lookups in flight per replica; more wait (up to 1000) within the budget, then UNAVAILABLE",
  ),
  variable("INVALIDATION_POLL_MS", "100", "how often each replica polls the invalidation feed"),
  variable("USAGE_FLUSH_INTERVAL_MS", "1000", "how often buffered usage events are written"),
  variable("LAST_USED_WRITE_INTERVAL_MS", "60000", "at most one last-used write per key per interval"),
  variable(
    "AUDIT_BUFFER_MAX_EVENTS",
    "10000",
    "most audit events buffered in memory before new ones are dropped (and counted); about 10 s of events at 1k/s",
  ),
  variable("AUDIT_BATCH_MAX_EVENTS", "1000", "most audit events written in one batch"),
  variable("AUDIT_RETENTION_DAYS", "90", "how long audit events are kept"),
  variable("AUDIT_HEARTBEAT_MS", "5000", "interval of heartbeats on an idle audit stream"),
  variable("AUDIT_STREAM_BUFFER_EVENTS", "10000", "most events queued for one slow audit stream subscriber"),
  variable(
    "REPLICA_ID",
    null,
    "name of this replica in logs and the invalidation feed (default hostname-pid)",
  ),
]);

/** NodeEnv is the deployment mode. */
export type NodeEnv = "development" | "test" | "production";

/** LogLevel is a pino level name. */
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** PepperVersion is one hashing pepper and the version number stored with hashes made with it. */
export interface PepperVersion {
  readonly version: number;
  /** pepper is secret: never logged. */
  readonly pepper: string;
}

/** GrpcTlsConfig enables TLS (and with clientCaFile, mutual TLS) on the gRPC port. */
export interface GrpcTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** clientCaFile, when set, makes client certificates mandatory. */
  readonly clientCaFile: string | null;
}

/** Config is the validated, frozen configuration of one process. */
export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly grpc: { readonly host: string; readonly port: number; readonly tls: GrpcTlsConfig | null };
  readonly http: { readonly host: string; readonly port: number };
  readonly mongo: {
    /** uri is secret (may hold credentials); null means "provision a local database". */
    readonly uri: string | null;
    readonly dbName: string;
    readonly serverSelectionTimeoutMs: number;
    readonly connectTimeoutMs: number;
    readonly socketTimeoutMs: number;
    readonly localDataDir: string;
  };
  readonly logLevel: LogLevel;
  readonly keys: {
    readonly prefix: string;
    readonly pepper: PepperVersion;
    readonly previousPeppers: readonly PepperVersion[];
    /** usingDevPepper is true when the built-in development pepper is in use (main logs a warning). */
    readonly usingDevPepper: boolean;
    readonly defaultTenantKeyLimit: number;
    readonly expiringSoonWindowMs: number;
  };
  readonly bootstrapToken: string | null;
  readonly verifyCallerToken: string | null;
  readonly limits: {
    readonly maxMessageBytes: number;
    readonly maxDeadlineMs: number;
    readonly defaultDeadlineMs: number;
  };
  readonly shutdownDrainMs: number;
  readonly cache: {
    readonly keyMaxEntries: number;
    readonly keyMaxBytes: number;
    readonly negativeMaxEntries: number;
    readonly negativeTtlMs: number;
    readonly maxStaleMs: number;
    readonly lookupTimeoutMs: number;
    readonly maxConcurrentLookups: number;
    readonly invalidationPollMs: number;
  };
  readonly usage: { readonly flushIntervalMs: number; readonly lastUsedWriteIntervalMs: number };
  readonly audit: {
    readonly bufferMaxEvents: number;
    readonly batchMaxEvents: number;
    readonly retentionDays: number;
    readonly heartbeatMs: number;
    readonly streamBufferEvents: number;
  };
  readonly replicaId: string;
}

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

/** DEV_PEPPER is the fixed pepper used outside production when KEY_HASH_PEPPER is unset. Not a secret. */
export const DEV_PEPPER = "apikeys-development-pepper-do-not-use-in-production";

/** KEY_PREFIX_PATTERN is the shape every key prefix must have. */
export const KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}_(?:[a-z0-9]{1,15}_)?$/;

const MIN_PEPPER_BYTES = 32;
const MIN_TOKEN_CHARS = 16;
const hostnamePattern = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const replicaIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const mongoUriPattern = /^mongodb(?:\+srv)?:\/\/[^\s/]+(?:\/[^\s]*)?$/;
const dbNamePattern = /^[A-Za-z0-9_-]{1,63}$/;
const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const nodeEnvs: readonly NodeEnv[] = ["development", "test", "production"];

const defaults = new Map(configVariables.map((entry) => [entry.name, entry]));

class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** raw returns the value, or the table default when unset or empty; null when neither exists. */
  raw(name: string): string | null {
    const value = this.env[name];
    if (value !== undefined && value !== "") {
      return value;
    }
    return defaults.get(name)?.default ?? null;
  }

  isSet(name: string): boolean {
    const value = this.env[name];
    return value !== undefined && value !== "";
  }

  hasProblem(name: string): boolean {
    return this.problems.some((problem) => problem.startsWith(`${name}:`));
  }

  problem(name: string, message: string): void {
    this.problems.push(`${name}: ${message}`);
  }

  describe(name: string, value: string): string {
    return defaults.get(name)?.secret === true ? "" : ` (got ${JSON.stringify(value)})`;
  }

  int(name: string, min: number, max: number): number {
    const value = this.raw(name) ?? "";
    const parsed = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `must be an integer between ${min} and ${max}${this.describe(name, value)}`);
      return min;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.raw(name) ?? "";
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `must be one of ${allowed.join(", ")}${this.describe(name, value)}`);
      return allowed[0] as T;
    }
    return value as T;
  }

  host(name: string): string {
    const value = this.raw(name) ?? "";
    if (isIP(value) === 0 && !hostnamePattern.test(value)) {
      this.problem(name, `must be an IP address or a host name${this.describe(name, value)}`);
    }
    return value;
  }

  matching(name: string, pattern: RegExp, what: string): string {
    const value = this.raw(name) ?? "";
    if (!pattern.test(value)) {
      this.problem(name, `${what}${this.describe(name, value)}`);
    }
    return value;
  }

  optionalToken(name: string): string | null {
    const value = this.raw(name);
    if (value !== null && value.length < MIN_TOKEN_CHARS) {
      this.problem(name, `must be at least ${MIN_TOKEN_CHARS} characters when set`);
    }
    return value;
  }
}

function parsePreviousPeppers(reader: EnvReader, current: number): PepperVersion[] {
  const name = "KEY_HASH_PREVIOUS_PEPPERS";
  const value = reader.raw(name);
  if (value === null) {
    return [];
  }
  const peppers: PepperVersion[] = [];
  const entries = value.split(",");
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(":");
    const versionText = separator > 0 ? entry.slice(0, separator).trim() : "";
    const pepper = separator > 0 ? entry.slice(separator + 1) : "";
    const version = /^\d{1,7}$/.test(versionText) ? Number(versionText) : Number.NaN;
    if (
      !Number.isSafeInteger(version) ||
      version < 1 ||
      Buffer.byteLength(pepper, "utf8") < MIN_PEPPER_BYTES
    ) {
      reader.problem(
        name,
        `entry ${index + 1} must be version:pepper with a positive integer version and a pepper of at least ${MIN_PEPPER_BYTES} bytes`,
      );
      return;
    }
    if (version === current || peppers.some((known) => known.version === version)) {
      reader.problem(name, `entry ${index + 1} repeats pepper version ${version}`);
      return;
    }
    peppers.push(Object.freeze({ version, pepper }));
  });
  return peppers;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) {
      deepFreeze(inner);
    }
    Object.freeze(value);
  }
  return value;
}

/**
 * Contradiction is a pair of settings each valid alone that cannot hold together: [the variable to change,
 * the variable it contradicts, whether the pair holds, what is wrong (naming the other variable)].
 */
type Contradiction = readonly [name: string, other: string, holds: boolean, message: string];

/**
 * checkContradictions is the one cross-check step, run after every variable was read: each pair that does
 * not hold is one problem line on the variable to change, naming the other. A pair with a variable that
 * failed its own check is skipped (its value means nothing).
 */
function checkContradictions(reader: EnvReader, contradictions: readonly Contradiction[]): void {
  const unread = new Set(
    contradictions.flatMap(([name, other]) => [name, other]).filter((name) => reader.hasProblem(name)),
  );
  for (const [name, other, holds, message] of contradictions) {
    if (!holds && !unread.has(name) && !unread.has(other)) {
      reader.problem(name, message);
    }
  }
}

/**
 * loadConfig validates `env` (process.env, or a test's table) and returns the frozen Config, or throws a
 * ConfigError naming every variable that is missing or malformed. Secret values are never echoed.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  runtime: RuntimeFacts = { hostname: hostname(), pid: process.pid },
): Config {
  const reader = new EnvReader(env);
  const nodeEnv = reader.oneOf("NODE_ENV", nodeEnvs);
  const production = nodeEnv === "production";

  const grpcHost = reader.host("GRPC_HOST");
  const grpcPort = reader.int("GRPC_PORT", 0, 65535);
  const httpHost = reader.host("HTTP_HOST");
  const httpPort = reader.int("HTTP_PORT", 0, 65535);

  const mongoUri = reader.raw("MONGODB_URI");
  if (mongoUri === null && production) {
    reader.problem("MONGODB_URI", "is required when NODE_ENV=production (no local database is provisioned)");
  } else if (mongoUri !== null && !mongoUriPattern.test(mongoUri)) {
    reader.problem("MONGODB_URI", "must be a mongodb:// or mongodb+srv:// connection string");
  }
  const dbName = reader.matching(
    "MONGODB_DB",
    dbNamePattern,
    "must be a MongoDB database name (1-63 characters of A-Z a-z 0-9 _ -)",
  );
  const serverSelectionTimeoutMs = reader.int("MONGODB_SERVER_SELECTION_TIMEOUT_MS", 1, 600_000);
  const connectTimeoutMs = reader.int("MONGODB_CONNECT_TIMEOUT_MS", 1, 600_000);
  const socketTimeoutMs = reader.int("MONGODB_SOCKET_TIMEOUT_MS", 1, 3_600_000);
  const localDataDir = reader.raw("LOCAL_MONGO_DATA_DIR") ?? ".data/mongo";

  const logLevel = reader.oneOf("LOG_LEVEL", logLevels);
  const prefix = reader.matching(
    "KEY_PREFIX",
    KEY_PREFIX_PATTERN,
    "must match ^[a-z][a-z0-9]{0,15}_(?:[a-z0-9]{1,15}_)?$ (for example ak_live_)",
  );

  const pepperVersion = reader.int("KEY_HASH_PEPPER_VERSION", 1, 1_000_000);
  const configuredPepper = reader.raw("KEY_HASH_PEPPER");
  let pepper = DEV_PEPPER;
  if (configuredPepper === null) {
    if (production) {
      reader.problem(
        "KEY_HASH_PEPPER",
        `is required when NODE_ENV=production (at least ${MIN_PEPPER_BYTES} bytes)`,
      );
    }
  } else if (Buffer.byteLength(configuredPepper, "utf8") < MIN_PEPPER_BYTES) {
    reader.problem("KEY_HASH_PEPPER", `must be at least ${MIN_PEPPER_BYTES} bytes`);
  } else if (production && configuredPepper === DEV_PEPPER) {
    reader.problem("KEY_HASH_PEPPER", "must not be the built-in development pepper in production");
  } else {
    pepper = configuredPepper;
  }
  const previousPeppers = parsePreviousPeppers(reader, pepperVersion);

  const defaultTenantKeyLimit = reader.int("DEFAULT_TENANT_KEY_LIMIT", 1, 1_000_000);
  const expiringSoonWindowMs = reader.int("EXPIRING_SOON_WINDOW_MS", 0, 366 * 24 * 3_600_000);
  const bootstrapToken = reader.optionalToken("BOOTSTRAP_TOKEN");
  const verifyCallerToken = reader.optionalToken("VERIFY_CALLER_TOKEN");

  const certFile = reader.raw("GRPC_TLS_CERT_FILE");
  const keyFile = reader.raw("GRPC_TLS_KEY_FILE");
  const clientCaFile = reader.raw("GRPC_TLS_CLIENT_CA_FILE");
  if ((certFile === null) !== (keyFile === null)) {
    reader.problem(
      certFile === null ? "GRPC_TLS_CERT_FILE" : "GRPC_TLS_KEY_FILE",
      "GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together",
    );
  }
  if (clientCaFile !== null && (certFile === null || keyFile === null)) {
    reader.problem(
      "GRPC_TLS_CLIENT_CA_FILE",
      "requires GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE (mTLS needs a server certificate)",
    );
  }
  const tls: GrpcTlsConfig | null =
    certFile !== null && keyFile !== null ? { certFile, keyFile, clientCaFile } : null;

  const maxMessageBytes = reader.int("MAX_MESSAGE_BYTES", 1024, 64 * 1024 * 1024);
  const maxDeadlineMs = reader.int("MAX_DEADLINE_MS", 1, 3_600_000);
  const defaultDeadlineMs = reader.int("DEFAULT_DEADLINE_MS", 1, 3_600_000);
  const shutdownDrainMs = reader.int("SHUTDOWN_DRAIN_MS", 0, 600_000);

  const cache = {
    keyMaxEntries: reader.int("KEY_CACHE_MAX_ENTRIES", 1, 100_000_000),
    keyMaxBytes: reader.int("KEY_CACHE_MAX_BYTES", 1024, 2 ** 40),
    negativeMaxEntries: reader.int("NEGATIVE_CACHE_MAX_ENTRIES", 1, 100_000_000),
    negativeTtlMs: reader.int("NEGATIVE_CACHE_TTL_MS", 1, 3_600_000),
    maxStaleMs: reader.int("CACHE_MAX_STALE_MS", 0, 3_600_000),
    lookupTimeoutMs: reader.int("KEY_LOOKUP_TIMEOUT_MS", 10, 60_000),
    maxConcurrentLookups: reader.int("KEY_LOOKUP_MAX_CONCURRENT", 1, 10_000),
    invalidationPollMs: reader.int("INVALIDATION_POLL_MS", 10, 60_000),
  };
  const usage = {
    flushIntervalMs: reader.int("USAGE_FLUSH_INTERVAL_MS", 10, 600_000),
    lastUsedWriteIntervalMs: reader.int("LAST_USED_WRITE_INTERVAL_MS", 0, 86_400_000),
  };
  const audit = {
    bufferMaxEvents: reader.int("AUDIT_BUFFER_MAX_EVENTS", 1, 100_000_000),
    batchMaxEvents: reader.int("AUDIT_BATCH_MAX_EVENTS", 1, 100_000),
    retentionDays: reader.int("AUDIT_RETENTION_DAYS", 1, 36_500),
    heartbeatMs: reader.int("AUDIT_HEARTBEAT_MS", 100, 600_000),
    streamBufferEvents: reader.int("AUDIT_STREAM_BUFFER_EVENTS", 1, 10_000_000),
  };

  const defaultReplicaId = `${runtime.hostname}-${runtime.pid}`
    .replace(/[^A-Za-z0-9._:-]/g, "-")
    .slice(0, 128);
  const replicaId = reader.isSet("REPLICA_ID")
    ? reader.matching("REPLICA_ID", replicaIdPattern, "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    : defaultReplicaId;

  checkContradictions(reader, [
    [
      "HTTP_PORT",
      "GRPC_PORT",
      grpcPort === 0 || grpcPort !== httpPort,
      `must differ from GRPC_PORT (both are ${grpcPort})`,
    ],
    [
      "DEFAULT_DEADLINE_MS",
      "MAX_DEADLINE_MS",
      defaultDeadlineMs <= maxDeadlineMs,
      `must not exceed MAX_DEADLINE_MS (${maxDeadlineMs})`,
    ],
    [
      "KEY_LOOKUP_TIMEOUT_MS",
      "DEFAULT_DEADLINE_MS",
      cache.lookupTimeoutMs < defaultDeadlineMs,
      `must be less than DEFAULT_DEADLINE_MS (${defaultDeadlineMs}): a call without a deadline would end before the lookup budget could answer UNAVAILABLE`,
    ],
    [
      "NEGATIVE_CACHE_TTL_MS",
      "CACHE_MAX_STALE_MS",
      cache.maxStaleMs === 0 || cache.negativeTtlMs <= cache.maxStaleMs,
      `must not exceed CACHE_MAX_STALE_MS (${cache.maxStaleMs}): an unknown key is never remembered longer than a known one is trusted`,
    ],
    [
      "INVALIDATION_POLL_MS",
      "CACHE_MAX_STALE_MS",
      cache.maxStaleMs === 0 || cache.invalidationPollMs < cache.maxStaleMs,
      `must be less than CACHE_MAX_STALE_MS (${cache.maxStaleMs}): otherwise cached keys go stale between two polls and every call reads the database`,
    ],
    [
      "AUDIT_BATCH_MAX_EVENTS",
      "AUDIT_BUFFER_MAX_EVENTS",
      audit.batchMaxEvents <= audit.bufferMaxEvents,
      `must not exceed AUDIT_BUFFER_MAX_EVENTS (${audit.bufferMaxEvents})`,
    ],
    [
      "AUDIT_STREAM_BUFFER_EVENTS",
      "AUDIT_BATCH_MAX_EVENTS",
      audit.streamBufferEvents >= audit.batchMaxEvents,
      `must be at least AUDIT_BATCH_MAX_EVENTS (${audit.batchMaxEvents}): events reach a stream a written batch at a time, so a smaller buffer cuts off every subscriber`,
    ],
    [
      "VERIFY_CALLER_TOKEN",
      "BOOTSTRAP_TOKEN",
      verifyCallerToken === null || verifyCallerToken !== bootstrapToken,
      "must differ from BOOTSTRAP_TOKEN: every VerifyKey caller would hold the token that creates super users",
    ],
  ]);

  if (reader.problems.length > 0) {
    throw new ConfigError(reader.problems);
  }
  return deepFreeze<Config>({
    nodeEnv,
    grpc: { host: grpcHost, port: grpcPort, tls },
    http: { host: httpHost, port: httpPort },
    mongo: {
      uri: mongoUri,
      dbName,
      serverSelectionTimeoutMs,
      connectTimeoutMs,
      socketTimeoutMs,
      localDataDir,
    },
    logLevel,
    keys: {
      prefix,
      pepper: { version: pepperVersion, pepper },
      previousPeppers,
      usingDevPepper: configuredPepper === null,
      defaultTenantKeyLimit,
      expiringSoonWindowMs,
    },
    bootstrapToken,
    verifyCallerToken,
    limits: { maxMessageBytes, maxDeadlineMs, defaultDeadlineMs },
    shutdownDrainMs,
    cache,
    usage,
    audit,
    replicaId,
  });
}
