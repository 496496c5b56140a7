/**
 * Bootstrap over real servers, on both transports: the first super-user key once, refused while one is
 * active unless forced, a wrong token refused, and disabled on a server without BOOTSTRAP_TOKEN.
 */
import { afterAll, describe, expect, it } from "vitest";
import { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import {
  ADMIN_SERVER_BOOTSTRAP_TOKEN,
  rpcFailure,
  TRANSPORTS,
  useAdminServer,
} from "./helpers/admin-server.js";

const withToken = useAdminServer("bootrpc");
const withoutToken = useAdminServer("bootrpcoff", { BOOTSTRAP_TOKEN: "" });

afterAll(async () => {
  await withToken.expectNoSecretLeaks();
});

describe.each(TRANSPORTS)("Bootstrap over %s", (transport) => {
  it("was done once at start: a second run is refused while the super-user key is active", async () => {
    const failure = await rpcFailure(
      withToken.api(transport).bootstrap({ bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN }),
    );
    expect(failure.code).toBe("FAILED_PRECONDITION");
    expect(failure.message).toContain("force");
  });

  it("refuses a wrong token with UNAUTHENTICATED, even with force", async () => {
    for (const bootstrapToken of ["", "wrong", `${ADMIN_SERVER_BOOTSTRAP_TOKEN} `]) {
      const failure = await rpcFailure(withToken.api(transport).bootstrap({ bootstrapToken, force: true }));
      expect(failure.code).toBe("UNAUTHENTICATED");
    }
  });

  it("creates another super-user key with force, which manages every tenant", async () => {
    const api = withToken.api(transport);
    const forced = await api.bootstrap({
      bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN,
      name: `break glass ${transport}`,
      force: true,
    });
    expect(forced.key).toMatchObject({
      tenantId: "_system",
      name: `break glass ${transport}`,
      permissions: ["apikeys:superuser"],
      createdBy: "bootstrap",
      status: KeyStatus.ACTIVE,
    });
    expect(forced.secret.startsWith(`${forced.key!.keyId}_`)).toBe(true);
    const tenantId = uniqueTenant("boot");
    await expect(
      api.createKey({ tenantId, name: "made by root" }, { key: forced.secret }),
    ).resolves.toBeDefined();
    await expect(api.listKeys({ tenantId: "_system" }, { key: forced.secret })).resolves.toMatchObject({
      keys: expect.arrayContaining([expect.objectContaining({ keyId: forced.key!.keyId })]),
    });
    // Tidy up: only the start-up key stays active.
    await api.revokeKey({ keyId: forced.key!.keyId }, { key: withToken.superuserKey() });
  });

  it("is disabled on a server without BOOTSTRAP_TOKEN", async () => {
    for (const bootstrapToken of ["", "anything at all"]) {
      const failure = await rpcFailure(
        withoutToken.api(transport).bootstrap({ bootstrapToken, force: true }),
      );
      expect(failure.code).toBe("FAILED_PRECONDITION");
      expect(failure.message).toContain("BOOTSTRAP_TOKEN");
    }
    expect(await withoutToken.server.db.collection("keys").countDocuments({})).toBe(0);
  });
});

describe("bootstrap after every super-user key is revoked", () => {
  it("works again without force", async () => {
    const api = withToken.api("connect");
    const root = withToken.superuserKey();
    const listing = await api.listKeys({ tenantId: "_system", status: KeyStatus.ACTIVE }, { key: root });
    // Revoke the caller's own key last: it authorises the revocations before it.
    const own = listing.keys.find((key) => root.startsWith(`${key.keyId}_`));
    for (const key of listing.keys.filter((k) => k !== own)) {
      await api.revokeKey({ keyId: key.keyId }, { key: root });
    }
    await api.revokeKey({ keyId: own!.keyId }, { key: root });
    expect((await rpcFailure(api.getTenant({}, { key: root }))).code).toBe("UNAUTHENTICATED");
    const again = await api.bootstrap({ bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN });
    expect(again.secret).not.toBe("");
  });
});
