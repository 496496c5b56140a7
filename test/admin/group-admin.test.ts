/**
 * Group and tenant use cases on the real storage: case-insensitive unique names, editing a group changes
 * what its keys may do, deleting a group in use is refused, tenant limits for super users only.
 */
import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/domain/api-key.js";
import { actorFor, createInput, uniqueTenant, useAdminFixture } from "./helpers/admin-fixture.js";

const fixture = useAdminFixture("groupadmin");
const { groupAdmin, keyAdmin, tenantAdmin, superuser } = fixture;

function groupInput(tenantId: string, name: string, permissions: string[] = []) {
  return { tenantId, name, description: "", permissions, requestId: "" };
}

async function adminOf(tenantId: string): Promise<Actor> {
  return actorFor(
    fixture,
    await keyAdmin.createKey(
      superuser,
      createInput(tenantId, { name: "admin", permissions: ["apikeys:admin"] }),
    ),
  );
}

describe("groups", () => {
  it("creates, reads, lists by name and counts the keys of a group", async () => {
    const tenantId = uniqueTenant();
    const admin = await adminOf(tenantId);
    const b = await groupAdmin.createGroup(
      admin,
      groupInput(tenantId, "bravo", ["orders:read", "orders:read"]),
    );
    await groupAdmin.createGroup(admin, groupInput(tenantId, "Alpha"));
    await groupAdmin.createGroup(admin, groupInput(tenantId, "charlie"));
    expect(b).toMatchObject({ tenantId, name: "bravo", permissions: ["orders:read"], keyCount: 0 });
    await keyAdmin.createKey(admin, createInput(tenantId, { groupId: b.id }));
    await expect(groupAdmin.getGroup(admin, b.id)).resolves.toMatchObject({ keyCount: 1 });
    const first = await groupAdmin.listGroups(admin, { tenantId: "", pageSize: 2, pageToken: "" });
    const second = await groupAdmin.listGroups(admin, {
      tenantId: "",
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...first.groups, ...second.groups].map((g) => [g.name, g.keyCount])).toEqual([
      ["Alpha", 0],
      ["bravo", 1],
      ["charlie", 0],
    ]);
    expect(second.nextPageToken).toBe("");
  });

  it.each(["Admins", "ADMINS", "admins"])(
    "refuses %s next to an existing 'admins' (names ignore case)",
    async (name) => {
      const tenantId = uniqueTenant();
      await groupAdmin.createGroup(superuser, groupInput(tenantId, "admins"));
      await expect(groupAdmin.createGroup(superuser, groupInput(tenantId, name))).rejects.toHaveProperty(
        "kind",
        "already_exists",
      );
      await expect(
        groupAdmin.createGroup(superuser, groupInput(uniqueTenant(), name)),
      ).resolves.toMatchObject({ name });
    },
  );

  it("refuses a rename onto another group's name, in any case", async () => {
    const tenantId = uniqueTenant();
    await groupAdmin.createGroup(superuser, groupInput(tenantId, "readers"));
    const writers = await groupAdmin.createGroup(superuser, groupInput(tenantId, "writers"));
    const rename = (name: string) =>
      groupAdmin.updateGroup(superuser, {
        groupId: writers.id,
        paths: ["name"],
        values: { name, description: "", permissions: [] },
        requestId: "",
      });
    await expect(rename("READERS")).rejects.toHaveProperty("kind", "already_exists");
    await expect(rename("Writers")).resolves.toMatchObject({ name: "Writers" });
  });

  it("an edit changes what the group's keys may do at their next verification, and is announced", async () => {
    const tenantId = uniqueTenant();
    const group = await groupAdmin.createGroup(superuser, groupInput(tenantId, "ops", ["apikeys:admin"]));
    const member = await keyAdmin.createKey(superuser, createInput(tenantId, { groupId: group.id }));
    expect((await actorFor(fixture, member)).role).toBe("tenant_admin");
    const updated = await groupAdmin.updateGroup(superuser, {
      groupId: group.id,
      paths: ["permissions", "description"],
      values: { name: "", description: "read only now", permissions: ["orders:read"] },
      requestId: "",
    });
    expect(updated).toMatchObject({
      name: "ops",
      description: "read only now",
      permissions: ["orders:read"],
    });
    expect(fixture.notifier.notices.at(-1)).toEqual({ kind: "group", id: group.id });
    expect((await actorFor(fixture, member)).role).toBe("key_holder");
    const event = fixture.audit.events.at(-1);
    expect(event?.detail).toMatchObject({ action: "group_updated", groupId: group.id });
    expect(event?.detail.kind === "admin" && event.detail.changedFields).toEqual([
      "description",
      "permissions",
    ]);
  });

  it("refuses to delete a group that keys still use, and deletes it once they are gone", async () => {
    const tenantId = uniqueTenant();
    const group = await groupAdmin.createGroup(superuser, groupInput(tenantId, "in use"));
    const member = await keyAdmin.createKey(superuser, createInput(tenantId, { groupId: group.id }));
    const refused = groupAdmin.deleteGroup(superuser, { groupId: group.id, requestId: "" });
    await expect(refused).rejects.toHaveProperty("kind", "failed_precondition");
    await expect(refused).rejects.toThrow("still used by 1 key");
    // A revoked key still belongs to the group (it is listed with it); only deletion releases it.
    await keyAdmin.revokeKey(superuser, { keyId: member.key.id, reason: "", requestId: "" });
    await expect(
      groupAdmin.deleteGroup(superuser, { groupId: group.id, requestId: "" }),
    ).rejects.toHaveProperty("kind", "failed_precondition");
    await keyAdmin.deleteKey(superuser, { keyId: member.key.id, requestId: "" });
    await groupAdmin.deleteGroup(superuser, { groupId: group.id, requestId: "del-1" });
    expect(fixture.notifier.notices.at(-1)).toEqual({ kind: "group", id: group.id });
    await expect(groupAdmin.getGroup(superuser, group.id)).rejects.toHaveProperty("kind", "not_found");
    // A replayed delete succeeds; a new one answers NOT_FOUND.
    await expect(
      groupAdmin.deleteGroup(superuser, { groupId: group.id, requestId: "del-1" }),
    ).resolves.toBeUndefined();
    await expect(
      groupAdmin.deleteGroup(superuser, { groupId: group.id, requestId: "" }),
    ).rejects.toHaveProperty("kind", "not_found");
  });

  it("hides another tenant's groups from a tenant admin (NOT_FOUND) and refuses key holders", async () => {
    const tenantId = uniqueTenant();
    const admin = await adminOf(tenantId);
    const foreign = await groupAdmin.createGroup(superuser, groupInput(uniqueTenant(), "foreign"));
    await expect(groupAdmin.getGroup(admin, foreign.id)).rejects.toHaveProperty("kind", "not_found");
    await expect(
      groupAdmin.deleteGroup(admin, { groupId: foreign.id, requestId: "" }),
    ).rejects.toHaveProperty("kind", "not_found");
    await expect(groupAdmin.createGroup(admin, groupInput(foreign.tenantId, "x1"))).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
    const holder = await actorFor(
      fixture,
      await keyAdmin.createKey(superuser, createInput(tenantId, { userId: "u" })),
    );
    await expect(
      groupAdmin.listGroups(holder, { tenantId: "", pageSize: 0, pageToken: "" }),
    ).rejects.toHaveProperty("kind", "permission_denied");
  });

  it.each<[string, Parameters<typeof groupInput>, RegExp]>([
    ["a one-character name", ["acme", "x"], /^name: must be 2-200/],
    ["the super-user permission", ["acme", "root", ["apikeys:superuser"]], /^permissions\[0\]:/],
    ["a malformed permission", ["acme", "bad", ["Orders:Read"]], /^permissions\[0\]:/],
  ])("refuses %s", async (_name, args, message) => {
    const call = groupAdmin.createGroup(superuser, groupInput(...args));
    await expect(call).rejects.toHaveProperty("kind", "invalid_argument");
    await expect(call).rejects.toThrow(message);
  });
});

