/**
 * Tenants exist on purpose, on both transports: a super user creates, lists and updates them; a tenant admin
 * reads its own; an ordinary key nothing; nothing can be created in a tenant that does not exist (NOT_FOUND
 * naming it, nothing stored).
 */
import { describe, expect, it } from "vitest";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { GROUPS_COLLECTION } from "../../src/storage/group-repository.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { TENANTS_COLLECTION } from "../../src/storage/tenant-repository.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("admintenants");

describe.each(TRANSPORTS)("tenants over %s", (transport) => {
  const api = (): AdminApi => admin.strictApi(transport);
  const su = () => ({ key: admin.superuserKey() });
  const prefix = transport === "grpc-js" ? "tg" : "tc";

  /** keysOf creates a tenant with a tenant admin and an ordinary key of a user. */
  async function keysOf(tenantId: string): Promise<{ admin: { key: string }; holder: { key: string } }> {
    await api().createTenant({ tenantId }, su());
    const adminKey = await api().createKey(
      { tenantId, name: "tenant admin", permissions: ["apikeys:admin"] },
      su(),
    );
    const holderKey = await api().createKey({ tenantId, name: "holder", userId: "u1" }, su());
    return { admin: { key: adminKey.secret }, holder: { key: holderKey.secret } };
  }

  it("a key or group in a tenant that does not exist is refused with NOT_FOUND naming it; nothing is stored", async () => {
    const tenantId = uniqueTenant(`${prefix}-missing`);
    for (const call of [
      () => api().createKey({ tenantId, name: "orphan" }, su()),
      () => api().createGroup({ tenantId, name: "orphans" }, su()),
      () => api().getTenant({ tenantId }, su()),
      () => api().updateTenant({ tenantId, keyLimit: 5 }, su()),
      () => api().listKeys({ tenantId }, su()),
      () => api().listGroups({ tenantId }, su()),
    ]) {
      const failure = await rpcFailure(call());
      expect(failure.code).toBe("NOT_FOUND");
      expect(failure.message).toContain(JSON.stringify(tenantId));
    }
    const db = admin.server.db;
    expect(await db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(0);
    expect(await db.collection(GROUPS_COLLECTION).countDocuments({ tenantId })).toBe(0);
    expect(await db.collection(TENANTS_COLLECTION).countDocuments({ _id: tenantId as never })).toBe(0);
  });

  it("CreateTenant makes a tenant keys can be created in; a second CreateTenant answers ALREADY_EXISTS", async () => {
    const tenantId = uniqueTenant(`${prefix}-new`);
    const created = await api().createTenant(
      { tenantId, displayName: "Acme Corp", keyLimit: 3, requestId: `create-${tenantId}` },
      su(),
    );
    expect(created.tenant).toMatchObject({
      tenantId,
      displayName: "Acme Corp",
      keyLimit: 3,
      usedKeys: 0,
      keyLimitOverridden: true,
    });
    expect(created.tenant?.etag).not.toBe("");
    expect(created.tenant?.createTime).toBeDefined();
    // The same request id replays the outcome; a new one finds the tenant taken.
    const replayed = await api().createTenant(
      { tenantId, displayName: "Acme Corp", keyLimit: 3, requestId: `create-${tenantId}` },
      su(),
    );
    expect(replayed.tenant?.etag).toBe(created.tenant?.etag);
    expect((await rpcFailure(api().createTenant({ tenantId }, su()))).code).toBe("ALREADY_EXISTS");
    await api().createKey({ tenantId, name: "first key" }, su());
    expect((await api().getTenant({ tenantId }, su())).tenant).toMatchObject({ usedKeys: 1, keyLimit: 3 });
    const events = await admin.server.db
      .collection(AUDIT_EVENTS_COLLECTION)
      .find({ tenantId, "detail.action": "tenant_created" })
      .toArray();
    expect(events.map((event) => event.detail.changedFields)).toEqual([["display_name", "key_limit"]]);
  });

  it("UpdateTenant with a field mask changes only the named fields; without a mask only the key limit", async () => {
    const tenantId = uniqueTenant(`${prefix}-upd`);
    await api().createTenant({ tenantId, displayName: "Before", keyLimit: 7 }, su());
    const renamed = await api().updateTenant(
      { tenantId, displayName: "After", updateMask: { paths: ["display_name"] } },
      su(),
    );
    expect(renamed.tenant).toMatchObject({ displayName: "After", keyLimit: 7, keyLimitOverridden: true });
    const cleared = await api().updateTenant({ tenantId, updateMask: { paths: ["key_limit"] } }, su());
    expect(cleared.tenant).toMatchObject({ displayName: "After", keyLimitOverridden: false });
    const legacy = await api().updateTenant({ tenantId, keyLimit: 9 }, su());
    expect(legacy.tenant).toMatchObject({ displayName: "After", keyLimit: 9 });
  });

  it("ListTenants pages through every tenant in id order with page tokens", async () => {
    const ids = [1, 2, 3].map((i) => `${prefix}-list-${i}-${uniqueTenant("x").slice(2)}`);
    for (const tenantId of ids) {
      await api().createTenant({ tenantId }, su());
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await api().listTenants({ pageSize: 2, pageToken }, su());
      expect(page.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...page.tenants.map((tenant) => tenant.tenantId));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining([...ids, "_system"]));
    const tampered = await rpcFailure(api().listTenants({ pageSize: 2, pageToken: "garbage" }, su()));
    expect(tampered.code).toBe("INVALID_ARGUMENT");
  });

  it("access: super users everything, a tenant admin reads only its own tenant, an ordinary key nothing", async () => {
    const tenantId = uniqueTenant(`${prefix}-acc`);
    const other = uniqueTenant(`${prefix}-oth`);
    const { admin: tenantAdmin, holder } = await keysOf(tenantId);
    await api().createTenant({ tenantId: other }, su());
    expect((await api().getTenant({}, tenantAdmin)).tenant?.tenantId).toBe(tenantId);
    expect((await api().getTenant({ tenantId }, tenantAdmin)).tenant?.tenantId).toBe(tenantId);
    const denied: Array<[string, () => Promise<unknown>, { key: string }]> = [
      ["GetTenant of another tenant", () => api().getTenant({ tenantId: other }, tenantAdmin), tenantAdmin],
      [
        "CreateTenant",
        () => api().createTenant({ tenantId: uniqueTenant("nope") }, tenantAdmin),
        tenantAdmin,
      ],
      ["ListTenants", () => api().listTenants({}, tenantAdmin), tenantAdmin],
      ["UpdateTenant", () => api().updateTenant({ tenantId, keyLimit: 99 }, tenantAdmin), tenantAdmin],
      ["GetTenant", () => api().getTenant({ tenantId }, holder), holder],
      ["CreateTenant", () => api().createTenant({ tenantId: uniqueTenant("nope") }, holder), holder],
      ["ListTenants", () => api().listTenants({}, holder), holder],
      ["UpdateTenant", () => api().updateTenant({ tenantId, keyLimit: 99 }, holder), holder],
    ];
    for (const [name, call] of denied) {
      expect((await rpcFailure(call())).code, name).toBe("PERMISSION_DENIED");
    }
    expect((await api().getTenant({ tenantId }, su())).tenant).toMatchObject({ usedKeys: 2 });
    expect((await rpcFailure(api().createTenant({ tenantId: "x" }))).code).toBe("UNAUTHENTICATED");
  });
});
