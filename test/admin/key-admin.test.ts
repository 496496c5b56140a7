/**
 * Key lifecycle use cases on the real storage (the MongoDB-wire test server) with a settable clock: what is
 * stored, what verifies when, the tenant limit, and the rules that depend on time.
 */
import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/domain/api-key.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { actorFor, createInput, T0, uniqueTenant, useAdminFixture } from "./helpers/admin-fixture.js";

const DAY = 86_400_000;
const fixture = useAdminFixture("keyadmin");
const { keyAdmin, superuser, clock } = fixture;

async function verifies(key: string, peerIp: string | null = null): Promise<boolean> {
  return (await fixture.callers.authenticate(key, peerIp)) !== null;
}

async function adminOf(tenantId: string): Promise<Actor> {
  const issued = await keyAdmin.createKey(
    superuser,
    createInput(tenantId, { permissions: ["apikeys:admin"] }),
  );
  return actorFor(fixture, issued);
}

describe("CreateKey", () => {
  it("returns the secret once, stores only its keyed hash and a display hint", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const issued = await keyAdmin.createKey(
      superuser,
      createInput(tenantId, {
        name: "  Clé 🔑 prod ключ  ",
        description: "line one\r\nline two",
        userId: "user-7",
        permissions: ["orders:write", "orders:read", "orders:read"],
        ipAllowlist: ["10.0.0.0/8", "::ffff:10.0.0.0/104", "192.168.1.7"],
        expiresAt: new Date(T0.getTime() + 30 * DAY),
      }),
    );
    const secret = issued.secret!;
    expect(issued.secretAlreadyIssued).toBe(false);
    expect(secret.key).toBe(`${issued.key.id}_${secret.secretKey}`);
    expect(fixture.keyFormat.parse(secret.key)).toEqual({ keyId: issued.key.id });
    expect(issued.key).toMatchObject({
      tenantId,
      name: "Clé 🔑 prod ключ",
      description: "line one\nline two",
      userId: "user-7",
      permissions: ["orders:read", "orders:write"],
      ipAllowlist: ["10.0.0.0/8", "192.168.1.7/32"],
      status: "active",
      expirationState: "valid",
      createdBy: "bootstrap",
      createdAt: T0,
      revokedAt: null,
      deletedAt: null,
    });
    expect(issued.key.displayHint).toBe(`${issued.key.id}_${secret.secretKey.slice(0, 4)}…`);
    expect(issued.key.secrets).toEqual([
      { generation: 1, hint: issued.key.displayHint, createdAt: T0, expiresAt: null },
    ]);

    const stored = await fixture.db.collection(KEYS_COLLECTION).findOne({ _id: issued.key.id as never });
    const text = JSON.stringify(stored);
    expect(text).not.toContain(secret.secretKey);
    expect(text).not.toContain(secret.secretKey.slice(0, 32));
    expect(stored?.secrets[0].hash).toBe(fixture.hasher.hash(secret.key).hash);
    expect(await verifies(secret.key, "10.1.2.3")).toBe(true);
    expect(await verifies(secret.key, "11.1.2.3")).toBe(false);
  });

  it("counts the key against the tenant limit and refuses at the limit, storing nothing", async () => {
    const tenantId = uniqueTenant();
    await fixture.tenants.setKeyLimit(tenantId, 2);
    await keyAdmin.createKey(superuser, createInput(tenantId));
    await keyAdmin.createKey(superuser, createInput(tenantId));
    const refused = keyAdmin.createKey(superuser, createInput(tenantId, { name: "third" }));
    await expect(refused).rejects.toHaveProperty("kind", "resource_exhausted");
    await expect(refused).rejects.toThrow("2/2");
    const listing = await keyAdmin.listKeys(superuser, listInput(tenantId));
    expect(listing.keys).toHaveLength(2);
    expect(listing.tenant).toMatchObject({ tenantId, keyLimit: 2, usedKeys: 2, keyLimitOverridden: true });
  });

  it("refuses an unknown group, and a group of another tenant, storing nothing", async () => {
    const tenantId = uniqueTenant();
    const foreign = await fixture.groupAdmin.createGroup(superuser, {
      tenantId: uniqueTenant(),
      name: "foreign",
      description: "",
      permissions: [],
      requestId: "",
    });
    for (const groupId of ["grp_0000000000000000", foreign.id]) {
      const call = keyAdmin.createKey(superuser, createInput(tenantId, { groupId }));
      await expect(call).rejects.toHaveProperty("kind", "invalid_argument");
      await expect(call).rejects.toThrow(/^group_id: unknown group/);
    }
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(0);
    expect((await keyAdmin.listKeys(superuser, listInput(tenantId))).keys).toEqual([]);
  });

  it("never lets a tenant key carry the super-user permission", async () => {
    const tenantId = uniqueTenant();
    const admin = await adminOf(tenantId);
    const call = keyAdmin.createKey(
      admin,
      createInput(tenantId, { permissions: ["a:b", "apikeys:superuser"] }),
    );
    await expect(call).rejects.toThrow("permissions[1]");
    const systemKey = await keyAdmin.createKey(
      superuser,
      createInput("_system", { name: "second super user", permissions: ["apikeys:superuser"] }),
    );
    expect((await actorFor(fixture, systemKey)).role).toBe("superuser");
  });
});