describe("tenants", () => {
  it("reports usage against the default limit, and lets only super users set or clear an override", async () => {
    const tenantId = uniqueTenant();
    const admin = await adminOf(tenantId);
    await expect(tenantAdmin.getTenant(admin, "")).resolves.toMatchObject({
      tenantId,
      keyLimit: fixture.defaultKeyLimit,
      usedKeys: 1,
      keyLimitOverridden: false,
    });
    await expect(
      tenantAdmin.updateTenant(admin, { tenantId, keyLimit: 500, requestId: "" }),
    ).rejects.toHaveProperty("kind", "permission_denied");
    await expect(tenantAdmin.getTenant(admin, uniqueTenant())).rejects.toHaveProperty(
      "kind",
      "permission_denied",
    );
    await expect(
      tenantAdmin.updateTenant(superuser, { tenantId, keyLimit: 1, requestId: "" }),
    ).resolves.toMatchObject({
      tenantId,
      keyLimit: 1,
      usedKeys: 1,
      keyLimitOverridden: true,
    });
    await expect(keyAdmin.createKey(admin, createInput(tenantId))).rejects.toThrow("1/1");
    await expect(
      tenantAdmin.updateTenant(superuser, { tenantId, keyLimit: null, requestId: "" }),
    ).resolves.toMatchObject({
      keyLimit: fixture.defaultKeyLimit,
      keyLimitOverridden: false,
    });
  });

  it.each([0, -1, 1_000_001, 1.5])("refuses a key limit of %s", async (keyLimit) => {
    const call = tenantAdmin.updateTenant(superuser, { tenantId: uniqueTenant(), keyLimit, requestId: "" });
    await expect(call).rejects.toHaveProperty("kind", "invalid_argument");
    await expect(call).rejects.toThrow(/^key_limit:/);
  });
});
