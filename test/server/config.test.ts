import { describe, expect, it } from "vitest";
import { ConfigError, configVariables, DEV_PEPPER, loadConfig } from "../../src/server/config.js";
import { captureError } from "../helpers/capture-error.js";

const runtime = { hostname: "host-a", pid: 42 };
const pepper = "p".repeat(32);
const production = { NODE_ENV: "production", MONGODB_URI: "mongodb://db:27017", KEY_HASH_PEPPER: pepper };

function problemsOf(env: Record<string, string>): readonly string[] {
  const error = captureError(() => loadConfig(env, runtime));
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe("loadConfig", () => {
  it("applies every documented default to an empty environment", () => {
    const config = loadConfig({}, runtime);
    expect(config).toMatchObject({
      nodeEnv: "development",
      grpc: { host: "0.0.0.0", port: 50051, tls: null },
      http: { host: "0.0.0.0", port: 8080 },
      mongo: {
        uri: null,
        dbName: "apikeys",
        serverSelectionTimeoutMs: 2000,
        connectTimeoutMs: 2000,
        socketTimeoutMs: 5000,
        localDataDir: ".data/mongo",
      },
      logLevel: "info",
      keys: {
        prefix: "ak_live_",
        pepper: { version: 1, pepper: DEV_PEPPER },
        previousPeppers: [],
        usingDevPepper: true,
        defaultTenantKeyLimit: 10,
        expiringSoonWindowMs: 604_800_000,
      },
      bootstrapToken: null,
      verifyCallerToken: null,
      limits: { maxMessageBytes: 262_144, maxDeadlineMs: 30_000, defaultDeadlineMs: 10_000 },
      shutdownDrainMs: 10_000,
      cache: {
        keyMaxEntries: 100_000,
        keyMaxBytes: 67_108_864,
        negativeMaxEntries: 100_000,
        negativeTtlMs: 30_000,
        maxStaleMs: 60_000,
        lookupTimeoutMs: 200,
        maxConcurrentLookups: 32,
        invalidationPollMs: 100,
      },
      usage: { flushIntervalMs: 1000, lastUsedWriteIntervalMs: 60_000, refusedPerSecond: 1000 },
      audit: {
        bufferMaxEvents: 10_000,
        batchMaxEvents: 1000,
        adminPendingMax: 1000,
        retentionDays: 90,
        heartbeatMs: 5000,
        streamBufferEvents: 10_000,
      },
      replicaId: "host-a-42",
    });
  });

  it("every documented default is what an empty environment yields for that variable", () => {
    const config = loadConfig({}, runtime);
    const explicit = Object.fromEntries(
      configVariables
        .filter((entry) => entry.default !== null)
        .map((entry) => [entry.name, entry.default as string]),
    );
    expect(loadConfig(explicit, runtime)).toEqual(config);
  });

  it("returns a deeply frozen object", () => {
    const config = loadConfig({}, runtime);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.grpc)).toBe(true);
    expect(Object.isFrozen(config.keys.pepper)).toBe(true);
  });

  it.each([
    [
      { GRPC_PORT: "0", HTTP_PORT: "0" },
      { grpc: { port: 0 }, http: { port: 0 } },
    ],
    [
      { GRPC_HOST: "127.0.0.1", HTTP_HOST: "::1" },
      { grpc: { host: "127.0.0.1" }, http: { host: "::1" } },
    ],
    [{ HTTP_HOST: "localhost" }, { http: { host: "localhost" } }],
    [
      { KEY_LOOKUP_TIMEOUT_MS: "120", KEY_LOOKUP_MAX_CONCURRENT: "8" },
      { cache: { lookupTimeoutMs: 120, maxConcurrentLookups: 8 } },
    ],
    [
      { NODE_ENV: "test", LOG_LEVEL: "silent" },
      { nodeEnv: "test", logLevel: "silent" },
    ],
    [
      { MONGODB_URI: "mongodb+srv://user:pw@cluster.example.net/db?retryWrites=true" },
      { mongo: { uri: "mongodb+srv://user:pw@cluster.example.net/db?retryWrites=true" } },
    ],
    [
      { MONGODB_URI: "mongodb://a:27017,b:27017/?replicaSet=rs0" },
      { mongo: { uri: "mongodb://a:27017,b:27017/?replicaSet=rs0" } },
    ],
    [{ KEY_PREFIX: "sk_test_" }, { keys: { prefix: "sk_test_" } }],
    [{ KEY_PREFIX: "pk_" }, { keys: { prefix: "pk_" } }],
    [
      { KEY_HASH_PEPPER: pepper, KEY_HASH_PEPPER_VERSION: "3" },
      { keys: { pepper: { version: 3, pepper }, usingDevPepper: false } },
    ],
    [
      {
        KEY_HASH_PEPPER_VERSION: "3",
        KEY_HASH_PREVIOUS_PEPPERS: `1:${"a".repeat(32)},2:${"b:c".repeat(11)}`,
      },
      {
        keys: {
          previousPeppers: [
            { version: 1, pepper: "a".repeat(32) },
            { version: 2, pepper: "b:c".repeat(11) },
          ],
        },
      },
    ],
    [
      { BOOTSTRAP_TOKEN: "x".repeat(16), VERIFY_CALLER_TOKEN: "y".repeat(20) },
      { bootstrapToken: "x".repeat(16), verifyCallerToken: "y".repeat(20) },
    ],
    [
      { GRPC_TLS_CERT_FILE: "/c.pem", GRPC_TLS_KEY_FILE: "/k.pem" },
      { grpc: { tls: { certFile: "/c.pem", keyFile: "/k.pem", clientCaFile: null } } },
    ],
    [
      { GRPC_TLS_CERT_FILE: "/c.pem", GRPC_TLS_KEY_FILE: "/k.pem", GRPC_TLS_CLIENT_CA_FILE: "/ca.pem" },
      { grpc: { tls: { certFile: "/c.pem", keyFile: "/k.pem", clientCaFile: "/ca.pem" } } },
    ],
    [
      { MAX_DEADLINE_MS: "5000", DEFAULT_DEADLINE_MS: "5000" },
      { limits: { maxDeadlineMs: 5000, defaultDeadlineMs: 5000 } },
    ],
    [
      { HTTP_TLS_CERT_FILE: "/c.pem", HTTP_TLS_KEY_FILE: "/k.pem" },
      { http: { tls: { certFile: "/c.pem", keyFile: "/k.pem" } } },
    ],
    [{ REPLICA_ID: "pod-7" }, { replicaId: "pod-7" }],
    [{ GRPC_PORT: "" }, { grpc: { port: 50051 } }],
    [production, { nodeEnv: "production", keys: { usingDevPepper: false } }],
  ])("accepts %j", (env, expected) => {
    expect(loadConfig(env, runtime)).toMatchObject(expected);
  });

  it.each([
    [{ GRPC_PORT: "abc" }, 'GRPC_PORT: must be an integer between 0 and 65535 (got "abc")'],
    [{ GRPC_PORT: "65536" }, "GRPC_PORT: must be an integer between 0 and 65535"],
    [{ HTTP_PORT: "-1" }, "HTTP_PORT: must be an integer between 0 and 65535"],
    [{ HTTP_PORT: "80.5" }, "HTTP_PORT: must be an integer between 0 and 65535"],
    [{ HTTP_PORT: "1e3" }, "HTTP_PORT: must be an integer between 0 and 65535"],
    [{ GRPC_PORT: "9000", HTTP_PORT: "9000" }, "HTTP_PORT: must differ from GRPC_PORT"],
    [{ GRPC_HOST: "not a host" }, "GRPC_HOST: must be an IP address or a host name"],
    [{ NODE_ENV: "prod" }, "NODE_ENV: must be one of development, test, production"],
    [
      { NODE_ENV: "production", KEY_HASH_PEPPER: pepper },
      "MONGODB_URI: is required when NODE_ENV=production",
    ],
    [
      { MONGODB_URI: "http://db:27017" },
      "MONGODB_URI: must be a mongodb:// or mongodb+srv:// connection string",
    ],
    [{ MONGODB_DB: "bad/name" }, "MONGODB_DB: must be a MongoDB database name"],
    [
      { MONGODB_SERVER_SELECTION_TIMEOUT_MS: "0" },
      "MONGODB_SERVER_SELECTION_TIMEOUT_MS: must be an integer between 1",
    ],
    [{ MONGODB_CONNECT_TIMEOUT_MS: "x" }, "MONGODB_CONNECT_TIMEOUT_MS: must be an integer"],
    [{ MONGODB_SOCKET_TIMEOUT_MS: "0" }, "MONGODB_SOCKET_TIMEOUT_MS: must be an integer"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent"],
    [{ KEY_PREFIX: "AK_" }, "KEY_PREFIX: must match"],
    [{ KEY_PREFIX: "ak_live" }, "KEY_PREFIX: must match"],
    [{ KEY_PREFIX: "ak_live_x_" }, "KEY_PREFIX: must match"],
    [{ KEY_PREFIX: "abcdefghijklmnopq_" }, "KEY_PREFIX: must match"],
    [
      { NODE_ENV: "production", MONGODB_URI: "mongodb://db" },
      "KEY_HASH_PEPPER: is required when NODE_ENV=production",
    ],
    [{ KEY_HASH_PEPPER: "short" }, "KEY_HASH_PEPPER: must be at least 32 bytes"],
    [
      { ...production, KEY_HASH_PEPPER: DEV_PEPPER },
      "KEY_HASH_PEPPER: must not be the built-in development pepper",
    ],
    [{ KEY_HASH_PEPPER_VERSION: "0" }, "KEY_HASH_PEPPER_VERSION: must be an integer between 1"],
    [{ KEY_HASH_PREVIOUS_PEPPERS: "1" }, "KEY_HASH_PREVIOUS_PEPPERS: entry 1 must be version:pepper"],
    [
      { KEY_HASH_PREVIOUS_PEPPERS: `2:${"a".repeat(31)}` },
      "KEY_HASH_PREVIOUS_PEPPERS: entry 1 must be version:pepper",
    ],
    [
      { KEY_HASH_PREVIOUS_PEPPERS: `x:${"a".repeat(32)}` },
      "KEY_HASH_PREVIOUS_PEPPERS: entry 1 must be version:pepper",
    ],
    [
      { KEY_HASH_PREVIOUS_PEPPERS: `1:${"a".repeat(32)}` },
      "KEY_HASH_PREVIOUS_PEPPERS: entry 1 repeats pepper version 1",
    ],
    [
      { KEY_HASH_PREVIOUS_PEPPERS: `2:${"a".repeat(32)},2:${"b".repeat(32)}` },
      "KEY_HASH_PREVIOUS_PEPPERS: entry 2 repeats pepper version 2",
    ],
    [{ DEFAULT_TENANT_KEY_LIMIT: "0" }, "DEFAULT_TENANT_KEY_LIMIT: must be an integer"],
    [{ EXPIRING_SOON_WINDOW_MS: "-5" }, "EXPIRING_SOON_WINDOW_MS: must be an integer"],
    [{ BOOTSTRAP_TOKEN: "short" }, "BOOTSTRAP_TOKEN: must be at least 16 characters"],
    [{ VERIFY_CALLER_TOKEN: "short" }, "VERIFY_CALLER_TOKEN: must be at least 16 characters"],
    [
      { GRPC_TLS_CERT_FILE: "/c.pem" },
      "GRPC_TLS_KEY_FILE: GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together",
    ],
    [
      { GRPC_TLS_KEY_FILE: "/k.pem" },
      "GRPC_TLS_CERT_FILE: GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together",
    ],
    [
      { GRPC_TLS_CLIENT_CA_FILE: "/ca.pem" },
      "GRPC_TLS_CLIENT_CA_FILE: requires GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE",
    ],
    [
      { HTTP_TLS_CERT_FILE: "/c.pem" },
      "HTTP_TLS_KEY_FILE: HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE must be set together",
    ],
    [
      { HTTP_TLS_KEY_FILE: "/k.pem" },
      "HTTP_TLS_CERT_FILE: HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE must be set together",
    ],
    [{ OTEL_TRACES_EXPORTER: "zipkin" }, 'OTEL_TRACES_EXPORTER: must be one of otlp, none (got "zipkin")'],
    [{ OTEL_TRACES_EXPORTER: "otlp,console" }, "OTEL_TRACES_EXPORTER: must be one of otlp, none"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" },
      "OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL",
    ],
    [{ OTEL_BSP_SCHEDULE_DELAY: "0" }, "OTEL_BSP_SCHEDULE_DELAY: must be an integer between 1"],
    [{ MAX_MESSAGE_BYTES: "10" }, "MAX_MESSAGE_BYTES: must be an integer between 1024"],
    [{ MAX_DEADLINE_MS: "0" }, "MAX_DEADLINE_MS: must be an integer between 1"],
    [{ DEFAULT_DEADLINE_MS: "40000" }, "DEFAULT_DEADLINE_MS: must not exceed MAX_DEADLINE_MS (30000)"],
    [{ SHUTDOWN_DRAIN_MS: "soon" }, "SHUTDOWN_DRAIN_MS: must be an integer"],
    [{ KEY_CACHE_MAX_ENTRIES: "0" }, "KEY_CACHE_MAX_ENTRIES: must be an integer"],
    [{ KEY_CACHE_MAX_BYTES: "100" }, "KEY_CACHE_MAX_BYTES: must be an integer"],
    [{ NEGATIVE_CACHE_MAX_ENTRIES: "many" }, "NEGATIVE_CACHE_MAX_ENTRIES: must be an integer"],
    [{ NEGATIVE_CACHE_TTL_MS: "0" }, "NEGATIVE_CACHE_TTL_MS: must be an integer"],
    [{ CACHE_MAX_STALE_MS: "-1" }, "CACHE_MAX_STALE_MS: must be an integer"],
    [{ KEY_LOOKUP_TIMEOUT_MS: "5" }, "KEY_LOOKUP_TIMEOUT_MS: must be an integer"],
    [{ KEY_LOOKUP_MAX_CONCURRENT: "0" }, "KEY_LOOKUP_MAX_CONCURRENT: must be an integer"],
    [{ INVALIDATION_POLL_MS: "1" }, "INVALIDATION_POLL_MS: must be an integer between 10"],
    [{ USAGE_FLUSH_INTERVAL_MS: "1" }, "USAGE_FLUSH_INTERVAL_MS: must be an integer between 10"],
    [{ LAST_USED_WRITE_INTERVAL_MS: "x" }, "LAST_USED_WRITE_INTERVAL_MS: must be an integer"],
    [{ AUDIT_BUFFER_MAX_EVENTS: "0" }, "AUDIT_BUFFER_MAX_EVENTS: must be an integer"],
    [
      { AUDIT_BUFFER_MAX_EVENTS: "500", AUDIT_BATCH_MAX_EVENTS: "1000" },
      "AUDIT_BATCH_MAX_EVENTS: must not exceed AUDIT_BUFFER_MAX_EVENTS (500)",
    ],
    [{ AUDIT_RETENTION_DAYS: "0" }, "AUDIT_RETENTION_DAYS: must be an integer"],
    [{ AUDIT_HEARTBEAT_MS: "10" }, "AUDIT_HEARTBEAT_MS: must be an integer between 100"],
    [{ AUDIT_STREAM_BUFFER_EVENTS: "0" }, "AUDIT_STREAM_BUFFER_EVENTS: must be an integer"],
    [
      { AUDIT_STREAM_BUFFER_EVENTS: "999" },
      "AUDIT_STREAM_BUFFER_EVENTS: must be at least AUDIT_BATCH_MAX_EVENTS (1000)",
    ],
    [{ NEGATIVE_CACHE_TTL_MS: "60001" }, "NEGATIVE_CACHE_TTL_MS: must not exceed CACHE_MAX_STALE_MS (60000)"],
    [{ INVALIDATION_POLL_MS: "60000" }, "INVALIDATION_POLL_MS: must be less than CACHE_MAX_STALE_MS (60000)"],
    [{ DEFAULT_DEADLINE_MS: "200" }, "KEY_LOOKUP_TIMEOUT_MS: must be less than DEFAULT_DEADLINE_MS (200)"],
    [
      { BOOTSTRAP_TOKEN: "one-shared-token-value", VERIFY_CALLER_TOKEN: "one-shared-token-value" },
      "VERIFY_CALLER_TOKEN: must differ from BOOTSTRAP_TOKEN",
    ],
    [{ REPLICA_ID: "has space" }, "REPLICA_ID: must be 1-128 characters"],
  ])("rejects %j naming the variable", (env, expected) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  describe("tracing, from the standard OTEL_* variables", () => {
    const defaults = { serviceName: "apikeys", scheduleDelayMs: 5000 };

    it.each([
      [{}, null],
      [{ OTEL_TRACES_EXPORTER: "none" }, null],
      [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, null],
      [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }, null],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" },
        { ...defaults, tracesUrl: "http://collector:4318/v1/traces" },
      ],
      [
        { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example/otlp/" },
        { ...defaults, tracesUrl: "https://collector.example/otlp/v1/traces" },
      ],
      [{ OTEL_TRACES_EXPORTER: "otlp" }, { ...defaults, tracesUrl: "http://localhost:4318/v1/traces" }],
      [
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/spans",
        },
        { ...defaults, tracesUrl: "http://traces:9999/spans" },
      ],
      [
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_SERVICE_NAME: "apikeys-eu",
          OTEL_BSP_SCHEDULE_DELAY: "250",
        },
        { tracesUrl: "http://collector:4318/v1/traces", serviceName: "apikeys-eu", scheduleDelayMs: 250 },
      ],
      [{ OTEL_SERVICE_NAME: "apikeys-eu", OTEL_BSP_SCHEDULE_DELAY: "250" }, null],
    ])("%j traces to %j", (env, tracing) => {
      expect(loadConfig(env, runtime).tracing).toEqual(tracing);
    });
  });

  it("cross-checks after parsing: each contradiction is one line naming both variables", () => {
    const contradictions: Array<[string, string]> = [
      ["HTTP_PORT", "GRPC_PORT"],
      ["DEFAULT_DEADLINE_MS", "MAX_DEADLINE_MS"],
      ["NEGATIVE_CACHE_TTL_MS", "CACHE_MAX_STALE_MS"],
      ["AUDIT_BATCH_MAX_EVENTS", "AUDIT_BUFFER_MAX_EVENTS"],
      ["AUDIT_STREAM_BUFFER_EVENTS", "AUDIT_BATCH_MAX_EVENTS"],
      ["VERIFY_CALLER_TOKEN", "BOOTSTRAP_TOKEN"],
    ];
    const problems = problemsOf({
      GRPC_PORT: "9000",
      HTTP_PORT: "9000",
      MAX_DEADLINE_MS: "1000",
      DEFAULT_DEADLINE_MS: "2000",
      NEGATIVE_CACHE_TTL_MS: "120000",
      AUDIT_BUFFER_MAX_EVENTS: "500",
      AUDIT_BATCH_MAX_EVENTS: "800",
      AUDIT_STREAM_BUFFER_EVENTS: "100",
      BOOTSTRAP_TOKEN: "one-shared-token-value",
      VERIFY_CALLER_TOKEN: "one-shared-token-value",
    });
    expect(problems).toHaveLength(contradictions.length);
    for (const [name, other] of contradictions) {
      const line = problems.find((problem) => problem.startsWith(`${name}: `));
      expect(line, name).toContain(other);
      expect(line).not.toContain("\n");
    }
    expect(problems.join(" ")).not.toContain("one-shared-token-value");
  });

  it("skips a cross-check whose variable failed its own check, and accepts settings on the boundary", () => {
    expect(problemsOf({ AUDIT_BATCH_MAX_EVENTS: "lots", AUDIT_STREAM_BUFFER_EVENTS: "5" })).toEqual([
      expect.stringMatching(/^AUDIT_BATCH_MAX_EVENTS: must be an integer/),
    ]);
    expect(
      loadConfig(
        { AUDIT_STREAM_BUFFER_EVENTS: "1000", NEGATIVE_CACHE_TTL_MS: "60000", CACHE_MAX_STALE_MS: "60000" },
        runtime,
      ).audit.streamBufferEvents,
    ).toBe(1000);
    expect(loadConfig({ CACHE_MAX_STALE_MS: "0" }, runtime).cache.maxStaleMs).toBe(0);
  });

  it("collects every problem into one single-line error", () => {
    const error = captureError(() =>
      loadConfig({ GRPC_PORT: "abc", LOG_LEVEL: "loud", KEY_PREFIX: "X" }, runtime),
    );
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^invalid configuration: /);
    expect((error as ConfigError).problems.map((problem) => problem.split(":")[0])).toEqual([
      "GRPC_PORT",
      "LOG_LEVEL",
      "KEY_PREFIX",
    ]);
  });

  it.each([
    ["KEY_HASH_PEPPER", "tiny-secret-value"],
    ["KEY_HASH_PREVIOUS_PEPPERS", "1:tiny-secret-value"],
    ["BOOTSTRAP_TOKEN", "tiny-secret"],
    ["VERIFY_CALLER_TOKEN", "tiny-secret"],
    ["MONGODB_URI", "postgres://user:tiny-secret-value@db"],
  ])("never echoes the value of the secret %s", (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(problems.join(" ")).not.toContain("tiny-secret");
  });

  it("documents each variable once, with a meaning", () => {
    const names = configVariables.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of configVariables) {
      expect(entry.meaning.length, entry.name).toBeGreaterThan(10);
    }
  });
});
