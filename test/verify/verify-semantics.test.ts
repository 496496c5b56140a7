/**
 * VerifyKey semantics on the real key store: every verdict code and HTTP status, every credential form,
 * expiry at its exact boundary (manual clock), IP allowlists, permissions through keys and groups, request
 * validation, rotation, usage recording, and the database commands a call costs (driver command monitoring).
 */
import { crc32 } from "node:zlib";
import { type CommandStartedEvent, MongoClient } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { VerificationCode } from "../../src/domain/audit-event.js";
import { encodeBase62Fixed } from "../../src/domain/base62.js";
import type { VerifyCredential } from "../../src/domain/credential.js";
import type { DomainError } from "../../src/domain/errors.js";
import type { KeyVerification, VerifyKeyInput } from "../../src/domain/key-verifier.js";
import {
  createGroup,
  cryptoRandom,
  deleteKey,
  type IssuedKey,
  issueKey,
  revokeKey,
  rotateKey,
  setGroupPermissions,
  testFormat,
} from "../helpers/key-fixtures.js";
import { mongoUri, useTestDatabase } from "../helpers/mongo.js";
import { startReplica, type TestReplica } from "./helpers/verify-setup.js";

const { dbName } = useTestDatabase("verifysem");

// A client with command monitoring: every command the replica sends is counted.
const monitored = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
const commands: CommandStartedEvent[] = [];
monitored.on("commandStarted", (event) => {
  commands.push(event);
});

/** keyStoreCommands counts commands other than the invalidation follower's polls of the change feed. */
function keyStoreCommands(): number {
  return commands.filter((event) => event.command.find !== "key_changes").length;
}

const T0 = new Date("2031-03-01T10:00:00.000Z");
let replica: TestReplica;

function input(
  credential: VerifyCredential,
  changes: Partial<Omit<VerifyKeyInput, "credential">> = {},
): VerifyKeyInput {
  return { credential, clientIp: "", endpoint: "GET /api/orders", requiredPermissions: [], ...changes };
}
const raw = (key: string): VerifyCredential => ({ kind: "key", key });

async function verify(
  credential: VerifyCredential,
  changes: Partial<Omit<VerifyKeyInput, "credential">> = {},
): Promise<KeyVerification> {
  return replica.runtime.verifier.verify(input(credential, changes));
}

/** wellFormedUnknown makes a key with a valid checksum whose id does not exist. */
function wellFormedUnknown(): string {
  return testFormat.generate(cryptoRandom).key;
}

/** withBadChecksum changes the last checksum character of a key. */
function withBadChecksum(key: string): string {
  const last = key.at(-1) === "0" ? "1" : "0";
  return key.slice(0, -1) + last;
}

let active: IssuedKey;
let revoked: IssuedKey;
let expired: IssuedKey;
let deleted: IssuedKey;
let restricted: IssuedKey;
let grouped: IssuedKey;
let groupId: string;

beforeAll(async () => {
  replica = await startReplica(monitored, dbName, { lastUsedWriteIntervalMs: 3_600_000 }, {});
  replica.clock.set(T0);
  const { keys, groups } = replica.stores;
  active = await issueKey(keys, { permissions: ["orders:read"], userId: "user-1", name: "checkout" });
  revoked = await issueKey(keys);
  await revokeKey(keys, revoked.keyId);
  expired = await issueKey(keys, { expiresAt: new Date(T0.getTime() - 1) });
  deleted = await issueKey(keys);
  await deleteKey(keys, deleted.keyId);
  restricted = await issueKey(keys, { ipAllowlist: ["10.0.0.0/8"] });
  const group = await createGroup(groups, { permissions: ["orders:write"] });
  groupId = group.id;
  grouped = await issueKey(keys, { groupId, permissions: ["orders:read"] });
});

afterAll(async () => {
  await replica.runtime.stop();
  await monitored.close();
});

beforeEach(() => {
  replica.clock.set(T0);
});

