/**
 * KeyVerifier and compileVerifiableKey as pure code, over an in-memory VerificationSource: the synchronous
 * warm path, reused verdict objects that still follow the clock and the group, several pepper versions,
 * a corrupted stored allowlist failing closed, and the remembered matches that spare a known key the HMAC.
 */
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord } from "../../src/domain/api-key.js";
import { createKeyHasher, type KeyHasher, keyFingerprint } from "../../src/domain/key-hash.js";
import {
  createKeyVerifier,
  type GroupPermissions,
  type KeyVerification,
  NOT_FOUND_VERIFICATION,
  type VerificationSource,
} from "../../src/domain/key-verifier.js";
import { compileVerifiableKey, type VerifiableKey } from "../../src/domain/verifiable-key.js";
import { buildKey, cryptoRandom, ManualClock, testFormat, testHasher } from "../helpers/key-fixtures.js";

/** memorySource serves compiled keys and groups from maps, synchronously or as promises. */
function memorySource(records: ApiKeyRecord[], asynchronous = false) {
  const keys = new Map<string, VerifiableKey>(records.map((r) => [r.id, compileVerifiableKey(r)]));
  const groups = new Map<string, GroupPermissions>();
  const source: VerificationSource = {
    key: (id) => {
      const key = keys.get(id) ?? null;
      return asynchronous ? Promise.resolve(key) : key;
    },
    group: (id) => groups.get(id) ?? { permissions: null },
  };
  return { source, keys, groups };
}

const clock = new ManualClock(new Date("2032-01-01T00:00:00Z"));
const candidate = (key: string) => ({
  credential: { kind: "key" as const, key },
  clientIp: "",
  endpoint: "",
  requiredPermissions: [] as string[],
});

describe("KeyVerifier", () => {
  it("answers synchronously from a source that holds the key, and asynchronously otherwise", async () => {
    const issued = buildKey();
    const sync = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([issued.record]).source,
    });
    const direct = sync.verify(candidate(issued.key));
    expect(direct).not.toBeInstanceOf(Promise);
    expect((direct as KeyVerification).code).toBe("valid");
    const async = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([issued.record], true).source,
    });
    const pending = async.verify(candidate(issued.key));
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).code).toBe("valid");
  });

  it("decides every call with the clock: the same key turns expired once the clock passes its expiry", () => {
    const expiresAt = new Date(clock.now().getTime() + 1000);
    const issued = buildKey({ expiresAt });
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([issued.record]).source,
    });
    const first = verifier.verify(candidate(issued.key)) as KeyVerification;
    expect(first.code).toBe("valid");
    expect(Object.isFrozen(first)).toBe(true);
    const local = new ManualClock(expiresAt);
    const later = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock: local,
      source: memorySource([issued.record]).source,
    });
    expect((later.verify(candidate(issued.key)) as KeyVerification).code).toBe("expired");
  });

  it("shares one verdict object between calls that reach the same decision, and still follows the clock", () => {
    const local = new ManualClock(new Date("2032-01-01T00:00:00Z"));
    const issued = buildKey({
      expiresAt: new Date(local.now().getTime() + 1000),
      ipAllowlist: ["10.0.0.0/8"],
    });
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock: local,
      source: memorySource([issued.record]).source,
    });
    const from = (clientIp: string) =>
      verifier.verify({ ...candidate(issued.key), clientIp }) as KeyVerification;
    const first = from("10.1.2.3");
    expect(first.code).toBe("valid");
    expect(from("10.9.9.9")).toBe(first);
    const refused = from("192.0.2.1");
    expect(refused.code).toBe("ip_not_allowed");
    expect(refused).not.toBe(first);
    expect(from("192.0.2.7")).toBe(refused);
    local.advance(1000);
    expect(from("10.1.2.3").code).toBe("expired");
    const missing = verifier.verify({
      ...candidate(issued.key),
      clientIp: "10.1.2.3",
      requiredPermissions: ["x:write"],
    }) as KeyVerification;
    expect(missing.code).toBe("expired");
    local.set(new Date("2032-01-01T00:00:00Z"));
    const insufficient = verifier.verify({
      ...candidate(issued.key),
      clientIp: "10.1.2.3",
      requiredPermissions: ["x:write"],
    }) as KeyVerification;
    expect(insufficient.code).toBe("insufficient_permissions");
    expect(insufficient.missingPermissions).toEqual(["x:write"]);
    expect(from("10.1.2.3")).toBe(first);
  });

  it("recomputes effective permissions when the source hands out a new group object", () => {
    const issued = buildKey({ groupId: "grp_AAAAAAAAAAAAAAAA", permissions: ["a:read"] });
    const memory = memorySource([issued.record]);
    memory.groups.set("grp_AAAAAAAAAAAAAAAA", { permissions: ["b:read"] });
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memory.source,
    });
    expect((verifier.verify(candidate(issued.key)) as KeyVerification).permissions).toEqual([
      "a:read",
      "b:read",
    ]);
    memory.groups.set("grp_AAAAAAAAAAAAAAAA", { permissions: ["c:write"] });
    expect((verifier.verify(candidate(issued.key)) as KeyVerification).permissions).toEqual([
      "a:read",
      "c:write",
    ]);
  });

  it("verifies secrets hashed under an older pepper, and not under an unknown one", () => {
    const old = { version: 1, secret: new Uint8Array(32).fill(1) };
    const current = { version: 2, secret: new Uint8Array(32).fill(2) };
    const issuedOld = buildKey({ hasher: createKeyHasher(old) });
    const both = createKeyHasher(current, [old]);
    const onlyCurrent = createKeyHasher(current);
    const source = memorySource([issuedOld.record]).source;
    const withBoth = createKeyVerifier({ format: testFormat, hasher: both, clock, source });
    const withCurrent = createKeyVerifier({ format: testFormat, hasher: onlyCurrent, clock, source });
    expect((withBoth.verify(candidate(issuedOld.key)) as KeyVerification).code).toBe("valid");
    expect(withCurrent.verify(candidate(issuedOld.key))).toBe(NOT_FOUND_VERIFICATION);
  });

  it("fails closed on a stored allowlist it cannot read", () => {
    const issued = buildKey();
    const corrupted: ApiKeyRecord = { ...issued.record, ipAllowlist: ["10.0.0.1/8"] };
    const compiled = compileVerifiableKey(corrupted);
    expect(compiled.allowlistCorrupted).toBe(true);
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([corrupted]).source,
    });
    const result = verifier.verify({ ...candidate(issued.key), clientIp: "10.0.0.1" }) as KeyVerification;
    expect(result.code).toBe("ip_not_allowed");
  });

  it("treats a malformed stored hash as matching nothing", () => {
    const issued = buildKey();
    const broken: ApiKeyRecord = {
      ...issued.record,
      secrets: issued.record.secrets.map((secret) => ({ ...secret, hash: "not base64url!" })),
    };
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([broken]).source,
    });
    expect(verifier.verify(candidate(issued.key))).toBe(NOT_FOUND_VERIFICATION);
  });
});

