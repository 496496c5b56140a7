/**
 * Etags (AIP-154) on keys, groups and tenants, on both transports: every read carries one, a change sent with
 * a stale one answers ABORTED (ETAG_MISMATCH) and changes nothing, and of concurrent changes sent with the
 * same etag exactly one succeeds. Without an etag the behaviour is unchanged.
 */
import { describe, expect, it } from "vitest";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("adminetags");

describe.each(TRANSPORTS)("etags over %s", (transport) => {
  const api = (): AdminApi => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });
  const stale = async (call: Promise<unknown>) => {
    const failure = await rpcFailure(call);
    expect([failure.code, failure.reason]).toEqual(["ABORTED", "ETAG_MISMATCH"]);
    expect(failure.message).toContain("etag");
  };

  it("two concurrent updates of a key with the same etag: exactly one succeeds, the other is ABORTED", async () => {
    const tenantId = uniqueTenant(transport === "grpc-js" ? "eg" : "ec");
    const created = await api().createKey({ tenantId, name: "contested" }, su());
    const { keyId, etag } = created.key!;
    const results = await Promise.allSettled(
      ["first writer", "second writer", "third writer"].map((name) =>
        api().updateKey({ key: { keyId, name, etag }, updateMask: { paths: ["name"] } }, su()),
      ),
    );
    const won = results.filter((result) => result.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        await stale(Promise.reject(result.reason));
      }
    }
    const stored = await admin.server.db.collection(KEYS_COLLECTION).findOne({ _id: keyId as never });
    expect(stored?.version).toBe(2);
    const after = (await api().getKey({ keyId }, su())).key!;
    expect(after.etag).not.toBe(etag);
    expect(after.name).toBe((won[0] as PromiseFulfilledResult<{ key?: { name: string } }>).value.key?.name);
  });

  it("a stale etag refuses rotate, disable, enable, revoke and delete, changing nothing; the current one works", async () => {
    const tenantId = uniqueTenant("estale");
    const created = await api().createKey({ tenantId, name: "guarded" }, su());
    const keyId = created.key!.keyId;
    const old = created.key!.etag;
    const renamed = await api().updateKey(
      { key: { keyId, name: "renamed" }, updateMask: { paths: ["name"] } },
      su(),
    );
    const current = renamed.key!.etag;
    await stale(api().rotateKey({ keyId, etag: old }, su()));
    await stale(api().disableKey({ keyId, etag: old }, su()));
    await stale(api().enableKey({ keyId, etag: old }, su()));
    await stale(api().revokeKey({ keyId, etag: old }, su()));
    await stale(api().deleteKey({ keyId, etag: old }, su()));
    await stale(
      api().updateKey({ key: { keyId, name: "lost", etag: old }, updateMask: { paths: ["name"] } }, su()),
    );
    expect((await api().getKey({ keyId }, su())).key).toMatchObject({ name: "renamed", etag: current });
    const disabled = await api().disableKey({ keyId, etag: current }, su());
    const rotated = await api().rotateKey({ keyId, etag: disabled.key!.etag }, su());
    admin.remember(rotated);
    const revoked = await api().revokeKey({ keyId, etag: rotated.key!.etag }, su());
    await api().deleteKey({ keyId, etag: revoked.key!.etag }, su());
    const bad = await rpcFailure(api().revokeKey({ keyId: created.key!.keyId, etag: "not an etag" }, su()));
    expect(bad.code).toBe("INVALID_ARGUMENT");
  });

  it("groups and tenants: a stale etag is refused, the current one accepted", async () => {
    const tenantId = uniqueTenant("egrp");
    const group = (await api().createGroup({ tenantId, name: "guarded group" }, su())).group!;
    const updated = (
      await api().updateGroup(
        {
          group: { groupId: group.groupId, description: "v2", etag: group.etag },
          updateMask: { paths: ["description"] },
        },
        su(),
      )
    ).group!;
    await stale(
      api().updateGroup(
        {
          group: { groupId: group.groupId, description: "v3", etag: group.etag },
          updateMask: { paths: ["description"] },
        },
        su(),
      ),
    );
    await stale(api().deleteGroup({ groupId: group.groupId, etag: group.etag }, su()));
    await api().deleteGroup({ groupId: group.groupId, etag: updated.etag }, su());

    const tenant = (await api().getTenant({ tenantId }, su())).tenant!;
    const limited = (await api().updateTenant({ tenantId, keyLimit: 5, etag: tenant.etag }, su())).tenant!;
    expect(limited.etag).not.toBe(tenant.etag);
    await stale(api().updateTenant({ tenantId, keyLimit: 6, etag: tenant.etag }, su()));
    // A key created meanwhile changes the usage, not the tenant's configuration: the etag still holds.
    await api().createKey({ tenantId, name: "counted" }, su());
    expect((await api().getTenant({ tenantId }, su())).tenant?.etag).toBe(limited.etag);
    await api().updateTenant({ tenantId, keyLimit: 6, etag: limited.etag }, su());
  });
});