describe("expiry and expiration state", () => {
  it("derives status and expiration state at read time, with the expiring-soon window", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const expiresAt = new Date(T0.getTime() + 10 * DAY);
    const issued = await keyAdmin.createKey(superuser, createInput(tenantId, { expiresAt }));
    const at = async (ms: number) => {
      clock.set(new Date(T0.getTime() + ms));
      const key = await keyAdmin.getKey(superuser, issued.key.id);
      return [key.status, key.expirationState];
    };
    expect(await at(0)).toEqual(["active", "valid"]);
    expect(await at(3 * DAY - 1)).toEqual(["active", "valid"]);
    expect(await at(3 * DAY)).toEqual(["active", "expiring_soon"]);
    expect(await at(10 * DAY - 1)).toEqual(["active", "expiring_soon"]);
    expect(await verifies(issued.secret!.key)).toBe(true);
    expect(await at(10 * DAY)).toEqual(["expired", "expired"]);
    expect(await verifies(issued.secret!.key)).toBe(false);
  });

  it.each<[string, number]>([
    ["now", 0],
    ["the past", -1],
    ["under a minute ahead", 59_999],
    ["over 10 years ahead", 3654 * DAY],
  ])("refuses an expiry of %s", async (_name, offset) => {
    clock.set(T0);
    const call = keyAdmin.createKey(
      superuser,
      createInput(uniqueTenant(), { expiresAt: new Date(T0.getTime() + offset) }),
    );
    await expect(call).rejects.toHaveProperty("kind", "invalid_argument");
    await expect(call).rejects.toThrow(/^expire_time:/);
  });

  it("UpdateKey moves the expiry earlier only; extending or removing it needs RotateKey", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const never = await keyAdmin.createKey(superuser, createInput(tenantId));
    const inTen = await keyAdmin.createKey(
      superuser,
      createInput(tenantId, { expiresAt: new Date(T0.getTime() + 10 * DAY) }),
    );
    const update = (keyId: string, expiresAt: Date | null) =>
      keyAdmin.updateKey(superuser, {
        keyId,
        paths: ["expire_time"],
        values: { ...noValues, expiresAt },
        requestId: "",
      });

    // A key that never expired may get an expiry: that is earlier than "never".
    await expect(update(never.key.id, new Date(T0.getTime() + 5 * DAY))).resolves.toMatchObject({
      expiresAt: new Date(T0.getTime() + 5 * DAY),
    });
    await expect(update(inTen.key.id, new Date(T0.getTime() + 2 * DAY))).resolves.toMatchObject({
      expiresAt: new Date(T0.getTime() + 2 * DAY),
    });
    const later = update(inTen.key.id, new Date(T0.getTime() + 3 * DAY));
    await expect(later).rejects.toHaveProperty("kind", "invalid_argument");
    await expect(later).rejects.toThrow(/key\.expire_time: may only move earlier.*RotateKey/);
    await expect(update(inTen.key.id, null)).rejects.toThrow(/key\.expire_time: cannot be removed/);
    expect((await keyAdmin.getKey(superuser, inTen.key.id)).expiresAt).toEqual(
      new Date(T0.getTime() + 2 * DAY),
    );

    // Once expired, only a rotation with a new expiry brings it back.
    clock.set(new Date(T0.getTime() + 2 * DAY));
    await expect(update(inTen.key.id, new Date(T0.getTime() + 3 * DAY))).rejects.toHaveProperty(
      "kind",
      "failed_precondition",
    );
    const rotateNoExpiry = keyAdmin.rotateKey(superuser, {
      keyId: inTen.key.id,
      overlapMs: 0,
      expiresAt: null,
      requestId: "",
    });
    await expect(rotateNoExpiry).rejects.toHaveProperty("kind", "failed_precondition");
    await expect(
      keyAdmin.rotateKey(superuser, {
        keyId: inTen.key.id,
        overlapMs: DAY,
        expiresAt: new Date(T0.getTime() + 30 * DAY),
        requestId: "",
      }),
    ).rejects.toThrow(/^overlap: would last beyond the key's expiry/);
    const revived = await keyAdmin.rotateKey(superuser, {
      keyId: inTen.key.id,
      overlapMs: 0,
      expiresAt: new Date(T0.getTime() + 30 * DAY),
      requestId: "",
    });
    expect(revived.key.status).toBe("active");
    expect(await verifies(revived.secret!.key)).toBe(true);
    expect(await verifies(inTen.secret!.key)).toBe(false);
  });
});

