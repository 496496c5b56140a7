import { describe, expect, it } from "vitest";
import {
  actorOf,
  canSeeKey,
  canSeeTenantResource,
  createAdminAuthenticator,
  requireAdmin,
  requireOwnUser,
  requireSuperuser,
  resolveTenant,
} from "../../src/domain/admin-access.js";
import type { Actor } from "../../src/domain/api-key.js";
import { DomainError, type DomainErrorKind, KEY_STORE_UNAVAILABLE } from "../../src/domain/errors.js";
import type { AuthenticatedKey } from "../../src/domain/ports.js";

const superuser: Actor = { keyId: "su", tenantId: "_system", userId: "", role: "superuser" };
const admin: Actor = { keyId: "adm", tenantId: "acme", userId: "alice", role: "tenant_admin" };
const holder: Actor = { keyId: "kh", tenantId: "acme", userId: "bob", role: "key_holder" };
const anonymousHolder: Actor = { keyId: "kh2", tenantId: "acme", userId: "", role: "key_holder" };

function authenticated(overrides: Partial<AuthenticatedKey>): AuthenticatedKey {
  return { keyId: "k", tenantId: "acme", userId: "", groupId: "", permissions: [], ...overrides };
}

describe("actorOf", () => {
  it.each<[string, Partial<AuthenticatedKey>, Actor["role"]]>([
    [
      "system key with the super-user permission",
      { tenantId: "_system", permissions: ["apikeys:superuser"] },
      "superuser",
    ],
    ["tenant key with apikeys:admin", { permissions: ["apikeys:admin", "orders:read"] }, "tenant_admin"],
    [
      "super-user permission outside the system tenant is only admin",
      { permissions: ["apikeys:superuser"] },
      "tenant_admin",
    ],
    [
      "system key with apikeys:admin only",
      { tenantId: "_system", permissions: ["apikeys:admin"] },
      "tenant_admin",
    ],
    ["ordinary key", { permissions: ["orders:read"] }, "key_holder"],
    ["key without permissions", { permissions: [] }, "key_holder"],
    ["look-alike permission", { permissions: ["apikeys:admins", "apikeys"] }, "key_holder"],
  ])("%s", (_name, key, role) => {
    const actor = actorOf(authenticated({ keyId: "ak_1", userId: "u1", ...key }));
    expect(actor).toEqual({ keyId: "ak_1", tenantId: key.tenantId ?? "acme", userId: "u1", role });
  });
});

describe("resolveTenant", () => {
  it("lets a super user default to its own tenant where the RPC says so (GetTenant)", () => {
    expect(
      resolveTenant(superuser, "", { field: "tenant_id", required: false, superuserDefault: true }),
    ).toBe("_system");
  });

  it.each<[string, Actor, string, boolean, string | string[]]>([
    ["super user names a tenant", superuser, "other", false, "other"],
    ["super user may name the system tenant", superuser, "_system", true, "_system"],
    ["admin names its own tenant", admin, "acme", true, "acme"],
    ["admin defaults to its own tenant", admin, "", false, "acme"],
    ["key holder defaults to its own tenant", holder, "", false, "acme"],
  ])("%s", (_name, actor, requested, required, expected) => {
    expect(resolveTenant(actor, requested, { field: "tenant_id", required })).toEqual(expected);
  });

  it.each<[string, Actor, string, boolean, DomainErrorKind, string]>([
    ["super user must name a tenant", superuser, "", false, "invalid_argument", "tenant_id: is required"],
    ["required even for admins", admin, "", true, "invalid_argument", "tenant_id: is required"],
    ["admin naming another tenant", admin, "other", false, "permission_denied", "own tenant"],
    ["key holder naming another tenant", holder, "other", false, "permission_denied", "own tenant"],
    ["admin naming the system tenant", admin, "_system", false, "invalid_argument", "reserved"],
    ["malformed tenant id", superuser, "Acme Corp", false, "invalid_argument", "tenant_id"],
    ["tenant id of 65 characters", superuser, "a".repeat(65), false, "invalid_argument", "tenant_id"],
  ])("refuses: %s", (_name, actor, requested, required, kind, message) => {
    const call = () => resolveTenant(actor, requested, { field: "tenant_id", required });
    expect(call).toThrow(expect.objectContaining({ kind }));
    expect(call).toThrow(message);
  });
});

