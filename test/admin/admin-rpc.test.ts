/**
 * KeyAdminService over real servers, on both transports (grpc-js on the gRPC port, Connect JSON on the HTTP
 * port), against the real MongoDB-wire server: every RPC end to end, the caller's address against its
 * allowlist, request ids, the tenant-limit race, and the secret never coming back. Header forms, roles and
 * tenant isolation are tested in memory (test/handlers/key-admin-handler.test.ts).
 */
import { toBinary, toJsonString } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import {
  GetKeyResponseSchema,
  ListKeysResponseSchema,
} from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const DAY = 86_400_000;
const admin = useAdminServer("adminrpc");

afterAll(async () => {
  await admin.expectNoSecretLeaks();
});

describe.each(TRANSPORTS)("KeyAdminService over %s", (transport) => {
  const api = (): AdminApi => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });

  /** tenantAdmin creates a tenant admin key for a fresh tenant. */
  async function tenantAdmin(): Promise<{ tenantId: string; key: string }> {
    const tenantId = uniqueTenant(transport === "grpc-js" ? "g" : "c");
    const created = await api().createKey(
      { tenantId, name: "tenant admin", permissions: ["apikeys:admin"] },
      su(),
    );
    return { tenantId, key: created.secret };
  }

  it("runs the whole lifecycle: groups, create, get, list, update, rotate, revoke, delete, tenant", async () => {
    const { tenantId, key } = await tenantAdmin();
    const as = { key };
    const group = await api().createGroup(
      { tenantId, name: "Order readers", permissions: ["orders:read"], requestId: "g-1" },
      as,
    );
    expect(group.group).toMatchObject({
      tenantId,
      name: "Order readers",
      permissions: ["orders:read"],
      keyCount: 0,
    });
    const groupId = group.group!.groupId;

    const expiry = new Date(Date.now() + 30 * DAY);
    const created = await api().createKey(
      {
        tenantId,
        name: "ERP Inventory Sync",
        description: "syncs stock",
        userId: "user-1",
        groupId,
        permissions: ["inventory:write"],
        ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
        expireTime: timestampFromDate(expiry),
        requestId: "create-1",
      },
      as,
    );
    expect(created.secret).toBe(`${created.key!.keyId}_${created.secretKey}`);
    expect(created.secretAlreadyIssued).toBe(false);
    expect(created.key).toMatchObject({
      tenantId,
      name: "ERP Inventory Sync",
      userId: "user-1",
      groupId,
      permissions: ["inventory:write"],
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
      status: KeyStatus.ACTIVE,
      expirationState: ExpirationState.VALID,
    });
    const keyId = created.key!.keyId;

    const got = await api().getKey({ keyId }, as);
    expect(got.key?.displayHint).toBe(created.key?.displayHint);
    expect(got.key?.expireTime?.seconds).toBe(BigInt(Math.floor(expiry.getTime() / 1000)));

    const listed = await api().listKeys({ tenantId }, as);
    expect(listed.keys.map((k) => k.keyId)).toEqual([keyId, expect.any(String)]);
    expect(listed.tenant).toMatchObject({ tenantId, usedKeys: 2, keyLimit: 10, keyLimitOverridden: false });

    const updated = await api().updateKey(
      {
        key: { keyId, name: "ERP sync", permissions: ["inventory:read"], groupId: "" },
        updateMask: { paths: ["name", "permissions", "group_id"] },
      },
      // No client request id: the audit event records the call's request id, here the caller's x-request-id.
      { ...as, headers: { "x-request-id": "trace-update-1" } },
    );
    expect(updated.key).toMatchObject({ name: "ERP sync", permissions: ["inventory:read"], groupId: "" });
    expect(updated.key?.displayHint).toBe(created.key?.displayHint);

    const rotated = await api().rotateKey({ keyId, overlap: durationFromMs(3_600_000) }, as);
    expect(rotated.key?.keyId).toBe(keyId);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.key?.secrets.map((s) => [s.generation, s.expireTime !== undefined])).toEqual([
      [1, true],
      [2, false],
    ]);

    const revoked = await api().revokeKey({ keyId, reason: "integration retired" }, as);
    expect(revoked.key).toMatchObject({ status: KeyStatus.REVOKED, revokeReason: "integration retired" });
    expect(revoked.key?.revokeTime).toBeDefined();
    const afterRevoke = await api().getTenant({}, as);
    expect(afterRevoke.tenant).toMatchObject({ usedKeys: 1 });

    const deleted = await api().deleteKey({ keyId }, as);
    expect(deleted.key?.deleteTime).toBeDefined();
    expect((await api().listKeys({}, as)).keys.map((k) => k.keyId)).not.toContain(keyId);
    expect((await api().listKeys({ showDeleted: true }, as)).keys.map((k) => k.keyId)).toContain(keyId);

    expect((await api().getGroup({ groupId }, as)).group?.keyCount).toBe(0);
    const renamed = await api().updateGroup(
      { group: { groupId, name: "Order readers (EU)" }, updateMask: { paths: ["name"] } },
      as,
    );
    expect(renamed.group?.name).toBe("Order readers (EU)");
    expect((await api().listGroups({}, as)).groups.map((g) => g.name)).toEqual(["Order readers (EU)"]);
    await api().deleteGroup({ groupId }, as);
    expect((await rpcFailure(api().getGroup({ groupId }, as))).code).toBe("NOT_FOUND");

    const raised = await api().updateTenant({ tenantId, keyLimit: 25 }, su());
    expect(raised.tenant).toMatchObject({ tenantId, keyLimit: 25, usedKeys: 1, keyLimitOverridden: true });
    const cleared = await api().updateTenant({ tenantId }, su());
    expect(cleared.tenant).toMatchObject({ keyLimit: 10, keyLimitOverridden: false });

    // One admin audit event per mutation of the key, with actor, changed field names and request id: the
    // client's request_id when given, else the server's id of the call (the one its request log carries).
    const serverRequestId = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-z]+$/);
    const adminKeyId = key.slice(0, created.key!.keyId.length);
    await expect
      .poll(async () =>
        (
          await admin.server.db
            .collection(AUDIT_EVENTS_COLLECTION)
            .find({ "detail.kind": "admin", "detail.keyId": keyId })
            .sort({ _id: 1 })
            .toArray()
        ).map((event) => [
          event.detail.action,
          event.detail.actorKeyId,
          event.detail.changedFields.join(","),
          event.detail.requestId,
        ]),
      )
      .toEqual([
        [
          "key_created",
          adminKeyId,
          "name,description,user_id,group_id,permissions,ip_allowlist,expire_time",
          "create-1",
        ],
        ["key_updated", adminKeyId, "name,group_id,permissions", "trace-update-1"],
        ["key_rotated", adminKeyId, "secrets", serverRequestId],
        ["key_revoked", adminKeyId, "revoke_time,revoke_reason", serverRequestId],
        ["key_deleted", adminKeyId, "delete_time", serverRequestId],
      ]);
  });

  it("verifies the new secret, and the old one only during the overlap (rotation seen through admin auth)", async () => {
    const { tenantId } = await tenantAdmin();
    const created = await api().createKey(
      { tenantId, name: "self-listing admin", permissions: ["apikeys:admin"] },
      su(),
    );
    const rotated = await api().rotateKey({ keyId: created.key!.keyId }, su());
    // The old secret stopped at once: it no longer authenticates; the new one does.
    expect((await rpcFailure(api().listKeys({}, { key: created.secret }))).code).toBe("UNAUTHENTICATED");
    await expect(api().listKeys({}, { key: rotated.secret })).resolves.toBeDefined();
  });

  it("enforces the caller's IP allowlist on admin keys too", async () => {
    const { tenantId } = await tenantAdmin();
    const elsewhere = await api().createKey(
      { tenantId, name: "office only", permissions: ["apikeys:admin"], ipAllowlist: ["203.0.113.0/24"] },
      su(),
    );
    expect((await rpcFailure(api().getTenant({}, { key: elsewhere.secret }))).code).toBe("UNAUTHENTICATED");
    const local = await api().createKey(
      { tenantId, name: "loopback", permissions: ["apikeys:admin"], ipAllowlist: ["127.0.0.1"] },
      su(),
    );
    await expect(api().getTenant({}, { key: local.secret })).resolves.toBeDefined();
  });

  describe("request ids", () => {
    it("replays a create without the secret, refuses other parameters, and makes one key for 20 concurrent calls", async () => {
      const { tenantId, key } = await tenantAdmin();
      const request = { tenantId, name: "idempotent", requestId: `req-${transport}` };
      const first = await api().createKey(request, { key });
      const replay = await api().createKey(request, { key });
      expect(replay).toMatchObject({ secret: "", secretKey: "", secretAlreadyIssued: true });
      expect(replay.key?.keyId).toBe(first.key?.keyId);
      const mismatch = await rpcFailure(api().createKey({ ...request, name: "different" }, { key }));
      expect(mismatch.code).toBe("FAILED_PRECONDITION");

      const burst = { tenantId, name: "burst", requestId: `burst-${transport}` };
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => api().createKey(burst, { key })),
      );
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(new Set(ok.map((r) => r.key?.keyId)).size).toBe(1);
      expect(ok.filter((r) => r.secret !== "")).toHaveLength(1);
      for (const result of results) {
        if (result.status === "rejected") {
          expect((await rpcFailure(Promise.reject(result.reason))).code).toBe("ABORTED");
        }
      }
      expect(
        await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId, name: "burst" }),
      ).toBe(1);
    });
  });

  describe("tenant limit", () => {
    it("makes exactly 10 of 50 concurrent creates at a limit of 10", async () => {
      const tenantId = uniqueTenant(`race-${transport === "grpc-js" ? "g" : "c"}`);
      await api().createTenant({ tenantId, keyLimit: 10 }, su());
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => api().createKey({ tenantId, name: `racer ${i}` }, su())),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      expect(ok).toHaveLength(10);
      for (const result of results) {
        if (result.status === "rejected") {
          const failure = await rpcFailure(Promise.reject(result.reason));
          expect(failure.code).toBe("RESOURCE_EXHAUSTED");
          expect(failure.reason).toBe("TENANT_KEY_LIMIT_EXCEEDED");
          expect(failure.message).toContain("/10 keys");
        }
      }
      expect(await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(10);
      const listing = await api().listKeys({ tenantId, pageSize: 1000 }, su());
      expect(listing.keys).toHaveLength(10);
      expect(listing.tenant).toMatchObject({ usedKeys: 10, keyLimit: 10 });
    });

    it("frees exactly one slot for concurrent revokes of one key", async () => {
      const tenantId = uniqueTenant("rev");
      await api().createTenant({ tenantId, keyLimit: 2 }, su());
      const first = await api().createKey({ tenantId, name: "first" }, su());
      await api().createKey({ tenantId, name: "second" }, su());
      const revokes = await Promise.allSettled(
        Array.from({ length: 8 }, () => api().revokeKey({ keyId: first.key!.keyId }, su())),
      );
      expect(revokes.some((r) => r.status === "fulfilled")).toBe(true);
      expect((await api().getTenant({ tenantId }, su())).tenant?.usedKeys).toBe(1);
      await api().createKey({ tenantId, name: "third" }, su());
      expect((await rpcFailure(api().createKey({ tenantId, name: "fourth" }, su()))).code).toBe(
        "RESOURCE_EXHAUSTED",
      );
    });
  });

  it("never returns secret material from Get or List (scanning the serialized responses)", async () => {
    const { tenantId, key } = await tenantAdmin();
    const created = await api().createKey({ tenantId, name: "scanned" }, { key });
    const rotated = await api().rotateKey(
      { keyId: created.key!.keyId, overlap: durationFromMs(60_000) },
      { key },
    );
    const stored = await admin.server.db
      .collection(KEYS_COLLECTION)
      .findOne({ _id: created.key!.keyId as never });
    const hashes = (stored!.secrets as Array<{ hash: string }>).map((secret) => secret.hash);
    const got = await api().getKey({ keyId: created.key!.keyId }, { key });
    const listed = await api().listKeys({ tenantId }, { key });
    const serialized = [
      Buffer.from(toBinary(GetKeyResponseSchema, got)).toString("latin1"),
      toJsonString(GetKeyResponseSchema, got),
      Buffer.from(toBinary(ListKeysResponseSchema, listed)).toString("latin1"),
      toJsonString(ListKeysResponseSchema, listed),
    ];
    for (const text of serialized) {
      for (const secret of [
        created.secret,
        created.secretKey,
        rotated.secret,
        rotated.secretKey,
        ...hashes,
      ]) {
        expect(text.includes(secret)).toBe(false);
        expect(text.includes(secret.slice(-38, -6))).toBe(false);
      }
    }
    // The hints are there, and reveal only 4 characters of each secret.
    expect(got.key?.secrets.map((s) => s.displayHint)).toEqual([
      created.key?.displayHint,
      rotated.key?.displayHint,
    ]);
  });
});