describe("RotateKey", () => {
  it("replaces the secret at once without overlap, keeping id and configuration", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const issued = await keyAdmin.createKey(
      superuser,
      createInput(tenantId, { name: "rotating", permissions: ["x:y"], userId: "u" }),
    );
    clock.advance(1000);
    const rotated = await keyAdmin.rotateKey(superuser, {
      keyId: issued.key.id,
      overlapMs: 0,
      expiresAt: null,
      requestId: "",
    });
    expect(rotated.key).toMatchObject({
      id: issued.key.id,
      name: "rotating",
      permissions: ["x:y"],
      userId: "u",
      createdAt: T0,
      updatedAt: clock.now(),
    });
    expect(rotated.secret!.key).not.toBe(issued.secret!.key);
    expect(rotated.secret!.key.startsWith(`${issued.key.id}_`)).toBe(true);
    expect(rotated.key.secrets).toEqual([
      { generation: 2, hint: rotated.key.displayHint, createdAt: clock.now(), expiresAt: null },
    ]);
    expect(await verifies(issued.secret!.key)).toBe(false);
    expect(await verifies(rotated.secret!.key)).toBe(true);
    expect(fixture.notifier.notices).toContainEqual({ kind: "key", id: issued.key.id });
  });

  it("keeps the previous secret working until the end of the overlap, recorded as its expiry", async () => {
    clock.set(T0);
    const issued = await keyAdmin.createKey(superuser, createInput(uniqueTenant()));
    const rotated = await keyAdmin.rotateKey(superuser, {
      keyId: issued.key.id,
      overlapMs: 3_600_000,
      expiresAt: null,
      requestId: "",
    });
    const end = new Date(T0.getTime() + 3_600_000);
    expect(rotated.key.secrets.map((s) => [s.generation, s.expiresAt])).toEqual([
      [1, end],
      [2, null],
    ]);
    clock.set(new Date(end.getTime() - 1));
    expect(await verifies(issued.secret!.key)).toBe(true);
    expect(await verifies(rotated.secret!.key)).toBe(true);
    clock.set(end);
    expect(await verifies(issued.secret!.key)).toBe(false);
    expect(await verifies(rotated.secret!.key)).toBe(true);
    expect((await keyAdmin.getKey(superuser, issued.key.id)).secrets.map((s) => s.generation)).toEqual([2]);
  });

  it("lets only the secret just superseded overlap: a second rotation ends the older one", async () => {
    clock.set(T0);
    const first = await keyAdmin.createKey(superuser, createInput(uniqueTenant()));
    const rotate = (overlapMs: number) =>
      keyAdmin.rotateKey(superuser, { keyId: first.key.id, overlapMs, expiresAt: null, requestId: "" });
    const second = await rotate(DAY);
    const third = await rotate(DAY);
    expect(third.key.secrets.map((s) => s.generation)).toEqual([2, 3]);
    expect(await verifies(first.secret!.key)).toBe(false);
    expect(await verifies(second.secret!.key)).toBe(true);
    expect(await verifies(third.secret!.key)).toBe(true);
  });

  it.each<[string, number, number | null, RegExp]>([
    ["negative overlap", -1, null, /^overlap: must not be negative/],
    ["overlap over 7 days", 7 * DAY + 1, null, /^overlap: must be at most 7 days/],
    ["overlap beyond the key's expiry", 2 * DAY, 1 * DAY, /^overlap: would last beyond/],
  ])("refuses %s", async (_name, overlapMs, expiresInMs, message) => {
    clock.set(T0);
    const issued = await keyAdmin.createKey(
      superuser,
      createInput(uniqueTenant(), {
        expiresAt: expiresInMs === null ? null : new Date(T0.getTime() + expiresInMs),
      }),
    );
    const call = keyAdmin.rotateKey(superuser, {
      keyId: issued.key.id,
      overlapMs,
      expiresAt: null,
      requestId: "",
    });
    await expect(call).rejects.toHaveProperty("kind", "invalid_argument");
    await expect(call).rejects.toThrow(message);
    expect(await verifies(issued.secret!.key)).toBe(true);
    expect((await keyAdmin.getKey(superuser, issued.key.id)).secrets).toHaveLength(1);
  });

  it("allows exactly 7 days of overlap, and bounds it by the old expiry even when the new one is later", async () => {
    clock.set(T0);
    const open = await keyAdmin.createKey(superuser, createInput(uniqueTenant()));
    await expect(
      keyAdmin.rotateKey(superuser, {
        keyId: open.key.id,
        overlapMs: 7 * DAY,
        expiresAt: null,
        requestId: "",
      }),
    ).resolves.toMatchObject({ key: { secrets: [{ expiresAt: new Date(T0.getTime() + 7 * DAY) }, {}] } });
    const soon = await keyAdmin.createKey(
      superuser,
      createInput(uniqueTenant(), { expiresAt: new Date(T0.getTime() + DAY) }),
    );
    const call = keyAdmin.rotateKey(superuser, {
      keyId: soon.key.id,
      overlapMs: 2 * DAY,
      expiresAt: new Date(T0.getTime() + 90 * DAY),
      requestId: "",
    });
    await expect(call).rejects.toThrow(/^overlap: would last beyond the key's expiry/);
  });
});