describe("canSeeKey", () => {
  const key = (tenantId: string, userId: string, deleted = false) => ({
    tenantId,
    userId,
    deletedAt: deleted ? new Date(0) : null,
  });
  it.each<[string, Actor, ReturnType<typeof key>, boolean]>([
    ["super user, any tenant", superuser, key("other", ""), true],
    ["super user, deleted key", superuser, key("other", "", true), true],
    ["admin, own tenant", admin, key("acme", "x"), true],
    ["admin, own tenant, deleted", admin, key("acme", "x", true), true],
    ["admin, other tenant", admin, key("other", "x"), false],
    ["holder, own user", holder, key("acme", "bob"), true],
    ["holder, own user, deleted", holder, key("acme", "bob", true), false],
    ["holder, other user", holder, key("acme", "alice"), false],
    ["holder, same user id in another tenant", holder, key("other", "bob"), false],
    ["holder without user, key without user", anonymousHolder, key("acme", ""), false],
  ])("%s", (_name, actor, record, visible) => {
    expect(canSeeKey(actor, record)).toBe(visible);
  });

  it.each<[Actor, string, boolean]>([
    [superuser, "other", true],
    [admin, "acme", true],
    [admin, "other", false],
    [holder, "acme", false],
  ])("canSeeTenantResource(%o, %s) = %s", (actor, tenantId, visible) => {
    expect(canSeeTenantResource(actor, tenantId)).toBe(visible);
  });
});

describe("role requirements", () => {
  it.each<[string, () => void, boolean]>([
    ["requireAdmin lets an admin through", () => requireAdmin(admin), true],
    ["requireAdmin lets a super user through", () => requireAdmin(superuser), true],
    ["requireAdmin refuses a key holder", () => requireAdmin(holder), false],
    ["requireSuperuser refuses an admin", () => requireSuperuser(admin), false],
    ["requireSuperuser lets a super user through", () => requireSuperuser(superuser), true],
    ["requireOwnUser lets a key holder with a user through", () => requireOwnUser(holder), true],
    ["requireOwnUser refuses a key holder without a user", () => requireOwnUser(anonymousHolder), false],
    [
      "requireOwnUser lets an admin without a user through",
      () => requireOwnUser({ ...admin, userId: "" }),
      true,
    ],
  ])("%s", (_name, call, passes) => {
    if (passes) {
      expect(call).not.toThrow();
    } else {
      expect(call).toThrow(expect.objectContaining({ kind: "permission_denied" }));
    }
  });
});

describe("createAdminAuthenticator", () => {
  const seen: Array<[string, string | null]> = [];
  const access = createAdminAuthenticator({
    async authenticate(candidate, peerIp) {
      seen.push([candidate, peerIp]);
      if (candidate === "down") {
        throw new DomainError("unavailable", KEY_STORE_UNAVAILABLE);
      }
      return candidate === "good"
        ? authenticated({ keyId: "ak_good", permissions: ["apikeys:admin"] })
        : null;
    },
  });

  it("resolves the actor of a valid key, passing the peer address on", async () => {
    await expect(access.authenticate("good", "10.1.2.3")).resolves.toMatchObject({
      keyId: "ak_good",
      role: "tenant_admin",
    });
    expect(seen.at(-1)).toEqual(["good", "10.1.2.3"]);
  });

  it.each([null, ""])(
    "refuses a missing credential (%o) without asking the authenticator",
    async (candidate) => {
      const before = seen.length;
      await expect(access.authenticate(candidate, null)).rejects.toHaveProperty("kind", "unauthenticated");
      expect(seen).toHaveLength(before);
    },
  );

  it("refuses a key that does not verify with UNAUTHENTICATED", async () => {
    await expect(access.authenticate("bad", null)).rejects.toHaveProperty("kind", "unauthenticated");
  });

  it("passes UNAVAILABLE through (never a false UNAUTHENTICATED)", async () => {
    await expect(access.authenticate("down", null)).rejects.toHaveProperty("kind", "unavailable");
  });
});