describe("VerifyKey verdicts", () => {
  type Case = [string, () => VerifyCredential, Partial<VerifyKeyInput>, VerificationCode, number];
  it.each<Case>([
    ["a good raw key", () => raw(active.key), {}, "valid", 200],
    [
      "a good key as Authorization: Bearer",
      () => ({ kind: "authorization", authorization: `Bearer ${active.key}` }),
      {},
      "valid",
      200,
    ],
    [
      "a good key as Authorization: ApiKey (scheme case-insensitive)",
      () => ({ kind: "authorization", authorization: `apikey ${active.key}` }),
      {},
      "valid",
      200,
    ],
    [
      "a good two-part access key",
      () => ({ kind: "access_key", accessKeyId: active.keyId, secretKey: active.secretKey }),
      {},
      "valid",
      200,
    ],
    ["no credential", () => ({ kind: "none" }), {}, "not_found", 401],
    ["an empty key", () => raw(""), {}, "not_found", 401],
    ["garbage", () => raw("hello world"), {}, "not_found", 401],
    ["a prefix only", () => raw("ak_test_"), {}, "not_found", 401],
    ["a bad checksum", () => raw(withBadChecksum(active.key)), {}, "not_found", 401],
    ["an upper-cased prefix", () => raw(active.key.replace("ak_test_", "AK_TEST_")), {}, "not_found", 401],
    ["a key with a trailing newline", () => raw(`${active.key}\n`), {}, "not_found", 401],
    ["a header pasted whole as a raw key", () => raw(`Bearer ${active.key}`), {}, "not_found", 401],
    [
      "Bearer with two spaces",
      () => ({ kind: "authorization", authorization: `Bearer  ${active.key}` }),
      {},
      "not_found",
      401,
    ],
    ["a well-formed unknown key", () => raw(wellFormedUnknown()), {}, "not_found", 401],
    [
      "a known key id with a wrong secret",
      () => raw(testFormat.generateSecretFor(active.keyId, cryptoRandom).key),
      {},
      "not_found",
      401,
    ],
    ["a deleted key", () => raw(deleted.key), {}, "not_found", 401],
    ["a revoked key", () => raw(revoked.key), {}, "revoked", 401],
    ["an expired key", () => raw(expired.key), {}, "expired", 401],
    [
      "a key from outside its allowlist",
      () => raw(restricted.key),
      { clientIp: "203.0.113.9" },
      "ip_not_allowed",
      403,
    ],
    [
      "a key with an allowlist and no client IP",
      () => raw(restricted.key),
      { clientIp: "" },
      "ip_not_allowed",
      403,
    ],
    [
      "an unknown key from a disallowed IP (401, not 403)",
      () => raw(wellFormedUnknown()),
      { clientIp: "203.0.113.9" },
      "not_found",
      401,
    ],
    [
      "a key lacking a required permission",
      () => raw(active.key),
      { requiredPermissions: ["orders:write"] },
      "insufficient_permissions",
      403,
    ],
    [
      "a revoked key lacking a permission (revoked wins)",
      () => raw(revoked.key),
      { requiredPermissions: ["x"] },
      "revoked",
      401,
    ],
  ])("%s → %s / %i", async (_name, credential, changes, code, httpStatus) => {
    const result = await verify(credential(), changes);
    expect(result.code).toBe(code);
    expect(result.httpStatus).toBe(httpStatus);
    expect(result.valid).toBe(code === "valid");
    if (code === "not_found") {
      expect(result.key, "a not_found verdict reveals nothing about the key").toBeNull();
      expect(result.permissions).toEqual([]);
      expect(result.secretGeneration).toBe(0);
    } else {
      expect(result.key?.keyId).toMatch(/^ak_test_/);
      expect(result.secretGeneration).toBe(1);
    }
  });

  it("fills the key details of an identified key", async () => {
    const result = await verify(raw(active.key));
    expect(result.key).toEqual({
      keyId: active.keyId,
      tenantId: "acme",
      name: "checkout",
      userId: "user-1",
      groupId: "",
      expiresAt: null,
      labels: {},
    });
    expect(result.permissions).toEqual(["orders:read"]);
    expect(result.secretSuperseded).toBe(false);
  });

  it("lists exactly the missing permissions, in request order", async () => {
    const result = await verify(raw(active.key), {
      requiredPermissions: ["orders:write", "orders:read", "admin:all"],
    });
    expect(result.code).toBe("insufficient_permissions");
    expect(result.missingPermissions).toEqual(["admin:all", "orders:write"]);
  });

  it("rejects a checksum overflow (zzzzzz) without an exception", async () => {
    const key = `${active.key.slice(0, -6)}zzzzzz`;
    expect((await verify(raw(key))).code).toBe("not_found");
  });
});

