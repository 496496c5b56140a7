/**
 * Bootstrap on the real storage: the first super-user key, once; refused while one is active unless forced;
 * disabled without a configured token; the token is checked before anything else.
 */
import { describe, expect, it } from "vitest";
import { createBootstrapper } from "../../src/domain/bootstrap.js";
import {
  ADMIN_TEST_BOOTSTRAP_TOKEN,
  actorFor,
  createInput,
  systemRandom,
  uniqueTenant,
  useAdminFixture,
} from "./helpers/admin-fixture.js";

const fixture = useAdminFixture("bootstrap");
const { bootstrapper } = fixture;
const token = ADMIN_TEST_BOOTSTRAP_TOKEN;

describe("Bootstrap", () => {
  it("refuses a wrong or empty token without creating anything", async () => {
    for (const wrong of ["", "nope", `${token}x`, token.slice(0, -1)]) {
      await expect(bootstrapper.bootstrap({ token: wrong, name: "", force: false })).rejects.toHaveProperty(
        "kind",
        "unauthenticated",
      );
    }
    expect(await fixture.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(0);
  });

  it("creates the first super-user key once, refuses a second time, and creates another with force", async () => {
    const first = await bootstrapper.bootstrap({ token, name: "", force: false });
    expect(first.key).toMatchObject({
      tenantId: "_system",
      name: "bootstrap super user",
      permissions: ["apikeys:superuser"],
      createdBy: "bootstrap",
      status: "active",
    });
    const superuser = await actorFor(fixture, first);
    expect(superuser.role).toBe("superuser");
    // The new super user can act on any tenant.
    await expect(fixture.keyAdmin.createKey(superuser, createInput(uniqueTenant()))).resolves.toBeDefined();

    const again = bootstrapper.bootstrap({ token, name: "", force: false });
    await expect(again).rejects.toHaveProperty("kind", "failed_precondition");
    await expect(again).rejects.toMatchObject({ reason: "SUPERUSER_EXISTS" });

    const forced = await bootstrapper.bootstrap({ token, name: "break glass", force: true });
    expect(forced.key.name).toBe("break glass");
    expect(forced.key.id).not.toBe(first.key.id);

    // With every super-user key revoked, bootstrap works again without force.
    for (const id of [first.key.id, forced.key.id]) {
      await fixture.keyAdmin.revokeKey(superuser, { keyId: id, reason: "", requestId: "" });
    }
    const third = await bootstrapper.bootstrap({ token, name: "", force: false });
    expect((await actorFor(fixture, third)).role).toBe("superuser");
    const actions = fixture.audit.events.filter(
      (e) => e.detail.kind === "admin" && e.detail.actorKeyId === "bootstrap",
    );
    expect(actions).toHaveLength(3);
  });

  it("lets only one of several concurrent bootstraps through", async () => {
    // A separate fixture state: revoke whatever the previous test left active.
    const active = await fixture.db
      .collection("keys")
      .find({ tenantId: "_system", revokedAt: null })
      .project({ _id: 1 })
      .toArray();
    for (const { _id } of active) {
      await fixture.keyAdmin.revokeKey(fixture.superuser, { keyId: String(_id), reason: "", requestId: "" });
    }
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => bootstrapper.bootstrap({ token, name: "", force: false })),
    );
    const created = results.filter((r) => r.status === "fulfilled");
    expect(created).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(["aborted", "failed_precondition"].includes(result.reason.kind)).toBe(true);
      }
    }
  });

  it("is disabled when the server has no bootstrap token", async () => {
    const disabled = createBootstrapper({
      keys: fixture.keys,
      tenants: fixture.tenants,
      random: systemRandom,
      keyFormat: fixture.keyFormat,
      hasher: fixture.hasher,
      defaultKeyLimit: 10,
      idempotency: fixture.idempotency,
      audit: fixture.audit,
      clock: fixture.clock,
      expiringSoonWindowMs: 0,
      bootstrapToken: null,
    });
    for (const given of ["", token]) {
      const call = disabled.bootstrap({ token: given, name: "", force: true });
      await expect(call).rejects.toHaveProperty("kind", "failed_precondition");
      await expect(call).rejects.toMatchObject({ reason: "BOOTSTRAP_DISABLED" });
    }
  });
});
