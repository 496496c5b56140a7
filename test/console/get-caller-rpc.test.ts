/**
 * GetCaller over both transports: it tells each kind of key who it is and what it may do (the console shows
 * its pages from this), refuses a missing or bad key, and never carries the secret.
 */
import { describe, expect, it } from "vitest";
import { CallerRole } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { uniqueTenant } from "../admin/helpers/admin-fixture.js";
import { rpcFailure, TRANSPORTS, useAdminServer } from "../admin/helpers/admin-server.js";
import { ensureTenant } from "./helpers/ensure-tenant.js";

const admin = useAdminServer("getcaller");

describe.each(TRANSPORTS)("GetCaller over %s", (transport) => {
  const api = () => admin.api(transport);

  it("describes a super user, a tenant admin (own or group permission) and a key holder", async () => {
    const su = admin.superuserKey();
    const superuser = await api().getCaller({}, { key: su });
    expect(superuser).toMatchObject({ tenantId: "_system", userId: "", role: CallerRole.SUPERUSER });
    expect(su.startsWith(`${superuser.keyId}_`)).toBe(true);

    const tenantId = uniqueTenant(transport === "grpc-js" ? "g" : "c");
    await ensureTenant(api(), tenantId, { key: su });
    const tenantAdmin = await api().createKey(
      { tenantId, name: "tenant admin", userId: "ops", permissions: ["apikeys:admin"] },
      { key: su },
    );
    expect(await api().getCaller({}, { key: tenantAdmin.secret })).toMatchObject({
      keyId: tenantAdmin.key!.keyId,
      tenantId,
      userId: "ops",
      role: CallerRole.TENANT_ADMIN,
    });

    const admins = await api().createGroup(
      { tenantId, name: "Admins", permissions: ["apikeys:admin"] },
      { key: su },
    );
    const viaGroup = await api().createKey(
      { tenantId, name: "admin by group", groupId: admins.group!.groupId },
      { key: su },
    );
    expect((await api().getCaller({}, { key: viaGroup.secret })).role).toBe(CallerRole.TENANT_ADMIN);

    const holder = await api().createKey(
      { tenantId, name: "alice's key", userId: "alice", permissions: ["orders:read"] },
      { key: su },
    );
    const described = await api().getCaller({}, { key: holder.secret });
    expect(described).toMatchObject({
      keyId: holder.key!.keyId,
      tenantId,
      userId: "alice",
      role: CallerRole.KEY_HOLDER,
    });
    expect(JSON.stringify(described)).not.toContain(holder.secretKey);
  });

  it("answers UNAUTHENTICATED without a key, with a bad one, and with a revoked one", async () => {
    expect((await rpcFailure(api().getCaller({}))).code).toBe("UNAUTHENTICATED");
    expect((await rpcFailure(api().getCaller({}, { key: "ak_live_nope" }))).code).toBe("UNAUTHENTICATED");
    const su = admin.superuserKey();
    const tenantId = uniqueTenant("r");
    await ensureTenant(api(), tenantId, { key: su });
    const doomed = await api().createKey({ tenantId, name: "soon revoked" }, { key: su });
    await api().revokeKey({ keyId: doomed.key!.keyId }, { key: su });
    expect((await rpcFailure(api().getCaller({}, { key: doomed.secret }))).code).toBe("UNAUTHENTICATED");
  });
});
