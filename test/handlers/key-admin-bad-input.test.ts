/**
 * Bad input to KeyAdminService in memory: every malformed request answers the right code naming the field
 * (the message starts with the field's path) and stores nothing. These are the use cases' validation rules
 * seen through the handler's mapping; what only a transport can get wrong (message size, the JSON and
 * binary decoders) is tested over real sockets in test/admin/admin-rpc-bad-input.test.ts.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
import type { CreateKeyRequestSchema } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { rpcFailure } from "../helpers/rpc-failure.js";
import { bearer, createInMemoryService } from "./helpers/in-memory-service.js";

const DAY = 86_400_000;
const service = createInMemoryService();
const api = () => service.admin;
let superuserKey = "";
const su = () => bearer(superuserKey);
let tenants = 0;
/** uniqueTenant creates a tenant no other test of the file uses. */
async function uniqueTenant(label: string): Promise<string> {
  const tenantId = `${label}-${++tenants}`;
  await service.tenant(tenantId);
  return tenantId;
}

beforeAll(async () => {
  superuserKey = await service.superuser();
});

type CreateKeyInit = MessageInitShape<typeof CreateKeyRequestSchema>;
const inFuture = (ms: number) => timestampFromDate(new Date(service.clock.now().getTime() + ms));

/** createCases: [case, request fields, field the error must name]. All INVALID_ARGUMENT. */
const createCases: Array<[string, Omit<CreateKeyInit, "$typeName" | "$unknown">, string]> = [
  ["empty tenant_id", { tenantId: "" }, "tenant_id"],
  ["upper-case tenant_id", { tenantId: "Acme" }, "tenant_id"],
  ["reserved tenant_id", { tenantId: "_system_x" }, "tenant_id"],
  ["empty name", { name: "" }, "name"],
  ["blank name", { name: "   " }, "name"],
  ["1-character name", { name: "a" }, "name"],
  ["201-character name", { name: "n".repeat(201) }, "name"],
  ["10,000-character name", { name: "n".repeat(10_000) }, "name"],
  ["name with NUL", { name: "ab\u0000cd" }, "name"],
  ["name with a right-to-left override", { name: "invoice\u202efdp.exe" }, "name"],
  ["name with a zero-width space", { name: "adm\u200bin" }, "name"],
  ["name with a line break", { name: "two\nlines" }, "name"],
  ["name with a trailing CR", { name: "name\r" }, "name"],
  ["1001-character description", { description: "d".repeat(1001) }, "description"],
  ["description with a bell", { description: "ding\u0007" }, "description"],
  ["description with a right-to-left isolate", { description: "a\u2067b" }, "description"],
  ["name with a tag character", { name: "safe\u{e0041}" }, "name"],
  ["name of Hangul fillers", { name: "\u3164\u3164" }, "name"],
  ["user_id with a right-to-left override", { userId: "bob\u202e" }, "user_id"],
  ["user_id with a left-to-right mark", { userId: "bob\u200e" }, "user_id"],
  ["allowlist of the two IPv4 halves", { ipAllowlist: ["0.0.0.0/1", "128.0.0.0/1"] }, "ip_allowlist"],
  ["allowlist of the two IPv6 halves", { ipAllowlist: ["::/1", "8000::/1"] }, "ip_allowlist"],
  [
    "allowlist covering IPv4 in four quarters",
    { ipAllowlist: ["192.0.0.0/2", "0.0.0.0/2", "128.0.0.0/2", "64.0.0.0/2"] },
    "ip_allowlist",
  ],
  ["expiry in the past", { expireTime: inFuture(-DAY) }, "expire_time"],
  ["expiry now", { expireTime: inFuture(0) }, "expire_time"],
  ["expiry 30 s ahead", { expireTime: inFuture(30_000) }, "expire_time"],
  ["expiry 11 years ahead", { expireTime: inFuture(11 * 366 * DAY) }, "expire_time"],
  ["CIDR /33", { ipAllowlist: ["10.0.0.0/33"] }, "ip_allowlist[0]"],
  ["IPv6 /129", { ipAllowlist: ["::1/129"] }, "ip_allowlist[0]"],
  ["three-part address", { ipAllowlist: ["1.2.3"] }, "ip_allowlist[0]"],
  ["leading zeros", { ipAllowlist: ["010.0.0.0/8"] }, "ip_allowlist[0]"],
  ["host bits set", { ipAllowlist: ["10.0.0.1/8"] }, "ip_allowlist[0]"],
  ["empty entry", { ipAllowlist: [""] }, "ip_allowlist[0]"],
  ["whitespace", { ipAllowlist: [" 10.0.0.0/8"] }, "ip_allowlist[0]"],
  ["catch-all", { ipAllowlist: ["0.0.0.0/0"] }, "ip_allowlist[0]"],
  ["zone id", { ipAllowlist: ["fe80::1%eth0"] }, "ip_allowlist[0]"],
  ["hostname", { ipAllowlist: ["example.com"] }, "ip_allowlist[0]"],
  ["host:port", { ipAllowlist: ["10.1.2.3:443"] }, "ip_allowlist[0]"],
  ["a bad second entry", { ipAllowlist: ["10.0.0.0/8", "10.0.0.0/"] }, "ip_allowlist[1]"],
  [
    "101 allowlist entries",
    { ipAllowlist: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) },
    "ip_allowlist",
  ],
  ["upper-case permission", { permissions: ["Orders:Read"] }, "permissions[0]"],
  ["empty permission", { permissions: ["orders:read", ""] }, "permissions[1]"],
  ["permission with a space", { permissions: ["orders read"] }, "permissions[0]"],
  ["wildcard permission", { permissions: ["orders:*"] }, "permissions[0]"],
  ["101 permissions", { permissions: Array.from({ length: 101 }, (_, i) => `p${i}`) }, "permissions"],
  ["super-user permission in a tenant", { permissions: ["apikeys:superuser"] }, "permissions[0]"],
  ["129-character user_id", { userId: "u".repeat(129) }, "user_id"],
  ["user_id with a leading space", { userId: " bob" }, "user_id"],
  ["malformed group_id", { groupId: "admins" }, "group_id"],
  ["unknown group", { groupId: "grp_0000000000000000" }, "group_id"],
  ["256-character request_id", { requestId: "r".repeat(256) }, "request_id"],
  ["non-ASCII request_id", { requestId: "clé" }, "request_id"],
  ["upper-case label key", { labels: { Tier: "gold" } }, "labels"],
  ["label key ending in a dot", { labels: { "tier.": "gold" } }, "labels"],
  ["label key with a space", { labels: { "plan tier": "gold" } }, "labels"],
  ["empty label key", { labels: { "": "gold" } }, "labels"],
  ["64-character label key", { labels: { ["k".repeat(64)]: "v" } }, "labels"],
  ["257-byte label value", { labels: { tier: "v".repeat(257) } }, "labels[tier]"],
  ["label value of 129 two-byte characters", { labels: { tier: "é".repeat(129) } }, "labels[tier]"],
  ["label value with a line break", { labels: { tier: "gold\nsilver" } }, "labels[tier]"],
  ["label value with a right-to-left override", { labels: { tier: "gold\u202e" } }, "labels[tier]"],
  [
    "33 labels",
    { labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) },
    "labels",
  ],
  [
    "labels over 4096 bytes in all",
    { labels: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(250)])) },
    "labels",
  ],
];

