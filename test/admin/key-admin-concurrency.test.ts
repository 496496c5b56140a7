/**
 * Races and retries of the key use cases on the real storage: the tenant limit under concurrent creates,
 * revokes that free a slot once, request ids that never create a second key, concurrent rotations.
 */
import { describe, expect, it } from "vitest";
import { createInput, uniqueTenant, useAdminFixture } from "./helpers/admin-fixture.js";

const fixture = useAdminFixture("keyrace");
const { keyAdmin, superuser } = fixture;

function settled<T>(results: PromiseSettledResult<T>[]) {
  return {
    fulfilled: results
      .filter((r): r is PromiseFulfilledResult<T> => r.status === "fulfilled")
      .map((r) => r.value),
    rejected: results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason),
  };
}

async function storedKeyCount(tenantId: string): Promise<number> {
  return fixture.db.collection("keys").countDocuments({ tenantId });
}

describe("tenant key limit under concurrency", () => {
  it("50 concurrent creates at a limit of 10 make exactly 10 keys", async () => {
    const tenantId = uniqueTenant();
    await fixture.tenants.setKeyLimit(tenantId, 10);
    const { fulfilled, rejected } = settled(
      await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          keyAdmin.createKey(superuser, createInput(tenantId, { name: `k${i}` })),
        ),
      ),
    );
    expect(fulfilled).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    for (const reason of rejected) {
      expect(reason).toHaveProperty("kind", "resource_exhausted");
    }
    expect(await storedKeyCount(tenantId)).toBe(10);
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(10);
  });

  it("concurrent revokes of one key free its slot exactly once", async () => {
    const tenantId = uniqueTenant();
    await fixture.tenants.setKeyLimit(tenantId, 3);
    const keys = await Promise.all(
      [1, 2, 3].map((i) => keyAdmin.createKey(superuser, createInput(tenantId, { name: `k${i}` }))),
    );
    const target = keys[0]!.key.id;
    const { fulfilled } = settled(
      await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          keyAdmin.revokeKey(superuser, { keyId: target, reason: "", requestId: "" }),
        ),
      ),
    );
    expect(fulfilled.length).toBeGreaterThan(0);
    expect(new Set(fulfilled.map((key) => key.revokedAt?.getTime())).size).toBe(1);
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(2);
    // Exactly one slot came back: one more key fits, the next does not.
    await keyAdmin.createKey(superuser, createInput(tenantId, { name: "fits" }));
    await expect(
      keyAdmin.createKey(superuser, createInput(tenantId, { name: "too many" })),
    ).rejects.toHaveProperty("kind", "resource_exhausted");
    const events = fixture.audit.events.filter((e) => e.detail.kind === "admin" && e.detail.keyId === target);
    expect(events.filter((e) => e.detail.kind === "admin" && e.detail.action === "key_revoked")).toHaveLength(
      1,
    );
  });

  it("a revoke racing a delete frees the slot exactly once", async () => {
    const tenantId = uniqueTenant();
    const issued = await keyAdmin.createKey(superuser, createInput(tenantId));
    const other = await keyAdmin.createKey(superuser, createInput(tenantId));
    await Promise.allSettled([
      keyAdmin.revokeKey(superuser, { keyId: issued.key.id, reason: "", requestId: "" }),
      keyAdmin.deleteKey(superuser, { keyId: issued.key.id, requestId: "" }),
      keyAdmin.revokeKey(superuser, { keyId: issued.key.id, reason: "", requestId: "" }),
    ]);
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(1);
    expect((await keyAdmin.getKey(superuser, other.key.id)).status).toBe("active");
  });
});

