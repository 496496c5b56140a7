/**
 * The request-id fence on in-memory ports: when the first attempt's write landed but its answer never
 * arrived and the request id's claim no longer holds it off, a retry with the same request id completes
 * that effect instead of repeating it — one key (or one rotation), one admin event, and the retry's secret
 * is the one that verifies.
 */
import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/domain/api-key.js";
import type { NewAuditEvent } from "../../src/domain/audit-event.js";
import { DomainError } from "../../src/domain/errors.js";
import { type CreateKeyInput, createKeyAdmin } from "../../src/domain/key-admin.js";
import type { IdempotencyStore, KeyRepository } from "../../src/domain/ports.js";
import { REQUEST_ID_RETENTION_MS, requestKeyId } from "../../src/domain/request-fence.js";
import { createTenantAdmin } from "../../src/domain/tenant-admin.js";
import { ManualClock } from "../helpers/fake-clock.js";
import { testFormat, testHasher } from "../helpers/key-fixtures.js";
import {
  createMemoryGroupRepository,
  createMemoryIdempotencyStore,
  createMemoryKeyRepository,
  createMemoryTenantRepository,
  memoryAdminDeps,
} from "../helpers/memory-ports.js";

const SUPERUSER: Actor = { keyId: "bootstrap", tenantId: "_system", userId: "", role: "superuser" };
const TENANT = "acme";

/**
 * LAPSED_CLAIMS is a request-id store whose claims have lapsed by every retry (the first attempt outlived
 * its deadline): each call runs, as after a takeover. The fence alone must keep it to one effect.
 */
const LAPSED_CLAIMS: IdempotencyStore = {
  claim: async () => ({ state: "claimed" }),
  complete: async () => undefined,
  abandon: async () => undefined,
};

/** lateWriteOnce, once armed, makes the next insert or replace store its record and then fail, like a late write. */
function lateWriteOnce(keys: KeyRepository) {
  let armed = false;
  const lost = () => new DomainError("unavailable", "the database did not answer in time");
  const repository: KeyRepository = {
    ...keys,
    async insert(key) {
      await keys.insert(key);
      if (armed) {
        armed = false;
        throw lost();
      }
    },
    async replace(next, version) {
      const written = await keys.replace(next, version);
      if (armed) {
        armed = false;
        throw lost();
      }
      return written;
    },
  };
  return { repository, arm: () => (armed = true) };
}

async function setUp(idempotency: IdempotencyStore = LAPSED_CLAIMS) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const stored = createMemoryKeyRepository();
  const late = lateWriteOnce(stored);
  const groups = createMemoryGroupRepository();
  const tenants = createMemoryTenantRepository({ keys: stored, groups });
  const deps = memoryAdminDeps({
    clock,
    keys: late.repository,
    groups,
    tenants,
    idempotency,
    defaultKeyLimit: 10,
  });
  const { audit, notifier } = deps;
  await createTenantAdmin(deps).createTenant(SUPERUSER, {
    tenantId: TENANT,
    displayName: "",
    keyLimit: null,
    requestId: "",
  });
  const verifies = (key: string) => {
    const record = stored.records.get(testFormat.parse(key)?.keyId ?? "");
    return record?.secrets.some((secret) => secret.hash === testHasher.hash(key).hash) ?? false;
  };
  const adminEvents = (action: string) =>
    audit.events.filter(
      (event: NewAuditEvent) => event.detail.kind === "admin" && event.detail.action === action,
    );
  return {
    keyAdmin: createKeyAdmin(deps),
    stored,
    tenants,
    audit,
    notifier,
    clock,
    late,
    verifies,
    adminEvents,
  };
}

const createInput = (requestId: string, overrides: Partial<CreateKeyInput> = {}): CreateKeyInput => ({
  tenantId: TENANT,
  name: "billing",
  description: "",
  userId: "",
  groupId: "",
  permissions: ["orders:read"],
  ipAllowlist: [],
  expiresAt: null,
  labels: { team: "payments" },
  requestId,
  ...overrides,
});