/** storedFor counts what the tenant holds: keys and used key slots. */
async function storedFor(tenantId: string) {
  return {
    keys: [...service.keys.records.values()].filter((key) => key.tenantId === tenantId).length,
    usedKeys: (await service.tenants.get(tenantId)).usedKeys,
  };
}

describe("CreateKey refuses", () => {
  it.each(createCases)("%s", async (_name, fields, field) => {
    const tenantId = await uniqueTenant("bad");
    const failure = await rpcFailure(api().createKey({ tenantId, name: "valid name", ...fields }, su()));
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message.startsWith(`${field}: `), failure.message).toBe(true);
    expect(await storedFor(tenantId)).toEqual({ keys: 0, usedKeys: 0 });
  });
});

describe("on existing keys", () => {
  let tenantId = "";
  let keyId = "";
  let revokedId = "";
  let deletedId = "";
  let groupId = "";
  let expiry = new Date();

  beforeAll(async () => {
    tenantId = await uniqueTenant("bad");
    expiry = new Date(service.clock.now().getTime() + 10 * DAY);
    groupId = (await api().createGroup({ tenantId, name: "in use" }, su())).group!.groupId;
    keyId = (
      await api().createKey(
        { tenantId, name: "target", groupId, expireTime: timestampFromDate(expiry) },
        su(),
      )
    ).key!.keyId;
    revokedId = (await api().createKey({ tenantId, name: "revoked" }, su())).key!.keyId;
    await api().revokeKey({ keyId: revokedId }, su());
    deletedId = (await api().createKey({ tenantId, name: "deleted" }, su())).key!.keyId;
    await api().deleteKey({ keyId: deletedId }, su());
  });

  const versionOf = (id: string): number | undefined => service.keys.records.get(id)?.version;

  const cases: Array<[string, () => Promise<unknown>, string, string | null]> = [
    ["GetKey without key_id", () => api().getKey({ keyId: "" }, su()), "INVALID_ARGUMENT", "key_id"],
    [
      "GetKey with a malformed key_id",
      () => api().getKey({ keyId: "key-1" }, su()),
      "INVALID_ARGUMENT",
      "key_id",
    ],
    [
      "GetKey with a whole key instead of its id",
      () => api().getKey({ keyId: `${keyId}_${"x".repeat(38)}` }, su()),
      "INVALID_ARGUMENT",
      "key_id",
    ],
    [
      "GetKey of an unknown id",
      () => api().getKey({ keyId: "ak_test_0000000000000000" }, su()),
      "NOT_FOUND",
      null,
    ],
    [
      "ListKeys without tenant_id (super user)",
      () => api().listKeys({}, su()),
      "INVALID_ARGUMENT",
      "tenant_id",
    ],
    [
      "ListKeys with page_size -1",
      () => api().listKeys({ tenantId, pageSize: -1 }, su()),
      "INVALID_ARGUMENT",
      "page_size",
    ],
    [
      "ListKeys with page_size 1001",
      () => api().listKeys({ tenantId, pageSize: 1001 }, su()),
      "INVALID_ARGUMENT",
      "page_size",
    ],
    [
      "ListKeys with a garbage page_token",
      () => api().listKeys({ tenantId, pageToken: "not a token!" }, su()),
      "INVALID_ARGUMENT",
      "page_token",
    ],
    [
      "ListKeys with a forged page_token",
      () =>
        api().listKeys({ tenantId, pageToken: Buffer.from('{"t":0,"i":"x"}').toString("base64url") }, su()),
      "INVALID_ARGUMENT",
      "page_token",
    ],
    [
      "ListKeys with a 201-character name_query",
      () => api().listKeys({ tenantId, nameQuery: "q".repeat(201) }, su()),
      "INVALID_ARGUMENT",
      "name_query",
    ],
    [
      "ListKeys with an undefined status",
      () => api().listKeys({ tenantId, status: 9 as KeyStatus }, su()),
      "INVALID_ARGUMENT",
      "status",
    ],
    [
      "ListKeys with a malformed group filter",
      () => api().listKeys({ tenantId, groupId: "x" }, su()),
      "INVALID_ARGUMENT",
      "group_id",
    ],
    [
      "UpdateKey without key",
      () => api().updateKey({ updateMask: { paths: ["name"] } }, su()),
      "INVALID_ARGUMENT",
      "key",
    ],
    [
      "UpdateKey without update_mask",
      () => api().updateKey({ key: { keyId, name: "x2" } }, su()),
      "INVALID_ARGUMENT",
      "update_mask",
    ],
    [
      "UpdateKey with an empty mask path",
      () => api().updateKey({ key: { keyId, name: "x2" }, updateMask: { paths: ["name", ""] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[1]",
    ],
    [
      "UpdateKey with an unknown mask path",
      () => api().updateKey({ key: { keyId }, updateMask: { paths: ["secrets"] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[0]",
    ],
    [
      "UpdateKey of key_id through the mask",
      () => api().updateKey({ key: { keyId }, updateMask: { paths: ["key_id"] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[0]",
    ],
    [
      "UpdateKey with a wildcard mask",
      () => api().updateKey({ key: { keyId }, updateMask: { paths: ["*"] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[0]",
    ],
    [
      "UpdateKey with a 1-character name",
      () => api().updateKey({ key: { keyId, name: "x" }, updateMask: { paths: ["name"] } }, su()),
      "INVALID_ARGUMENT",
      "key.name",
    ],
    [
      "UpdateKey with a bad CIDR",
      () =>
        api().updateKey(
          { key: { keyId, ipAllowlist: ["10.0.0.1/8"] }, updateMask: { paths: ["ip_allowlist"] } },
          su(),
        ),
      "INVALID_ARGUMENT",
      "key.ip_allowlist[0]",
    ],
    [
      "UpdateKey with an unknown group",
      () =>
        api().updateKey(
          { key: { keyId, groupId: "grp_0000000000000000" }, updateMask: { paths: ["group_id"] } },
          su(),
        ),
      "INVALID_ARGUMENT",
      "key.group_id",
    ],
    [
      "UpdateKey extending the expiry",
      () =>
        api().updateKey(
          { key: { keyId, expireTime: inFuture(20 * DAY) }, updateMask: { paths: ["expire_time"] } },
          su(),
        ),
      "INVALID_ARGUMENT",
      "key.expire_time",
    ],
    [
      "UpdateKey removing the expiry",
      () => api().updateKey({ key: { keyId }, updateMask: { paths: ["expire_time"] } }, su()),
      "INVALID_ARGUMENT",
      "key.expire_time",
    ],
    [
      "UpdateKey of a revoked key",
      () =>
        api().updateKey(
          { key: { keyId: revokedId, name: "revived" }, updateMask: { paths: ["name"] } },
          su(),
        ),
      "FAILED_PRECONDITION",
      null,
    ],
    [
      "UpdateKey of a deleted key",
      () =>
        api().updateKey(
          { key: { keyId: deletedId, name: "revived" }, updateMask: { paths: ["name"] } },
          su(),
        ),
      "NOT_FOUND",
      null,
    ],
    [
      "RotateKey with a negative overlap",
      () => api().rotateKey({ keyId, overlap: durationFromMs(-1000) }, su()),
      "INVALID_ARGUMENT",
      "overlap",
    ],
    [
      "RotateKey with an 8-day overlap",
      () => api().rotateKey({ keyId, overlap: durationFromMs(8 * DAY) }, su()),
      "INVALID_ARGUMENT",
      "overlap",
    ],
    [
      "RotateKey with an overlap past the expiry",
      () => api().rotateKey({ keyId, overlap: durationFromMs(7 * DAY), expireTime: inFuture(5 * DAY) }, su()),
      "INVALID_ARGUMENT",
      "overlap",
    ],
    [
      "RotateKey with an expiry in the past",
      () => api().rotateKey({ keyId, expireTime: inFuture(-1000) }, su()),
      "INVALID_ARGUMENT",
      "expire_time",
    ],
    [
      "RotateKey of a revoked key",
      () => api().rotateKey({ keyId: revokedId }, su()),
      "FAILED_PRECONDITION",
      null,
    ],
    ["RevokeKey without key_id", () => api().revokeKey({}, su()), "INVALID_ARGUMENT", "key_id"],
    [
      "RevokeKey with a right-to-left override in the reason",
      () => api().revokeKey({ keyId, reason: "lost \u202eyek" }, su()),
      "INVALID_ARGUMENT",
      "reason",
    ],
    [
      "UpdateKey with a bidi control in the user_id",
      () => api().updateKey({ key: { keyId, userId: "a\u2069" }, updateMask: { paths: ["user_id"] } }, su()),
      "INVALID_ARGUMENT",
      "key.user_id",
    ],
    [
      "UpdateKey with an allowlist covering every IPv6 address",
      () =>
        api().updateKey(
          {
            key: { keyId, ipAllowlist: ["::/1", "8000::/2", "c000::/2"] },
            updateMask: { paths: ["ip_allowlist"] },
          },
          su(),
        ),
      "INVALID_ARGUMENT",
      "key.ip_allowlist",
    ],
    [
      "ListKeys with a right-to-left override in name_query",
      () => api().listKeys({ tenantId, nameQuery: "a\u202e" }, su()),
      "INVALID_ARGUMENT",
      "name_query",
    ],
    [
      "RevokeKey with a 1001-character reason",
      () => api().revokeKey({ keyId, reason: "r".repeat(1001) }, su()),
      "INVALID_ARGUMENT",
      "reason",
    ],
    ["DeleteKey of a deleted key", () => api().deleteKey({ keyId: deletedId }, su()), "NOT_FOUND", null],
    [
      "CreateGroup with a duplicate name (other case)",
      () => api().createGroup({ tenantId, name: "IN USE" }, su()),
      "ALREADY_EXISTS",
      null,
    ],
    [
      "CreateGroup with a malformed permission",
      () => api().createGroup({ tenantId, name: "g2", permissions: ["x y"] }, su()),
      "INVALID_ARGUMENT",
      "permissions[0]",
    ],
    [
      "GetGroup with a malformed id",
      () => api().getGroup({ groupId: "admins" }, su()),
      "INVALID_ARGUMENT",
      "group_id",
    ],
    [
      "UpdateGroup without group",
      () => api().updateGroup({ updateMask: { paths: ["name"] } }, su()),
      "INVALID_ARGUMENT",
      "group",
    ],
    [
      "UpdateGroup with an unknown mask path",
      () => api().updateGroup({ group: { groupId }, updateMask: { paths: ["key_count"] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[0]",
    ],
    [
      "DeleteGroup of a group in use",
      () => api().deleteGroup({ groupId }, su()),
      "FAILED_PRECONDITION",
      null,
    ],
    [
      "ListGroups with page_size 1001",
      () => api().listGroups({ tenantId, pageSize: 1001 }, su()),
      "INVALID_ARGUMENT",
      "page_size",
    ],
    [
      "UpdateTenant with limit 0",
      () => api().updateTenant({ tenantId, keyLimit: 0 }, su()),
      "INVALID_ARGUMENT",
      "key_limit",
    ],
    [
      "UpdateTenant with limit 1,000,001",
      () => api().updateTenant({ tenantId, keyLimit: 1_000_001 }, su()),
      "INVALID_ARGUMENT",
      "key_limit",
    ],
    [
      "UpdateTenant without tenant_id",
      () => api().updateTenant({ keyLimit: 5 }, su()),
      "INVALID_ARGUMENT",
      "tenant_id",
    ],
    [
      "UpdateTenant with an unknown mask path",
      () => api().updateTenant({ tenantId, updateMask: { paths: ["used_keys"] } }, su()),
      "INVALID_ARGUMENT",
      "update_mask.paths[0]",
    ],
    [
      "UpdateTenant with a 1-character display name",
      () => api().updateTenant({ tenantId, displayName: "x", updateMask: { paths: ["display_name"] } }, su()),
      "INVALID_ARGUMENT",
      "display_name",
    ],
    [
      "UpdateTenant of a tenant that does not exist",
      () => api().updateTenant({ tenantId: "no-such-tenant", keyLimit: 5 }, su()),
      "NOT_FOUND",
      null,
    ],
    [
      "CreateTenant without tenant_id",
      () => api().createTenant({ tenantId: "" }, su()),
      "INVALID_ARGUMENT",
      "tenant_id",
    ],
    [
      "CreateTenant of an upper-case tenant_id",
      () => api().createTenant({ tenantId: "Acme" }, su()),
      "INVALID_ARGUMENT",
      "tenant_id",
    ],
    [
      "CreateTenant of the reserved system tenant",
      () => api().createTenant({ tenantId: "_system" }, su()),
      "INVALID_ARGUMENT",
      "tenant_id",
    ],
    [
      "CreateTenant with a display name holding a NUL",
      () => api().createTenant({ tenantId: "fresh-nul", displayName: "ac\u0000me" }, su()),
      "INVALID_ARGUMENT",
      "display_name",
    ],
    [
      "CreateTenant with limit 0",
      () => api().createTenant({ tenantId: "fresh-zero", keyLimit: 0 }, su()),
      "INVALID_ARGUMENT",
      "key_limit",
    ],
    [
      "CreateTenant of a tenant that exists",
      () => api().createTenant({ tenantId }, su()),
      "ALREADY_EXISTS",
      null,
    ],
    [
      "ListTenants with page_size 1001",
      () => api().listTenants({ pageSize: 1001 }, su()),
      "INVALID_ARGUMENT",
      "page_size",
    ],
    [
      "ListKeys with a label filter without '='",
      () => api().listKeys({ tenantId, label: "tier" }, su()),
      "INVALID_ARGUMENT",
      "label",
    ],
    [
      "ListKeys with a label filter of a bad key",
      () => api().listKeys({ tenantId, label: "Tier=gold" }, su()),
      "INVALID_ARGUMENT",
      "label",
    ],
    [
      "UpdateKey with a bad label key",
      () =>
        api().updateKey({ key: { keyId, labels: { "-x": "1" } }, updateMask: { paths: ["labels"] } }, su()),
      "INVALID_ARGUMENT",
      "key.labels",
    ],
    [
      "UpdateKey with a malformed etag",
      () =>
        api().updateKey(
          { key: { keyId, name: "renamed", etag: "not an etag" }, updateMask: { paths: ["name"] } },
          su(),
        ),
      "INVALID_ARGUMENT",
      "key.etag",
    ],
    [
      "UpdateKey with a stale etag",
      () =>
        api().updateKey(
          {
            key: { keyId, name: "renamed", etag: "AAAAAAAAAAAAAAAAAAAAAA" },
            updateMask: { paths: ["name"] },
          },
          su(),
        ),
      "ABORTED",
      null,
    ],
    [
      "RotateKey with a stale etag",
      () => api().rotateKey({ keyId, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
    [
      "RevokeKey with a stale etag",
      () => api().revokeKey({ keyId, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
    [
      "DeleteKey with a stale etag",
      () => api().deleteKey({ keyId, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
    [
      "DisableKey with a stale etag",
      () => api().disableKey({ keyId, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
    ["DisableKey without key_id", () => api().disableKey({ keyId: "" }, su()), "INVALID_ARGUMENT", "key_id"],
    [
      "DisableKey with a 1001-character reason",
      () => api().disableKey({ keyId, reason: "r".repeat(1001) }, su()),
      "INVALID_ARGUMENT",
      "reason",
    ],
    [
      "DisableKey of a revoked key",
      () => api().disableKey({ keyId: revokedId }, su()),
      "FAILED_PRECONDITION",
      null,
    ],
    ["DisableKey of a deleted key", () => api().disableKey({ keyId: deletedId }, su()), "NOT_FOUND", null],
    [
      "EnableKey with a malformed key_id",
      () => api().enableKey({ keyId: "key-1" }, su()),
      "INVALID_ARGUMENT",
      "key_id",
    ],
    [
      "EnableKey of a revoked key",
      () => api().enableKey({ keyId: revokedId }, su()),
      "FAILED_PRECONDITION",
      null,
    ],
    [
      "UpdateGroup with a stale etag",
      () =>
        api().updateGroup(
          {
            group: { groupId, name: "renamed", etag: "AAAAAAAAAAAAAAAAAAAAAA" },
            updateMask: { paths: ["name"] },
          },
          su(),
        ),
      "ABORTED",
      null,
    ],
    [
      "UpdateGroup with a bad label value",
      () =>
        api().updateGroup(
          { group: { groupId, labels: { tier: "a\u0007" } }, updateMask: { paths: ["labels"] } },
          su(),
        ),
      "INVALID_ARGUMENT",
      "group.labels[tier]",
    ],
    [
      "DeleteGroup with a stale etag",
      () => api().deleteGroup({ groupId, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
    [
      "UpdateTenant with a stale etag",
      () => api().updateTenant({ tenantId, keyLimit: 5, etag: "AAAAAAAAAAAAAAAAAAAAAA" }, su()),
      "ABORTED",
      null,
    ],
  ];

  it.each(cases)("%s", async (_name, call, code, field) => {
    const before = versionOf(keyId);
    const tenantBefore = await service.tenants.get(tenantId);
    const groupBefore = service.groups.records.get(groupId)?.version;
    const failure = await rpcFailure(call());
    expect(failure.code, failure.message).toBe(code);
    if (field !== null) {
      expect(failure.message.startsWith(`${field}: `), failure.message).toBe(true);
    }
    expect(versionOf(keyId)).toBe(before);
    expect(await service.tenants.get(tenantId)).toEqual(tenantBefore);
    expect(service.groups.records.get(groupId)?.version).toBe(groupBefore);
    for (const refused of ["no-such-tenant", "fresh-nul", "fresh-zero"]) {
      expect((await service.tenants.get(refused)).createdAt).toBeNull();
    }
    expect(service.keys.records.get(keyId)).toMatchObject({
      name: "target",
      groupId,
      expiresAt: expiry,
      revokedAt: null,
    });
  });

  it("refuses a page token of another tenant, of other filters, or altered by one character", async () => {
    const otherTenant = await uniqueTenant("bad");
    for (const name of ["a1", "a2", "a3"]) {
      service.clock.advance(1); // listings are newest first
      await api().createKey({ tenantId: otherTenant, name }, su());
    }
    const page = await api().listKeys({ tenantId: otherTenant, pageSize: 1 }, su());
    expect(page.nextPageToken).not.toBe("");
    const token = page.nextPageToken;
    const altered = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    for (const request of [
      { tenantId, pageToken: token },
      { tenantId: otherTenant, pageToken: token, status: 1 },
      { tenantId: otherTenant, pageToken: token, nameQuery: "a" },
      { tenantId: otherTenant, pageToken: altered },
    ]) {
      const failure = await rpcFailure(api().listKeys(request, su()));
      expect(failure.code).toBe("INVALID_ARGUMENT");
      expect(failure.message.startsWith("page_token: ")).toBe(true);
    }
    const next = await api().listKeys({ tenantId: otherTenant, pageSize: 1, pageToken: token }, su());
    expect(next.keys.map((k) => k.name)).toEqual(["a2"]);
  });
});