describe("expiry is evaluated on every call, at its exact boundary", () => {
  it("is valid 1 ms before expires_at and expired at expires_at, on a cached record", async () => {
    const expiresAt = new Date(T0.getTime() + 60_000);
    const key = await issueKey(replica.stores.keys, { expiresAt });
    replica.clock.set(expiresAt.getTime() - 1);
    expect((await verify(raw(key.key))).code).toBe("valid");
    const before = keyStoreCommands();
    expect((await verify(raw(key.key))).code).toBe("valid");
    replica.clock.set(expiresAt);
    const atBoundary = await verify(raw(key.key));
    expect(atBoundary.code).toBe("expired");
    expect(atBoundary.httpStatus).toBe(401);
    expect(atBoundary.key?.expiresAt).toEqual(expiresAt);
    replica.clock.set(expiresAt.getTime() + 1);
    expect((await verify(raw(key.key))).code).toBe("expired");
    expect(keyStoreCommands() - before, "the cached record was reused; only the clock moved").toBe(0);
  });
});

describe("IP allowlists", () => {
  let v4: IssuedKey;
  let host32: IssuedKey;
  let host128: IssuedKey;
  let v6: IssuedKey;
  let wide: IssuedKey;
  beforeAll(async () => {
    const { keys } = replica.stores;
    v4 = await issueKey(keys, { ipAllowlist: ["10.0.0.0/8"] });
    host32 = await issueKey(keys, { ipAllowlist: ["192.0.2.7/32"] });
    host128 = await issueKey(keys, { ipAllowlist: ["2001:db8::1/128"] });
    v6 = await issueKey(keys, { ipAllowlist: ["2001:db8::/32"] });
    // Ranges that together cover a whole family are refused like /0 ("any address"); three quarters of
    // each family is as wide as a real allowlist gets.
    wide = await issueKey(keys, { ipAllowlist: ["0.0.0.0/2", "128.0.0.0/1", "::/2", "8000::/1"] });
  });

  it.each<[string, () => IssuedKey, string, VerificationCode]>([
    ["v4 inside /8", () => v4, "10.1.2.3", "valid"],
    ["v4 outside /8", () => v4, "11.0.0.1", "ip_not_allowed"],
    ["IPv4-mapped IPv6 inside a v4 range", () => v4, "::ffff:10.1.2.3", "valid"],
    ["IPv4-mapped IPv6 outside a v4 range", () => v4, "::ffff:11.1.2.3", "ip_not_allowed"],
    ["a v6 client against a v4-only list", () => v4, "2001:db8::1", "ip_not_allowed"],
    ["no client IP against an allowlist", () => v4, "", "ip_not_allowed"],
    ["/32: the address itself", () => host32, "192.0.2.7", "valid"],
    ["/32: the next address", () => host32, "192.0.2.8", "ip_not_allowed"],
    ["/128: the address itself", () => host128, "2001:db8::1", "valid"],
    [
      "/128: the same address in long form",
      () => host128,
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      "valid",
    ],
    ["/128: the next address", () => host128, "2001:db8::2", "ip_not_allowed"],
    ["v6 /32: inside", () => v6, "2001:db8:ffff::5", "valid"],
    ["v6 /32: outside", () => v6, "2001:db9::1", "ip_not_allowed"],
    ["v6 list, mapped v4 client", () => v6, "::ffff:10.0.0.1", "ip_not_allowed"],
    ["widest v4 list: 0.0.0.0", () => wide, "0.0.0.0", "valid"],
    ["widest v4 list: 255.255.255.255", () => wide, "255.255.255.255", "valid"],
    ["widest v6 list: ffff::1", () => wide, "ffff::1", "valid"],
    ["widest list, no client IP", () => wide, "", "ip_not_allowed"],
    ["no allowlist, any address", () => active, "198.51.100.1", "valid"],
    ["no allowlist, no address", () => active, "", "valid"],
  ])("%s → %s", async (_name, key, clientIp, code) => {
    const result = await verify(raw(key().key), { clientIp });
    expect(result.code).toBe(code);
    expect(result.httpStatus).toBe(code === "valid" ? 200 : 403);
  });

  it.each([
    "999.1.1.1",
    "1.2.3.4.5",
    "127.1",
    "0x7f.0.0.1",
    "017.0.0.1",
    "4294967295",
    "fe80::1%eth0",
    "10.1.2.3:443",
    "[::1]:443",
    "[::1]",
    " 10.1.2.3",
    "10.0.0.0/8",
    "localhost",
  ])("client_ip %j is INVALID_ARGUMENT, even for an unknown key", async (clientIp) => {
    for (const key of [v4.key, wellFormedUnknown(), "garbage"]) {
      const error = await Promise.resolve()
        .then(() => verify(raw(key), { clientIp }))
        .catch((caught: unknown) => caught);
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe("client_ip");
    }
  });
});