describe("RevokeKey and DeleteKey", () => {
  it("revokes at once and permanently, frees the slot once, and keeps the key listed", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const admin = await adminOf(tenantId);
    const issued = await keyAdmin.createKey(admin, createInput(tenantId, { name: "to revoke" }));
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(2);
    clock.advance(5000);
    const revoked = await keyAdmin.revokeKey(admin, {
      keyId: issued.key.id,
      reason: "leaked",
      requestId: "",
    });
    expect(revoked).toMatchObject({
      status: "revoked",
      revokedAt: clock.now(),
      revokedBy: admin.keyId,
      revokeReason: "leaked",
      secrets: [],
    });
    expect(await verifies(issued.secret!.key)).toBe(false);
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(1);

    clock.advance(5000);
    const again = await keyAdmin.revokeKey(admin, { keyId: issued.key.id, reason: "other", requestId: "" });
    expect(again.revokedAt).toEqual(revoked.revokedAt);
    expect(again.revokeReason).toBe("leaked");
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(1);

    const listed = await keyAdmin.listKeys(admin, { ...listInput(""), status: "revoked" });
    expect(listed.keys.map((k) => k.id)).toEqual([issued.key.id]);
    for (const call of [
      () => keyAdmin.rotateKey(admin, { keyId: issued.key.id, overlapMs: 0, expiresAt: null, requestId: "" }),
      () =>
        keyAdmin.updateKey(admin, {
          keyId: issued.key.id,
          paths: ["name"],
          values: { ...noValues, name: "new" },
          requestId: "",
        }),
    ]) {
      await expect(call()).rejects.toHaveProperty("kind", "failed_precondition");
    }
  });

  it("deletes: hidden from listings, never verifies, frees the slot if it was not revoked, answers NOT_FOUND after", async () => {
    clock.set(T0);
    const tenantId = uniqueTenant();
    const active = await keyAdmin.createKey(superuser, createInput(tenantId, { name: "active" }));
    clock.advance(1);
    const revoked = await keyAdmin.createKey(superuser, createInput(tenantId, { name: "revoked" }));
    await keyAdmin.revokeKey(superuser, { keyId: revoked.key.id, reason: "", requestId: "" });
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(1);
    const deleted = await keyAdmin.deleteKey(superuser, { keyId: active.key.id, requestId: "" });
    expect(deleted.deletedAt).toEqual(clock.now());
    await keyAdmin.deleteKey(superuser, { keyId: revoked.key.id, requestId: "" });
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(0);
    expect(await verifies(active.secret!.key)).toBe(false);
    expect((await keyAdmin.listKeys(superuser, listInput(tenantId))).keys).toEqual([]);
    const withDeleted = await keyAdmin.listKeys(superuser, { ...listInput(tenantId), showDeleted: true });
    expect(withDeleted.keys.map((k) => k.name)).toEqual(["revoked", "active"]);
    // Each call starts only when the previous one is checked: a rejection never waits without a handler.
    for (const call of [
      () => keyAdmin.deleteKey(superuser, { keyId: active.key.id, requestId: "" }),
      () => keyAdmin.revokeKey(superuser, { keyId: active.key.id, reason: "", requestId: "" }),
      () =>
        keyAdmin.rotateKey(superuser, { keyId: active.key.id, overlapMs: 0, expiresAt: null, requestId: "" }),
    ]) {
      await expect(call()).rejects.toHaveProperty("kind", "not_found");
    }
    // The audit history stays: one event per mutation, in order.
    const actions = fixture.audit.events
      .filter((event) => event.detail.kind === "admin" && event.detail.keyId === active.key.id)
      .map((event) => (event.detail.kind === "admin" ? event.detail.action : ""));
    expect(actions).toEqual(["key_created", "key_deleted"]);
  });
});