describe("CreateKey with a request_id whose first attempt's insert landed late", () => {
  it("the retry makes no second key: it issues the stored key a fresh secret, with one creation event", async () => {
    const { keyAdmin, stored, late, verifies, adminEvents, notifier } = await setUp();
    late.arm();
    await expect(keyAdmin.createKey(SUPERUSER, createInput("req-1"))).rejects.toHaveProperty(
      "kind",
      "unavailable",
    );
    expect(stored.records.size).toBe(1);
    expect(adminEvents("key_created")).toHaveLength(0);

    const retried = await keyAdmin.createKey(SUPERUSER, createInput("req-1"));
    expect(stored.records.size).toBe(1);
    expect(retried.key.id).toBe(requestKeyId(testFormat.prefix, TENANT, "req-1"));
    expect(retried.secret).not.toBeNull();
    expect(verifies(retried.secret?.key ?? "")).toBe(true);
    // Still the key's creation: one secret, generation 1.
    expect(stored.records.get(retried.key.id)?.secrets.map((secret) => secret.generation)).toEqual([1]);
    expect(adminEvents("key_created")).toHaveLength(1);
    expect(adminEvents("key_created")[0]?.detail).toMatchObject({
      keyId: retried.key.id,
      requestId: "req-1",
    });
    // The late key was never announced; the secret replacement is.
    expect(notifier.notices).toContainEqual({ kind: "key", id: retried.key.id });
  });

  it("a retry after an attempt that answered but whose claim was lost leaves one key and one event", async () => {
    const { keyAdmin, stored, verifies, adminEvents } = await setUp();
    const first = await keyAdmin.createKey(SUPERUSER, createInput("req-2"));
    const second = await keyAdmin.createKey(SUPERUSER, createInput("req-2"));
    expect(second.key.id).toBe(first.key.id);
    expect(stored.records.size).toBe(1);
    // The newest answer's secret is the key's; the one it replaced verifies no more.
    expect(verifies(second.secret?.key ?? "")).toBe(true);
    expect(verifies(first.secret?.key ?? "")).toBe(false);
    expect(adminEvents("key_created")).toHaveLength(1);
  });

  it("the retry gets its key even when the late key filled the tenant's last slot", async () => {
    const { keyAdmin, tenants, late, stored } = await setUp();
    const tenant = await tenants.get(TENANT);
    await tenants.replace({ ...tenant, keyLimit: 1, version: tenant.version + 1 }, tenant.version);
    late.arm();
    await expect(keyAdmin.createKey(SUPERUSER, createInput("req-3"))).rejects.toThrow();
    const retried = await keyAdmin.createKey(SUPERUSER, createInput("req-3"));
    expect(retried.secret).not.toBeNull();
    expect(stored.records.size).toBe(1);
  });

  it("refuses the request id with other parameters, and once it is older than its retention", async () => {
    const { keyAdmin, stored, clock, verifies } = await setUp();
    const first = await keyAdmin.createKey(SUPERUSER, createInput("req-4"));
    const other = keyAdmin.createKey(SUPERUSER, createInput("req-4", { name: "another" }));
    await expect(other).rejects.toMatchObject({
      kind: "failed_precondition",
      reason: "IDEMPOTENCY_KEY_MISMATCH",
    });
    clock.advance(REQUEST_ID_RETENTION_MS);
    await expect(keyAdmin.createKey(SUPERUSER, createInput("req-4"))).rejects.toHaveProperty(
      "kind",
      "failed_precondition",
    );
    // Neither changed the key: the first answer's secret still verifies.
    expect(stored.records.size).toBe(1);
    expect(verifies(first.secret?.key ?? "")).toBe(true);
  });

  it("refuses once the late key was rotated since (its first secret is gone)", async () => {
    const { keyAdmin, stored } = await setUp();
    const first = await keyAdmin.createKey(SUPERUSER, createInput("req-5"));
    await keyAdmin.rotateKey(SUPERUSER, {
      keyId: first.key.id,
      overlapMs: 0,
      expiresAt: null,
      requestId: "",
    });
    await expect(keyAdmin.createKey(SUPERUSER, createInput("req-5"))).rejects.toHaveProperty(
      "kind",
      "failed_precondition",
    );
    expect(stored.records.get(first.key.id)?.secrets.map((secret) => secret.generation)).toEqual([2]);
  });

  it("without a request_id every call makes its own key under a random id", async () => {
    const { keyAdmin, stored } = await setUp(createMemoryIdempotencyStore());
    await keyAdmin.createKey(SUPERUSER, createInput(""));
    await keyAdmin.createKey(SUPERUSER, createInput(""));
    expect(stored.records.size).toBe(2);
  });
});

describe("RotateKey with a request_id whose first attempt's write landed late", () => {
  it("the retry rotates no second time: the rotation's secret is replaced, with one rotation event", async () => {
    const { keyAdmin, stored, late, verifies, adminEvents, notifier } = await setUp();
    const created = await keyAdmin.createKey(SUPERUSER, createInput(""));
    const keyId = created.key.id;
    const etag = created.key.etag;
    const rotation = { keyId, overlapMs: 60_000, expiresAt: null, requestId: "rot-1", etag };
    late.arm();
    await expect(keyAdmin.rotateKey(SUPERUSER, rotation)).rejects.toHaveProperty("kind", "unavailable");
    expect(stored.records.get(keyId)?.secrets.map((secret) => secret.generation)).toEqual([1, 2]);
    const noticesBefore = notifier.notices.length;

    // The etag was the key's before the rotation it completes: still accepted.
    const retried = await keyAdmin.rotateKey(SUPERUSER, rotation);
    const key = stored.records.get(keyId);
    expect(key?.secrets.map((secret) => secret.generation)).toEqual([1, 2]);
    expect(retried.key.secrets.map((secret) => secret.generation)).toEqual([1, 2]);
    expect(verifies(retried.secret?.key ?? "")).toBe(true);
    // The overlap of the superseded secret is the one the rotation gave it.
    expect(verifies(created.secret?.key ?? "")).toBe(true);
    expect(key?.secrets[0]?.expiresAt).toEqual(new Date(Date.UTC(2030, 0, 1) + 60_000));
    expect(adminEvents("key_rotated")).toHaveLength(1);
    expect(notifier.notices.length).toBeGreaterThan(noticesBefore);
  });

  it("a rotation with another request id, or none, is a rotation of its own", async () => {
    const { keyAdmin, stored } = await setUp();
    const created = await keyAdmin.createKey(SUPERUSER, createInput(""));
    const keyId = created.key.id;
    const rotate = (requestId: string) =>
      keyAdmin.rotateKey(SUPERUSER, { keyId, overlapMs: 0, expiresAt: null, requestId });
    await rotate("rot-a");
    await rotate("rot-a");
    expect(stored.records.get(keyId)?.secrets.map((secret) => secret.generation)).toEqual([2]);
    await rotate("rot-b");
    expect(stored.records.get(keyId)?.secrets.map((secret) => secret.generation)).toEqual([3]);
    await rotate("");
    // After a rotation without a request id, an old request id fences nothing: it is a new rotation.
    await rotate("rot-b");
    expect(stored.records.get(keyId)?.secrets.map((secret) => secret.generation)).toEqual([5]);
  });
});
