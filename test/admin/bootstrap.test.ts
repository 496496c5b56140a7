/**
 * Bootstrap on the real storage: the first super-user key, once — refused afterwards whatever is sent, also
 * once that key is revoked; disabled without a configured token; the token is checked before anything else;
 * failed attempts throttled per caller address.
 */
import { describe, expect, it } from "vitest";
import { createBootstrapper } from "../../src/domain/bootstrap.js";
import { createFailedAttemptThrottle } from "../../src/domain/failed-attempt-throttle.js";
import {
  ADMIN_TEST_BOOTSTRAP_TOKEN,
  actorFor,
  createInput,
  systemRandom,
  uniqueTenant,
  useAdminFixture,
} from "./helpers/admin-fixture.js";

const fixture = useAdminFixture("bootstrap");
// A second database, where no super-user key was ever issued, for the race of first bootstraps.
const untouched = useAdminFixture("bootstraprace");
const { bootstrapper } = fixture;
const token = ADMIN_TEST_BOOTSTRAP_TOKEN;

describe("Bootstrap", () => {
  // Each test calls from its own address, so the throttle of one test never refuses another's calls.
  it("refuses a wrong or empty token without creating anything", async () => {
    for (const wrong of ["", "nope", `${token}x`, token.slice(0, -1)]) {
      await expect(
        bootstrapper.bootstrap({ token: wrong, name: "", peer: "10.0.0.1" }),
      ).rejects.toHaveProperty("kind", "unauthenticated");
    }
    expect(await fixture.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(0);
  });

  it("creates the first super-user key once, then refuses whatever it is sent, also after it is revoked", async () => {
    const first = await bootstrapper.bootstrap({ token, name: "", peer: "10.0.0.2" });
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

    const again = bootstrapper.bootstrap({ token, name: "break glass", peer: "10.0.0.2" });
    await expect(again).rejects.toHaveProperty("kind", "failed_precondition");
    await expect(again).rejects.toMatchObject({ reason: "SUPERUSER_EXISTS" });
    // A request with the old `force` flag is the same request to the domain: refused.
    const forced = bootstrapper.bootstrap({ token, name: "", peer: "10.0.0.2", force: true } as never);
    await expect(forced).rejects.toMatchObject({ reason: "SUPERUSER_EXISTS" });

    await fixture.keyAdmin.revokeKey(superuser, { keyId: first.key.id, reason: "", requestId: "" });
    const afterRevoke = bootstrapper.bootstrap({ token, name: "", peer: "10.0.0.2" });
    await expect(afterRevoke).rejects.toMatchObject({ reason: "SUPERUSER_EXISTS" });
    expect(await fixture.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(1);
    const actions = fixture.audit.events.filter(
      (e) => e.detail.kind === "admin" && e.detail.actorKeyId === "bootstrap",
    );
    expect(actions).toHaveLength(1);
  });

  it("lets only one of several concurrent first bootstraps through", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        untouched.bootstrapper.bootstrap({ token, name: "", peer: `10.1.0.${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(["aborted", "failed_precondition"].includes(result.reason.kind)).toBe(true);
      }
    }
  });

  it("throttles failed attempts per address: the 6th within a minute is refused, the right token too", async () => {
    const throttled = createBootstrapper({ ...bootstrapperDeps(), throttle: createFailedAttemptThrottle() });
    const from = (peer: string, guess: string) => throttled.bootstrap({ token: guess, name: "", peer });
    for (let i = 0; i < 5; i++) {
      await expect(from("10.2.0.1", `guess ${i}`)).rejects.toHaveProperty("kind", "unauthenticated");
    }
    for (const guess of ["guess 6", token]) {
      const refused = from("10.2.0.1", guess);
      await expect(refused).rejects.toHaveProperty("kind", "resource_exhausted");
      await expect(refused).rejects.toMatchObject({ reason: "TOO_MANY_FAILED_ATTEMPTS" });
    }
    // Another address is not affected, and the refusal ends with the minute.
    await expect(from("10.2.0.2", "guess")).rejects.toHaveProperty("kind", "unauthenticated");
    fixture.clock.advance(60_000);
    await expect(from("10.2.0.1", "guess")).rejects.toHaveProperty("kind", "unauthenticated");
  });

  it("is disabled when the server has no bootstrap token", async () => {
    const disabled = createBootstrapper({ ...bootstrapperDeps(), bootstrapToken: null });
    for (const given of ["", token]) {
      const call = disabled.bootstrap({ token: given, name: "", peer: "10.3.0.1" });
      await expect(call).rejects.toHaveProperty("kind", "failed_precondition");
      await expect(call).rejects.toMatchObject({ reason: "BOOTSTRAP_DISABLED" });
    }
  });
});

function bootstrapperDeps() {
  return {
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
    bootstrapToken: token,
  };
}