/** countingHasher is testHasher counting its HMACs. */
function countingHasher(): { hasher: KeyHasher; hmacs: () => number } {
  let hmacs = 0;
  const hasher: KeyHasher = {
    ...testHasher,
    digest: (key, pepperVersion) => {
      hmacs += 1;
      return testHasher.digest(key, pepperVersion);
    },
  };
  return { hasher, hmacs: () => hmacs };
}

describe("KeyVerifier remembered matches", () => {
  it("runs the HMAC once per cached key and presented key, and for every key that does not match", () => {
    const issued = buildKey();
    const impostor = testFormat.generateSecretFor(issued.keyId, cryptoRandom).key;
    const { hasher, hmacs } = countingHasher();
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher,
      clock,
      source: memorySource([issued.record]).source,
    });
    const codeOf = (key: string) => (verifier.verify(candidate(key)) as KeyVerification).code;
    expect([codeOf(issued.key), codeOf(issued.key), codeOf(issued.key)]).toEqual(["valid", "valid", "valid"]);
    expect(hmacs()).toBe(1);
    // A key with the same id and another secret never takes the short path, before or after a match.
    expect([codeOf(impostor), codeOf(impostor)]).toEqual(["not_found", "not_found"]);
    expect(hmacs()).toBe(3);
    expect(codeOf(issued.key)).toBe("valid");
    expect(hmacs()).toBe(3);
  });

  it.each([
    { state: "revoked", change: { revokedAt: new Date("2031-12-01T00:00:00Z") }, code: "revoked" },
    { state: "disabled", change: { disabledAt: new Date("2031-12-01T00:00:00Z") }, code: "disabled" },
    { state: "expired", change: { expiresAt: new Date("2031-12-01T00:00:00Z") }, code: "expired" },
    { state: "deleted", change: { deletedAt: new Date("2031-12-01T00:00:00Z") }, code: "not_found" },
  ] as const)("still decides a $state key on every call after it matched: $code", ({ change, code }) => {
    const issued = buildKey();
    const { hasher, hmacs } = countingHasher();
    const verifier = createKeyVerifier({
      format: testFormat,
      hasher,
      clock,
      source: memorySource([{ ...issued.record, ...change }]).source,
    });
    const codes = [1, 2, 3].map(() => (verifier.verify(candidate(issued.key)) as KeyVerification).code);
    expect(codes).toEqual([code, code, code]);
    expect(hmacs()).toBe(1);
  });

  it("starts afresh with a reloaded key: a rotated-away secret fails, an overlapping one expires on time", () => {
    const local = new ManualClock(new Date("2032-01-01T00:00:00Z"));
    const issued = buildKey();
    const memory = memorySource([issued.record]);
    const { hasher, hmacs } = countingHasher();
    const verifier = createKeyVerifier({ format: testFormat, hasher, clock: local, source: memory.source });
    const codeOf = (key: string) => (verifier.verify(candidate(key)) as KeyVerification).code;
    expect(codeOf(issued.key)).toBe("valid");
    const next = testFormat.generateSecretFor(issued.keyId, cryptoRandom);
    const [old] = issued.record.secrets;
    const newSecret = { ...(old as NonNullable<typeof old>), generation: 2, ...testHasher.hash(next.key) };
    // Rotation without overlap: the source now holds a new key object with only the new secret.
    memory.keys.set(issued.keyId, compileVerifiableKey({ ...issued.record, secrets: [newSecret] }));
    expect([codeOf(issued.key), codeOf(next.key), codeOf(next.key)]).toEqual(["not_found", "valid", "valid"]);
    expect(hmacs()).toBe(3);
    // Rotation with an overlap of one second: the old secret works (superseded) until its end, then expires.
    const overlapEnd = new Date(local.now().getTime() + 1000);
    const previous = { ...(old as NonNullable<typeof old>), expiresAt: overlapEnd };
    memory.keys.set(issued.keyId, compileVerifiableKey({ ...issued.record, secrets: [previous, newSecret] }));
    const secretOf = (key: string) => {
      const verdict = verifier.verify(candidate(key)) as KeyVerification;
      return [verdict.code, verdict.secretGeneration, verdict.secretSuperseded];
    };
    expect([secretOf(next.key), secretOf(next.key)]).toEqual([
      ["valid", 2, false],
      ["valid", 2, false],
    ]);
    expect(secretOf(issued.key)).toEqual(["valid", 1, true]);
    local.advance(1000);
    expect([secretOf(issued.key), secretOf(next.key)]).toEqual([
      ["expired", 1, true],
      ["valid", 2, false],
    ]);
    expect(hmacs()).toBe(5);
  });

  it("fingerprints keys with SHA-256: distinct keys differ, the key itself does not show", () => {
    const first = buildKey();
    const second = testFormat.generateSecretFor(first.keyId, cryptoRandom);
    const fingerprint = keyFingerprint(first.key);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keyFingerprint(first.key)).toBe(fingerprint);
    expect(keyFingerprint(second.key)).not.toBe(fingerprint);
    expect(fingerprint).not.toContain(first.secretKey.slice(0, 8));
    expect(fingerprint).not.toBe(testHasher.hash(first.key).hash);
  });
});