describe("the key holder's view", () => {
  it("lists and reads only the keys of its own user, and may change nothing", async () => {
    const tenantId = uniqueTenant();
    const mine = await keyAdmin.createKey(superuser, createInput(tenantId, { name: "mine", userId: "bob" }));
    clock.advance(1);
    const other = await keyAdmin.createKey(
      superuser,
      createInput(tenantId, { name: "alice's", userId: "alice" }),
    );
    clock.advance(1);
    const second = await keyAdmin.createKey(
      superuser,
      createInput(tenantId, { name: "mine too", userId: "bob" }),
    );
    const bob = await actorFor(fixture, mine);
    expect(bob.role).toBe("key_holder");
    const listed = await keyAdmin.listKeys(bob, listInput(""));
    expect(listed.keys.map((k) => k.name)).toEqual(["mine too", "mine"]);
    expect(listed.tenant).toBeNull();
    await expect(keyAdmin.getKey(bob, second.key.id)).resolves.toMatchObject({ name: "mine too" });
    await expect(keyAdmin.getKey(bob, other.key.id)).rejects.toHaveProperty("kind", "not_found");
    await expect(keyAdmin.listKeys(bob, { ...listInput(""), userId: "alice" })).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
    await expect(keyAdmin.listKeys(bob, listInput(uniqueTenant()))).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
    await expect(
      keyAdmin.revokeKey(bob, { keyId: second.key.id, reason: "", requestId: "" }),
    ).rejects.toHaveProperty("kind", "permission_denied");
    await expect(keyAdmin.createKey(bob, createInput(tenantId))).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );

    const anonymous = await keyAdmin.createKey(superuser, createInput(tenantId, { name: "no user" }));
    const nobody = await actorFor(fixture, anonymous);
    await expect(keyAdmin.listKeys(nobody, listInput(""))).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
    await expect(keyAdmin.getKey(nobody, anonymous.key.id)).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
  });
});

const noValues = {
  name: "",
  description: "",
  userId: "",
  groupId: "",
  permissions: [],
  ipAllowlist: [],
  expiresAt: null,
};

function listInput(tenantId: string) {
  return {
    tenantId,
    pageSize: 0,
    pageToken: "",
    status: null,
    expirationState: null,
    userId: "",
    groupId: "",
    nameQuery: "",
    showDeleted: false,
  };
}
