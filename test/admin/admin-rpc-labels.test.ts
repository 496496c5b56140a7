/**
 * Labels on keys and groups, on both transports: set at create, replaced through the `labels` mask path,
 * returned by VerifyKey for a valid key only, and one label equality filters ListKeys.
 */
import { describe, expect, it } from "vitest";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createGrpcJsClient } from "../helpers/grpc-client.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("adminlabels");

describe.each(TRANSPORTS)("labels over %s", (transport) => {
  const api = (): AdminApi => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });
  const verify = async (secret: string, requiredPermissions: string[] = []) => {
    const client = createGrpcJsClient(KeyVerifyService, admin.server.grpcAddress);
    try {
      return await client.verifyKey({ credential: { case: "key", value: secret }, requiredPermissions });
    } finally {
      client.close();
    }
  };

  it("keys carry labels from create and update, VerifyKey returns them for a valid key, ListKeys filters by one", async () => {
    const tenantId = uniqueTenant(transport === "grpc-js" ? "lg" : "lc");
    const gold = await api().createKey(
      { tenantId, name: "gold customer", labels: { tier: "gold", "customer.id": "c-42" } },
      su(),
    );
    const silver = await api().createKey(
      { tenantId, name: "silver customer", labels: { tier: "silver" } },
      su(),
    );
    await api().createKey({ tenantId, name: "unlabelled" }, su());
    expect(gold.key?.labels).toEqual({ tier: "gold", "customer.id": "c-42" });
    expect(await verify(gold.secret)).toMatchObject({
      code: VerificationCode.VALID,
      labels: { tier: "gold", "customer.id": "c-42" },
    });
    expect((await verify(gold.secret, ["missing:perm"])).labels).toEqual({});

    const byTier = await api().listKeys({ tenantId, label: "tier=gold" }, su());
    expect(byTier.keys.map((key) => key.keyId)).toEqual([gold.key!.keyId]);
    expect((await api().listKeys({ tenantId, label: "customer.id=c-42" }, su())).keys).toHaveLength(1);
    expect((await api().listKeys({ tenantId, label: "tier=" }, su())).keys).toHaveLength(0);

    const updated = await api().updateKey(
      { key: { keyId: silver.key!.keyId, labels: { tier: "gold" } }, updateMask: { paths: ["labels"] } },
      su(),
    );
    expect(updated.key?.labels).toEqual({ tier: "gold" });
    expect(await verify(silver.secret)).toMatchObject({ labels: { tier: "gold" } });
    expect((await api().listKeys({ tenantId, label: "tier=gold" }, su())).keys).toHaveLength(2);
    const cleared = await api().updateKey(
      { key: { keyId: silver.key!.keyId }, updateMask: { paths: ["labels"] } },
      su(),
    );
    expect(cleared.key?.labels).toEqual({});
  });

  it("groups carry labels from create and update", async () => {
    const tenantId = uniqueTenant("lgrp");
    const group = await api().createGroup({ tenantId, name: "partners", labels: { region: "eu" } }, su());
    expect(group.group?.labels).toEqual({ region: "eu" });
    const updated = await api().updateGroup(
      {
        group: { groupId: group.group!.groupId, labels: { region: "us" } },
        updateMask: { paths: ["labels"] },
      },
      su(),
    );
    expect(updated.group?.labels).toEqual({ region: "us" });
    expect((await api().getGroup({ groupId: group.group!.groupId }, su())).group?.labels).toEqual({
      region: "us",
    });
  });

  it("a key holder filters its own keys by label too", async () => {
    const tenantId = uniqueTenant("lhold");
    const holder = await api().createKey(
      { tenantId, name: "holder", userId: "u1", labels: { plan: "pro" } },
      su(),
    );
    await api().createKey({ tenantId, name: "other", userId: "u2", labels: { plan: "pro" } }, su());
    const mine = await api().listKeys({ label: "plan=pro" }, { key: holder.secret });
    expect(mine.keys.map((key) => key.keyId)).toEqual([holder.key!.keyId]);
    expect((await rpcFailure(api().listKeys({ tenantId, label: "plan" }, su()))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
