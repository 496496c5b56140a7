/**
 * DisableKey / EnableKey on both transports: reversible, audited, shown in the status and the listing filter,
 * the key keeps its tenant slot, VerifyKey answers DISABLED (401) meanwhile; admins only.
 */
import { describe, expect, it } from "vitest";
import { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { createGrpcJsClient } from "../helpers/grpc-client.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("admindisable");

describe.each(TRANSPORTS)("disable and enable over %s", (transport) => {
  const api = (): AdminApi => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });
  const verify = async (secret: string) => {
    const client = createGrpcJsClient(KeyVerifyService, admin.server.grpcAddress);
    try {
      return await client.verifyKey({ credential: { case: "key", value: secret } });
    } finally {
      client.close();
    }
  };

  it("disables and enables a key: DISABLED meanwhile, status and filter show it, the slot stays taken, both audited", async () => {
    const tenantId = uniqueTenant(transport === "grpc-js" ? "dg" : "dc");
    const created = await api().createKey({ tenantId, name: "suspended integration" }, su());
    const keyId = created.key!.keyId;
    const disabled = await api().disableKey({ keyId, reason: "investigating abuse" }, su());
    expect(disabled.key).toMatchObject({
      status: KeyStatus.DISABLED,
      disableReason: "investigating abuse",
      disabledBy: expect.stringMatching(/\S/),
    });
    expect(disabled.key?.disableTime).toBeDefined();
    expect(await verify(created.secret)).toMatchObject({
      valid: false,
      code: VerificationCode.DISABLED,
      httpStatus: 401,
      keyId,
    });
    // Disabling again changes nothing (no second event).
    await api().disableKey({ keyId, reason: "again" }, su());
    expect((await api().getKey({ keyId }, su())).key?.disableReason).toBe("investigating abuse");
    const listed = await api().listKeys({ tenantId, status: KeyStatus.DISABLED }, su());
    expect(listed.keys.map((key) => key.keyId)).toEqual([keyId]);
    expect((await api().listKeys({ tenantId, status: KeyStatus.ACTIVE }, su())).keys).toEqual([]);
    expect(listed.tenant?.usedKeys).toBe(1);

    const enabled = await api().enableKey({ keyId }, su());
    expect(enabled.key).toMatchObject({ status: KeyStatus.ACTIVE, disableReason: "", disabledBy: "" });
    expect(enabled.key?.disableTime).toBeUndefined();
    expect(await verify(created.secret)).toMatchObject({ valid: true, code: VerificationCode.VALID });
    await api().enableKey({ keyId }, su());
    const actions = (
      await admin.server.db
        .collection(AUDIT_EVENTS_COLLECTION)
        .find({ "detail.kind": "admin", "detail.keyId": keyId })
        .sort({ _id: 1 })
        .toArray()
    ).map((event) => [event.detail.action, event.detail.changedFields.join(",")]);
    expect(actions).toEqual([
      ["key_created", "name"],
      ["key_disabled", "disable_time,disable_reason"],
      ["key_enabled", "disable_time"],
    ]);
  });

  it("a revoked key can be neither disabled nor enabled; a deleted one is not found", async () => {
    const tenantId = uniqueTenant("drev");
    const revoked = (await api().createKey({ tenantId, name: "gone" }, su())).key!.keyId;
    await api().revokeKey({ keyId: revoked }, su());
    for (const call of [
      () => api().disableKey({ keyId: revoked }, su()),
      () => api().enableKey({ keyId: revoked }, su()),
    ]) {
      const failure = await rpcFailure(call());
      expect([failure.code, failure.reason]).toEqual(["FAILED_PRECONDITION", "KEY_REVOKED"]);
    }
    const deleted = (await api().createKey({ tenantId, name: "deleted" }, su())).key!.keyId;
    await api().deleteKey({ keyId: deleted }, su());
    expect((await rpcFailure(api().disableKey({ keyId: deleted }, su()))).code).toBe("NOT_FOUND");
  });

  it("access: a tenant admin switches its own tenant's keys; another tenant's key is NOT_FOUND; an ordinary key is refused", async () => {
    const tenantId = uniqueTenant("dacc");
    const adminKey = {
      key: (await api().createKey({ tenantId, name: "adm", permissions: ["apikeys:admin"] }, su())).secret,
    };
    const target = await api().createKey({ tenantId, name: "target", userId: "u1" }, su());
    const holder = { key: (await api().createKey({ tenantId, name: "holder", userId: "u1" }, su())).secret };
    const foreign = (await api().createKey({ tenantId: uniqueTenant("dfor"), name: "foreign" }, su())).key!
      .keyId;
    const keyId = target.key!.keyId;
    expect((await api().disableKey({ keyId }, adminKey)).key?.status).toBe(KeyStatus.DISABLED);
    expect((await api().enableKey({ keyId }, adminKey)).key?.status).toBe(KeyStatus.ACTIVE);
    expect((await rpcFailure(api().disableKey({ keyId: foreign }, adminKey))).code).toBe("NOT_FOUND");
    expect((await rpcFailure(api().disableKey({ keyId }, holder))).code).toBe("PERMISSION_DENIED");
    expect((await rpcFailure(api().enableKey({ keyId }, holder))).code).toBe("PERMISSION_DENIED");
    // A disabled admin key no longer authenticates.
    const adminKeyId = (await api().getCaller({}, adminKey)).keyId;
    await api().disableKey({ keyId: adminKeyId }, su());
    expect((await rpcFailure(api().getCaller({}, adminKey))).code).toBe("UNAUTHENTICATED");
  });
});
