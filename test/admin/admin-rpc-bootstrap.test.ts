/**
 * Bootstrap over real servers, on both transports: one-shot (the first super-user key, then refused whatever
 * is sent, force included, and still after every super-user key is revoked), a wrong token refused, failed
 * attempts throttled per caller address, and disabled on a server without BOOTSTRAP_TOKEN.
 *
 * The throttle allows 5 failed attempts a minute per address, and every call here comes from 127.0.0.1:
 * the tests before the throttle test make at most 5 failed attempts between them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
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
  it("was done once at start: a second run is refused, even with force", async () => {
    const failure = await rpcFailure(
      withToken.api(transport).bootstrap({
        bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN,
        name: `break glass ${transport}`,
        force: true,
      }),
    );
    expect(failure.code).toBe("FAILED_PRECONDITION");
    expect(failure.reason).toBe("SUPERUSER_EXISTS");
    expect(failure.message).toContain("already been done");
    expect(await withToken.server.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(1);
  });

  it("refuses a wrong token with UNAUTHENTICATED", async () => {
    const failure = await rpcFailure(
      withToken.api(transport).bootstrap({ bootstrapToken: `${ADMIN_SERVER_BOOTSTRAP_TOKEN} `, force: true }),
    );
    expect(failure.code).toBe("UNAUTHENTICATED");
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
  it("stays refused: a lost super user is recovered offline, not through the token", async () => {
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
    const again = await rpcFailure(api.bootstrap({ bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN }));
    expect(again.code).toBe("FAILED_PRECONDITION");
    expect(await withToken.server.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(1);
  });
});

describe("failed bootstrap attempts", () => {
  it("are throttled per address: once over the limit, even the right token is RESOURCE_EXHAUSTED", async () => {
    const codes: string[] = [];
    for (let attempt = 0; attempt < 6 && !codes.includes("RESOURCE_EXHAUSTED"); attempt++) {
      const failure = await rpcFailure(
        withToken
          .api(attempt % 2 === 0 ? "grpc-js" : "connect")
          .bootstrap({ bootstrapToken: "a wrong guess" }),
      );
      codes.push(failure.code);
    }
    // At most 5 failures a minute: the sixth attempt of this test at the latest is refused.
    expect(codes.at(-1)).toBe("RESOURCE_EXHAUSTED");
    expect(codes.slice(0, -1).every((code) => code === "UNAUTHENTICATED")).toBe(true);
    for (const transport of TRANSPORTS) {
      const refused = await rpcFailure(
        withToken.api(transport).bootstrap({ bootstrapToken: ADMIN_SERVER_BOOTSTRAP_TOKEN }),
      );
      expect(refused.code).toBe("RESOURCE_EXHAUSTED");
      expect(refused.reason).toBe("TOO_MANY_FAILED_ATTEMPTS");
      expect(refused.message).toMatch(
        /too many failed bootstrap attempts from this address; try again in \d+ s/,
      );
    }
    expect(await withToken.server.db.collection("keys").countDocuments({ tenantId: "_system" })).toBe(1);
  });
});