describe("request ids", () => {
  it("replays a create: same key, no secret, slot counted once; other parameters are refused", async () => {
    const tenantId = uniqueTenant();
    const input = createInput(tenantId, { name: "once", requestId: "create-1" });
    const first = await keyAdmin.createKey(superuser, input);
    const replay = await keyAdmin.createKey(superuser, input);
    expect(replay.key.id).toBe(first.key.id);
    expect(replay.secret).toBeNull();
    expect(replay.secretAlreadyIssued).toBe(true);
    expect((await fixture.tenants.get(tenantId)).usedKeys).toBe(1);
    const changed = keyAdmin.createKey(superuser, { ...input, name: "twice" });
    await expect(changed).rejects.toHaveProperty("kind", "failed_precondition");
    await expect(changed).rejects.toMatchObject({ reason: "IDEMPOTENCY_KEY_MISMATCH" });
    // A different operation with the same request id is a different request.
    await expect(
      keyAdmin.revokeKey(superuser, { keyId: first.key.id, reason: "", requestId: "create-1" }),
    ).resolves.toMatchObject({ status: "revoked" });
    expect(await storedKeyCount(tenantId)).toBe(1);
  });

  it("20 concurrent creates with one request id make one key", async () => {
    const tenantId = uniqueTenant();
    const input = createInput(tenantId, { requestId: "burst" });
    const { fulfilled, rejected } = settled(
      await Promise.allSettled(Array.from({ length: 20 }, () => keyAdmin.createKey(superuser, input))),
    );
    expect(await storedKeyCount(tenantId)).toBe(1);
    expect(new Set(fulfilled.map((issued) => issued.key.id)).size).toBe(1);
    expect(fulfilled.filter((issued) => issued.secret !== null)).toHaveLength(1);
    for (const reason of rejected) {
      expect(reason).toHaveProperty("kind", "aborted");
    }
    // Once the first finished, every retry replays.
    const late = await keyAdmin.createKey(superuser, input);
    expect(late).toMatchObject({
      secret: null,
      secretAlreadyIssued: true,
      key: { id: fulfilled[0]?.key.id },
    });
  });

  it("gives the request id back when the operation fails, so a corrected retry can run", async () => {
    const tenantId = uniqueTenant();
    await fixture.tenants.setKeyLimit(tenantId, 1);
    const blocker = await keyAdmin.createKey(superuser, createInput(tenantId));
    const input = createInput(tenantId, { requestId: "after-limit" });
    await expect(keyAdmin.createKey(superuser, input)).rejects.toHaveProperty("kind", "resource_exhausted");
    await keyAdmin.revokeKey(superuser, { keyId: blocker.key.id, reason: "", requestId: "" });
    const retried = await keyAdmin.createKey(superuser, input);
    expect(retried.secret).not.toBeNull();
  });

  it("replays a rotation without a second new secret", async () => {
    const issued = await keyAdmin.createKey(superuser, createInput(uniqueTenant()));
    const input = { keyId: issued.key.id, overlapMs: 0, expiresAt: null, requestId: "rotate-1" };
    const first = await keyAdmin.rotateKey(superuser, input);
    const replay = await keyAdmin.rotateKey(superuser, input);
    expect(replay.secret).toBeNull();
    expect(replay.secretAlreadyIssued).toBe(true);
    expect(replay.key.secrets.map((s) => s.generation)).toEqual([2]);
    expect(await fixture.callers.authenticate(first.secret!.key, null)).not.toBeNull();
    await expect(keyAdmin.rotateKey(superuser, { ...input, overlapMs: 1000 })).rejects.toHaveProperty(
      "kind",
      "failed_precondition",
    );
  });
});

describe("concurrent rotations", () => {
  it("one of several concurrent rotations wins; the others answer ABORTED and their secrets never verify", async () => {
    const issued = await keyAdmin.createKey(superuser, createInput(uniqueTenant()));
    const { fulfilled, rejected } = settled(
      await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          keyAdmin.rotateKey(superuser, {
            keyId: issued.key.id,
            overlapMs: 0,
            expiresAt: null,
            requestId: "",
          }),
        ),
      ),
    );
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    for (const reason of rejected) {
      expect(reason).toHaveProperty("kind", "aborted");
    }
    const current = await keyAdmin.getKey(superuser, issued.key.id);
    expect(current.secrets).toHaveLength(1);
    const working = [];
    for (const rotation of fulfilled) {
      if ((await fixture.callers.authenticate(rotation.secret!.key, null)) !== null) {
        working.push(rotation);
      }
    }
    expect(working).toHaveLength(1);
    expect(current.secrets[0]?.generation).toBe(1 + fulfilled.length);
  });
});