describe("request validation", () => {
  it.each<[string, Partial<VerifyKeyInput>, string]>([
    ["an endpoint over 256 bytes", { endpoint: `GET /${"a".repeat(252)}` }, "endpoint"],
    ["a multi-byte endpoint over 256 bytes", { endpoint: "é".repeat(129) }, "endpoint"],
    ["an endpoint with CR/LF", { endpoint: "GET /x\r\nX-Injected: 1" }, "endpoint"],
    ["an endpoint with NUL", { endpoint: "GET /\u0000" }, "endpoint"],
    [
      "33 required permissions",
      { requiredPermissions: Array.from({ length: 33 }, (_, i) => `p${i}`) },
      "required_permissions",
    ],
    [
      "a required permission with bad syntax",
      { requiredPermissions: ["Orders:Read"] },
      "required_permissions[0]",
    ],
    ["an empty required permission", { requiredPermissions: [""] }, "required_permissions[0]"],
  ])(
    "%s is INVALID_ARGUMENT naming the field, records nothing and reads nothing",
    async (_name, changes, field) => {
      const events = replica.sink.events.length;
      const before = keyStoreCommands();
      const error = await Promise.resolve()
        .then(() => verify(raw(wellFormedUnknown()), changes))
        .catch((caught: unknown) => caught);
      expect(error).toHaveProperty("kind", "invalid_argument");
      expect((error as DomainError).field).toBe(field);
      expect(replica.sink.events.length).toBe(events);
      expect(keyStoreCommands()).toBe(before);
    },
  );

  it("accepts an endpoint of exactly 256 bytes and 32 required permissions", async () => {
    const required = Array.from({ length: 32 }, () => "orders:read");
    const result = await verify(raw(active.key), {
      endpoint: "é".repeat(128),
      requiredPermissions: required,
    });
    expect(result.code).toBe("valid");
  });
});

describe("permissions through the key's group", () => {
  it("grants the group's current permissions, also after the group is edited while the key is cached", async () => {
    const both = { requiredPermissions: ["orders:read", "orders:write"] };
    const first = await verify(raw(grouped.key), both);
    expect(first.code).toBe("valid");
    expect(first.permissions).toEqual(["orders:read", "orders:write"]);
    expect(first.key?.groupId).toBe(groupId);

    await setGroupPermissions(replica.stores.groups, groupId, ["orders:refund"]);
    await replica.runtime.notifier.groupChanged(groupId);

    const after = await verify(raw(grouped.key), both);
    expect(after.code).toBe("insufficient_permissions");
    expect(after.missingPermissions).toEqual(["orders:write"]);
    expect(after.permissions).toEqual(["orders:read", "orders:refund"]);
    expect((await verify(raw(grouped.key), { requiredPermissions: ["orders:refund"] })).code).toBe("valid");
  });

  it("falls back to the key's own permissions when its group is gone", async () => {
    const group = await createGroup(replica.stores.groups, { permissions: ["reports:read"] });
    const key = await issueKey(replica.stores.keys, { groupId: group.id, permissions: ["orders:read"] });
    expect((await verify(raw(key.key))).permissions).toEqual(["orders:read", "reports:read"]);
    expect(await replica.stores.groups.delete(group.id, group.version)).toBe(true);
    await replica.runtime.notifier.groupChanged(group.id);
    expect((await verify(raw(key.key))).permissions).toEqual(["orders:read"]);
  });
});

describe("rotation", () => {
  it("without overlap: the old secret fails at once, the new one verifies as generation 2", async () => {
    const key = await issueKey(replica.stores.keys);
    expect((await verify(raw(key.key))).code).toBe("valid");
    const rotated = await rotateKey(replica.stores.keys, key.keyId, null);
    await replica.runtime.notifier.keyChanged(key.keyId);
    expect((await verify(raw(key.key))).code).toBe("not_found");
    const fresh = await verify(raw(rotated.key));
    expect(fresh.code).toBe("valid");
    expect(fresh.secretGeneration).toBe(2);
    expect(fresh.secretSuperseded).toBe(false);
  });

  it("with overlap: the old secret works, marked superseded, until the overlap ends", async () => {
    const key = await issueKey(replica.stores.keys);
    const overlapEnd = new Date(T0.getTime() + 3_600_000);
    const rotated = await rotateKey(replica.stores.keys, key.keyId, overlapEnd);
    await replica.runtime.notifier.keyChanged(key.keyId);
    const old = await verify(raw(key.key));
    expect(old.code).toBe("valid");
    expect(old.secretGeneration).toBe(1);
    expect(old.secretSuperseded).toBe(true);
    replica.clock.set(overlapEnd.getTime() - 1);
    expect((await verify(raw(key.key))).code).toBe("valid");
    replica.clock.set(overlapEnd);
    expect((await verify(raw(key.key))).code).toBe("expired");
    const fresh = await verify(raw(rotated.key));
    expect(fresh.code).toBe("valid");
    expect(fresh.secretGeneration).toBe(2);
  });
});