describe("compileVerifiableKey", () => {
  it("marks every secret but the newest, and any with an overlap end, as superseded", () => {
    const issued = buildKey();
    const [first] = issued.record.secrets;
    const record: ApiKeyRecord = {
      ...issued.record,
      secrets: [
        {
          ...(first as NonNullable<typeof first>),
          generation: 1,
          expiresAt: new Date("2032-02-01T00:00:00Z"),
        },
        { ...(first as NonNullable<typeof first>), generation: 2, expiresAt: null },
      ],
    };
    const compiled = compileVerifiableKey(record);
    expect(compiled.secrets.map((s) => [s.matched.generation, s.matched.superseded])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(compiled.approxBytes).toBeGreaterThan(0);
    expect(JSON.stringify(compiled)).not.toContain(issued.secretKey);
  });
});

describe("KeyVerifier remembered client addresses and endpoints", () => {
  const issued = buildKey({ ipAllowlist: ["2001:db8::/32", "10.0.0.0/8"] });
  const verifier = () =>
    createKeyVerifier({
      format: testFormat,
      hasher: testHasher,
      clock,
      source: memorySource([issued.record]).source,
    });
  const call = (clientIp: string, endpoint = "GET /orders") => ({
    ...candidate(issued.key),
    clientIp,
    endpoint,
  });

  it.each([
    { clientIp: "2001:db8::1", code: "valid" },
    { clientIp: "::ffff:10.1.2.3", code: "valid" },
    { clientIp: "10.1.2.3", code: "valid" },
    { clientIp: "2001:db9::1", code: "ip_not_allowed" },
    { clientIp: "192.0.2.1", code: "ip_not_allowed" },
  ])("$clientIp gets $code on the first call and on every repeat", ({ clientIp, code }) => {
    const subject = verifier();
    for (let i = 0; i < 3; i++) {
      expect((subject.verify(call(clientIp)) as KeyVerification).code).toBe(code);
    }
  });

  it("still refuses malformed input after the remembered sets filled up and were cleared", () => {
    const subject = verifier();
    for (let i = 0; i < 5_000; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect((subject.verify(call(address, `GET /orders/${i}`)) as KeyVerification).code).toBe("valid");
    }
    expect(() => subject.verify(call("10.0.0.300"))).toThrow(/client_ip/);
    expect(() => subject.verify(call("10.1.2.3", "GET /\u0007"))).toThrow(/endpoint/);
    expect((subject.verify(call("2001:db9::1")) as KeyVerification).code).toBe("ip_not_allowed");
  });
});