describe("database commands", () => {
  it("garbage, bad checksums and unknown prefixes issue no database command", async () => {
    const before = keyStoreCommands();
    for (let i = 0; i < 50; i++) {
      await verify(raw(`garbage-${i}`));
      await verify(raw(withBadChecksum(active.key)));
      await verify(raw(createBadPrefixKey()));
    }
    expect(keyStoreCommands() - before).toBe(0);
  });

  it("a warm verification issues no database command", async () => {
    const keys = [active, restricted, grouped];
    for (const key of keys) {
      await verify(raw(key.key), { clientIp: "10.0.0.1" });
    }
    const before = keyStoreCommands();
    for (let i = 0; i < 100; i++) {
      for (const key of keys) {
        await verify(raw(key.key), { clientIp: "10.0.0.1" });
      }
    }
    expect(keyStoreCommands() - before).toBe(0);
  });

  it("concurrent misses for one key share one lookup", async () => {
    const key = await issueKey(replica.stores.keys);
    const before = commands.filter((event) => event.command.find === "keys").length;
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(raw(key.key))));
    expect(results.every((result) => result.code === "valid")).toBe(true);
    expect(commands.filter((event) => event.command.find === "keys").length - before).toBe(1);
  });

  it("an unknown key is looked up once, then answered from the negative cache", async () => {
    const unknown = wellFormedUnknown();
    await verify(raw(unknown));
    const before = keyStoreCommands();
    for (let i = 0; i < 10; i++) {
      expect((await verify(raw(unknown))).code).toBe("not_found");
    }
    expect(keyStoreCommands() - before).toBe(0);
  });
});

describe("usage recording", () => {
  it("emits one usage event per verdict, with no secret in it", async () => {
    const before = replica.sink.events.length;
    await verify(raw(active.key), { clientIp: "10.9.8.7", endpoint: "POST /api/orders" });
    await verify(raw(revoked.key), { clientIp: "10.9.8.7" });
    await verify(raw("garbage"));
    const events = replica.sink.events.slice(before);
    expect(events.map((event) => event.detail)).toEqual([
      {
        kind: "usage",
        keyId: active.keyId,
        endpoint: "POST /api/orders",
        clientIp: "10.9.8.7",
        code: "valid",
        httpStatus: 200,
        replica: "test-replica",
      },
      expect.objectContaining({ keyId: revoked.keyId, code: "revoked", httpStatus: 401 }),
      expect.objectContaining({ keyId: "", code: "not_found", httpStatus: 401 }),
    ]);
    expect(events.map((event) => event.tenantId)).toEqual(["acme", "acme", ""]);
    const text = JSON.stringify(replica.sink.events);
    for (const key of [active, revoked, restricted, grouped]) {
      expect(text).not.toContain(key.secretKey);
    }
  });

  it("coalesces last-used: many valid verifications, one write, invalid ones none", async () => {
    const key = await issueKey(replica.stores.keys, { ipAllowlist: ["10.0.0.0/8"] });
    await replica.runtime.usage.flush();
    replica.clock.set(T0.getTime() + 5_000);
    for (let i = 0; i < 20; i++) {
      await verify(raw(key.key), { clientIp: "10.0.0.1" });
    }
    await verify(raw(key.key), { clientIp: "8.8.8.8" });
    const updatesBefore = commands.filter((event) => event.commandName === "update").length;
    await replica.runtime.usage.flush();
    expect(commands.filter((event) => event.commandName === "update").length - updatesBefore).toBe(1);
    const stored = await replica.stores.keys.findById(key.keyId);
    expect(stored?.lastUsedAt).toEqual(new Date(T0.getTime() + 5_000));

    // Only an ip_not_allowed use since: no write at all.
    replica.clock.set(T0.getTime() + 10_000_000);
    await verify(raw(key.key), { clientIp: "8.8.8.8" });
    await replica.runtime.usage.flush();
    expect((await replica.stores.keys.findById(key.keyId))?.lastUsedAt).toEqual(
      new Date(T0.getTime() + 5_000),
    );
  });
});

/** createBadPrefixKey builds a key of another prefix with a correct checksum for its own text. */
function createBadPrefixKey(): string {
  const body = `sk_live_${"A".repeat(16)}_${"b".repeat(32)}`;
  return body + encodeBase62Fixed(crc32(body), 6);
}
