/**
 * KeyAdminService in memory (handlers on the use cases over in-memory ports, no server, no database): how
 * the caller is resolved from the call's headers, what each role may see and do (docs/admin-flow.md), and
 * how requests map to the use cases and answers back to messages (timestamps, durations, field masks, enum
 * filters, page tokens, optional fields).
 */
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { CallerRole } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { createGroup } from "../helpers/key-fixtures.js";
import { rpcFailure } from "../helpers/rpc-failure.js";
import {
  bearer,
  createInMemoryService,
  IN_MEMORY_BOOTSTRAP_TOKEN,
  TEST_PEER_HEADER,
} from "./helpers/in-memory-service.js";

const DAY = 86_400_000;

describe("caller resolution", () => {
  const service = createInMemoryService();
  let adminKey = "";
  beforeAll(async () => {
    await service.tenant("acme");
    adminKey = await service.issue({ tenantId: "acme", permissions: [ADMIN_PERMISSION], userId: "ann" });
  });

  it.each<[string, (key: string) => Record<string, string>]>([
    ["authorization: Bearer", (key) => ({ authorization: `Bearer ${key}` })],
    ["authorization: ApiKey", (key) => ({ authorization: `ApiKey ${key}` })],
    ["x-api-key", (key) => ({ "x-api-key": key })],
    ["the same key in both headers", (key) => ({ authorization: `Bearer ${key}`, "x-api-key": key })],
  ])("accepts the key sent as %s", async (_form, headersFor) => {
    const caller = await service.admin.getCaller({}, { headers: headersFor(adminKey) });
    expect(caller).toMatchObject({ tenantId: "acme", userId: "ann", role: CallerRole.TENANT_ADMIN });
    expect(adminKey.startsWith(caller.keyId)).toBe(true);
  });

  it.each<[string, (key: string) => Record<string, string>, RegExp]>([
    ["no credential at all", () => ({}), /^missing credential/],
    ["a malformed bearer token", () => ({ authorization: "Bearer not-a-key" }), /not valid/],
    ["a Basic authorization", () => ({ authorization: "Basic dXNlcjpwYXNz" }), /^malformed authorization/],
    [
      "garbage authorization beside a valid x-api-key",
      (key) => ({ authorization: "garbage", "x-api-key": key }),
      /^malformed authorization header/,
    ],
    [
      "two different keys",
      // The last character changed (to one it is not), so the two headers never carry the same key.
      (key) => ({
        authorization: `Bearer ${key}`,
        "x-api-key": `${key.slice(0, -1)}${key.endsWith("x") ? "y" : "x"}`,
      }),
      /carry different keys/,
    ],
    [
      "a key with a bad checksum",
      () => ({ "x-api-key": "ak_test_0000000000000000_00000000000000000000000000000000000000" }),
      /not valid/,
    ],
  ])("answers UNAUTHENTICATED for %s, saying which form is wrong", async (_name, headersFor, message) => {
    const failure = await rpcFailure(service.admin.getTenant({}, { headers: headersFor(adminKey) }));
    expect(failure.code).toBe("UNAUTHENTICATED");
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain(adminKey);
  });

  it("answers UNAUTHENTICATED for a revoked, a deleted and an expired key, with one message for all", async () => {
    const su = await service.superuser();
    const make = async (name: string) =>
      (await service.admin.createKey({ tenantId: "acme", name, permissions: [ADMIN_PERMISSION] }, bearer(su)))
        .secret;
    const revoked = await make("soon revoked");
    await service.admin.revokeKey({ keyId: revoked.slice(0, revoked.lastIndexOf("_")) }, bearer(su));
    const deleted = await make("soon deleted");
    await service.admin.deleteKey({ keyId: deleted.slice(0, deleted.lastIndexOf("_")) }, bearer(su));
    const expired = await service.issue({
      tenantId: "acme",
      permissions: [ADMIN_PERMISSION],
      expiresAt: new Date(service.clock.now().getTime() + 1_000),
    });
    await service.admin.getTenant({}, bearer(expired));
    service.clock.advance(1_000);
    const messages = new Set<string>();
    for (const key of [revoked, deleted, expired]) {
      const failure = await rpcFailure(service.admin.getTenant({}, bearer(key)));
      expect(failure.code).toBe("UNAUTHENTICATED");
      messages.add(failure.message);
    }
    expect([...messages]).toEqual(["the API key is not valid"]);
  });

  it("checks an admin key's IP allowlist against the caller's address", async () => {
    const office = await service.issue({
      tenantId: "acme",
      permissions: [ADMIN_PERMISSION],
      ipAllowlist: ["203.0.113.0/24"],
    });
    const from = (peer: string) => bearer(office, { [TEST_PEER_HEADER]: peer });
    await expect(service.admin.getTenant({}, from("203.0.113.7:41000"))).resolves.toBeDefined();
    await expect(service.admin.getTenant({}, from("[::ffff:203.0.113.7]:41000"))).resolves.toBeDefined();
    for (const peer of ["127.0.0.1:41000", "unknown"]) {
      expect((await rpcFailure(service.admin.getTenant({}, from(peer)))).code).toBe("UNAUTHENTICATED");
    }
  });

  it.each<[string, () => Promise<string>, CallerRole]>([
    ["a super-user key of the system tenant", () => service.superuser(), CallerRole.SUPERUSER],
    [
      "apikeys:superuser outside the system tenant",
      () => service.issue({ tenantId: "acme", permissions: ["apikeys:superuser"] }),
      CallerRole.TENANT_ADMIN,
    ],
    [
      "apikeys:admin of its own",
      () => service.issue({ tenantId: "acme", permissions: [ADMIN_PERMISSION] }),
      CallerRole.TENANT_ADMIN,
    ],
    [
      "apikeys:admin through its group",
      async () => {
        const group = await createGroup(service.groups, {
          tenantId: "acme",
          permissions: [ADMIN_PERMISSION],
        });
        return service.issue({ tenantId: "acme", groupId: group.id });
      },
      CallerRole.TENANT_ADMIN,
    ],
    ["any other key", () => service.issue({ tenantId: "acme", userId: "bob" }), CallerRole.KEY_HOLDER],
  ])("GetCaller reports %s as its role", async (_name, keyOf, role) => {
    expect((await service.admin.getCaller({}, bearer(await keyOf()))).role).toBe(role);
  });

  it("records the caller's request id in the admin event of a change without a request_id", async () => {
    await service.admin.updateTenant(
      { tenantId: "acme", keyLimit: 20 },
      bearer(await service.superuser(), { "x-request-id": "trace-42" }),
    );
    expect(service.audit.events.at(-1)?.detail).toMatchObject({
      action: "tenant_updated",
      requestId: "trace-42",
    });
  });
});

describe("what each role may see and do", () => {
  const service = createInMemoryService();
  const keys = { superuser: "", admin: "", bob: "", noUser: "" };
  const ids = { own: "", bobs: "", alices: "", foreign: "", group: "", foreignGroup: "" };

  beforeAll(async () => {
    keys.superuser = await service.superuser();
    await service.tenant("mine", "theirs");
    const su = bearer(keys.superuser);
    const create = async (tenantId: string, name: string, userId = "", permissions: string[] = []) =>
      service.admin.createKey({ tenantId, name, userId, permissions }, su);
    keys.admin = (await create("mine", "tenant admin", "", [ADMIN_PERMISSION])).secret;
    const bob = await create("mine", "bob's key", "bob");
    keys.bob = bob.secret;
    ids.bobs = bob.key!.keyId;
    ids.own = (await create("mine", "bob's second", "bob")).key!.keyId;
    ids.alices = (await create("mine", "alice's", "alice")).key!.keyId;
    keys.noUser = (await create("mine", "no user")).secret;
    ids.foreign = (await create("theirs", "theirs")).key!.keyId;
    ids.group = (await service.admin.createGroup({ tenantId: "mine", name: "readers" }, su)).group!.groupId;
    ids.foreignGroup = (await service.admin.createGroup({ tenantId: "theirs", name: "readers" }, su))
      .group!.groupId;
  });

  type Role = keyof typeof keys;
  type Call = () => Promise<unknown>;
  const as = (role: Role) => bearer(keys[role]);
  const api = () => service.admin;

  /** Calls that change nothing when refused; each row: [call, answer per role]. */
  const rows: Array<[string, (role: Role) => Call, Record<Role, string>]> = [
    [
      "GetKey of a foreign key",
      (role) => () => api().getKey({ keyId: ids.foreign }, as(role)),
      { superuser: "OK", admin: "NOT_FOUND", bob: "NOT_FOUND", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetKey of another user's key",
      (role) => () => api().getKey({ keyId: ids.alices }, as(role)),
      { superuser: "OK", admin: "OK", bob: "NOT_FOUND", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetKey of one's own user's key",
      (role) => () => api().getKey({ keyId: ids.own }, as(role)),
      { superuser: "OK", admin: "OK", bob: "OK", noUser: "PERMISSION_DENIED" },
    ],
    [
      "ListKeys of one's own tenant",
      (role) => () => api().listKeys({ tenantId: "mine" }, as(role)),
      { superuser: "OK", admin: "OK", bob: "OK", noUser: "PERMISSION_DENIED" },
    ],
    [
      "ListKeys naming another tenant",
      (role) => () => api().listKeys({ tenantId: "theirs" }, as(role)),
      { superuser: "OK", admin: "PERMISSION_DENIED", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "ListKeys of another user",
      (role) => () => api().listKeys({ tenantId: "mine", userId: "alice" }, as(role)),
      { superuser: "OK", admin: "OK", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "CreateKey in another tenant",
      (role) => () => api().createKey({ tenantId: "theirs", name: "sneaky" }, as(role)),
      { superuser: "OK", admin: "PERMISSION_DENIED", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "CreateKey in one's own tenant",
      (role) => () => api().createKey({ tenantId: "mine", name: "new one" }, as(role)),
      { superuser: "OK", admin: "OK", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "UpdateKey of a foreign key",
      (role) => () =>
        api().updateKey(
          { key: { keyId: ids.foreign, name: "mine now" }, updateMask: { paths: ["name"] } },
          as(role),
        ),
      { superuser: "OK", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "RevokeKey of one's own user's key",
      (role) => () => api().revokeKey({ keyId: ids.own, reason: "test" }, as(role)),
      { superuser: "SKIP", admin: "SKIP", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "RotateKey of a foreign key",
      (role) => () => api().rotateKey({ keyId: ids.foreign }, as(role)),
      { superuser: "SKIP", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "RevokeKey of a foreign key",
      (role) => () => api().revokeKey({ keyId: ids.foreign }, as(role)),
      { superuser: "SKIP", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "DeleteKey of a foreign key",
      (role) => () => api().deleteKey({ keyId: ids.foreign }, as(role)),
      { superuser: "SKIP", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetGroup of one's own tenant",
      (role) => () => api().getGroup({ groupId: ids.group }, as(role)),
      { superuser: "OK", admin: "OK", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetGroup of a foreign group",
      (role) => () => api().getGroup({ groupId: ids.foreignGroup }, as(role)),
      { superuser: "OK", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "DeleteGroup of a foreign group",
      (role) => () => api().deleteGroup({ groupId: ids.foreignGroup }, as(role)),
      { superuser: "SKIP", admin: "NOT_FOUND", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "CreateGroup in another tenant",
      (role) => () => api().createGroup({ tenantId: "theirs", name: "sneaky" }, as(role)),
      {
        superuser: "SKIP",
        admin: "PERMISSION_DENIED",
        bob: "PERMISSION_DENIED",
        noUser: "PERMISSION_DENIED",
      },
    ],
    [
      "ListGroups of one's own tenant",
      (role) => () => api().listGroups({ tenantId: "mine" }, as(role)),
      { superuser: "OK", admin: "OK", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "ListGroups naming another tenant",
      (role) => () => api().listGroups({ tenantId: "theirs" }, as(role)),
      { superuser: "OK", admin: "PERMISSION_DENIED", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetTenant of one's own tenant",
      (role) => () => api().getTenant({}, as(role)),
      { superuser: "OK", admin: "OK", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "GetTenant naming another tenant",
      (role) => () => api().getTenant({ tenantId: "theirs" }, as(role)),
      { superuser: "OK", admin: "PERMISSION_DENIED", bob: "PERMISSION_DENIED", noUser: "PERMISSION_DENIED" },
    ],
    [
      "UpdateTenant of one's own tenant",
      (role) => () => api().updateTenant({ tenantId: "mine", keyLimit: 1000 }, as(role)),
      {
        superuser: "SKIP",
        admin: "PERMISSION_DENIED",
        bob: "PERMISSION_DENIED",
        noUser: "PERMISSION_DENIED",
      },
    ],
  ];
  const cases = rows.flatMap(([name, call, answers]) =>
    (Object.keys(answers) as Role[])
      .filter((role) => answers[role] !== "SKIP")
      .map((role) => [name, role, answers[role], call(role)] as const),
  );

  it.each(cases)("%s as %s answers %s", async (_name, _role, expected, call) => {
    const stored = structuredClone([...service.keys.records.values()]);
    if (expected === "OK") {
      await expect(call()).resolves.toBeDefined();
      return;
    }
    expect((await rpcFailure(call())).code).toBe(expected);
    expect([...service.keys.records.values()], "a refused call changes nothing").toEqual(stored);
  });

  it("answers another tenant's key exactly like a key that does not exist", async () => {
    const unknown = `${ids.foreign.slice(0, -4)}zzzz`;
    const foreign = await rpcFailure(api().getKey({ keyId: ids.foreign }, as("admin")));
    const missing = await rpcFailure(api().getKey({ keyId: unknown }, as("admin")));
    expect(foreign.message.replace(ids.foreign, "ID")).toBe(missing.message.replace(unknown, "ID"));
  });

  it("lists a key holder the keys of its own user only, without the tenant's usage", async () => {
    const listed = await api().listKeys({}, as("bob"));
    expect(listed.keys.map((key) => key.name).sort()).toEqual(["bob's key", "bob's second"]);
    expect(listed.tenant).toBeUndefined();
    const forAdmin = await api().listKeys({}, as("admin"));
    expect(forAdmin.tenant).toMatchObject({ tenantId: "mine", keyLimit: 10 });
  });
});

describe("request and answer mapping", () => {
  const service = createInMemoryService();
  let su = bearer("");
  beforeAll(async () => {
    su = bearer(await service.superuser());
    await service.tenant("acme", "paged", "limits", "groups");
  });

  it("maps CreateKey's fields and Timestamp to the stored key, and the key back to the message", async () => {
    const expiry = new Date(service.clock.now().getTime() + 30 * DAY + 123);
    const created = await service.admin.createKey(
      {
        tenantId: "acme",
        name: "ERP Inventory Sync",
        description: "syncs stock",
        userId: "user-1",
        permissions: ["inventory:write", "inventory:read"],
        ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
        expireTime: timestampFromDate(expiry),
        requestId: "create-1",
      },
      su,
    );
    const keyId = created.key!.keyId;
    expect(service.keys.records.get(keyId)).toMatchObject({
      tenantId: "acme",
      name: "ERP Inventory Sync",
      description: "syncs stock",
      userId: "user-1",
      permissions: ["inventory:read", "inventory:write"],
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
      expiresAt: expiry,
    });
    expect(created.secret).toBe(`${keyId}_${created.secretKey}`);
    expect(created.secretAlreadyIssued).toBe(false);
    expect(created.key).toMatchObject({
      tenantId: "acme",
      status: KeyStatus.ACTIVE,
      expirationState: ExpirationState.VALID,
      permissions: ["inventory:read", "inventory:write"],
    });
    expect(timestampDate(created.key!.expireTime!)).toEqual(expiry);
    expect(timestampDate(created.key!.createTime!)).toEqual(service.clock.now());
    expect(created.key?.lastUsedTime).toBeUndefined();
    expect(created.key?.secrets.map((secret) => secret.generation)).toEqual([1]);

    const replay = await service.admin.createKey(
      {
        tenantId: "acme",
        name: "ERP Inventory Sync",
        description: "syncs stock",
        userId: "user-1",
        permissions: ["inventory:write", "inventory:read"],
        ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
        expireTime: timestampFromDate(expiry),
        requestId: "create-1",
      },
      su,
    );
    expect(replay).toMatchObject({ secret: "", secretKey: "", secretAlreadyIssued: true });
    expect(replay.key?.keyId).toBe(keyId);
  });

  it("maps the expiration state and status of a key at the clock's time", async () => {
    const created = await service.admin.createKey(
      {
        tenantId: "acme",
        name: "short lived",
        expireTime: timestampFromDate(new Date(service.clock.now().getTime() + 3 * DAY)),
      },
      su,
    );
    const keyId = created.key!.keyId;
    expect(created.key?.expirationState).toBe(ExpirationState.EXPIRING_SOON);
    service.clock.advance(3 * DAY);
    expect((await service.admin.getKey({ keyId }, su)).key).toMatchObject({
      status: KeyStatus.EXPIRED,
      expirationState: ExpirationState.EXPIRED,
    });
    const revoked = await service.admin.revokeKey({ keyId, reason: "retired" }, su);
    expect(revoked.key).toMatchObject({ status: KeyStatus.REVOKED, revokeReason: "retired" });
    expect(timestampDate(revoked.key!.revokeTime!)).toEqual(service.clock.now());
  });

  it("changes only the fields named by UpdateKey's field mask", async () => {
    const created = await service.admin.createKey(
      { tenantId: "acme", name: "masked", description: "kept", permissions: ["a:read"] },
      su,
    );
    const keyId = created.key!.keyId;
    const updated = await service.admin.updateKey(
      {
        key: { keyId, name: "renamed", description: "ignored: not in the mask", permissions: ["b:read"] },
        updateMask: { paths: ["name", "permissions"] },
      },
      su,
    );
    expect(updated.key).toMatchObject({ name: "renamed", description: "kept", permissions: ["b:read"] });
    expect(service.keys.records.get(keyId)).toMatchObject({ name: "renamed", description: "kept" });
    expect(service.notifier.notices.at(-1)).toEqual({ kind: "key", id: keyId });
  });

  it("maps RotateKey's overlap Duration to the end of the previous secret", async () => {
    const created = await service.admin.createKey({ tenantId: "acme", name: "rotated" }, su);
    const keyId = created.key!.keyId;
    const rotated = await service.admin.rotateKey({ keyId, overlap: durationFromMs(3_600_500) }, su);
    expect(rotated.key?.secrets.map((secret) => secret.generation)).toEqual([1, 2]);
    expect(timestampDate(rotated.key!.secrets[0]!.expireTime!).getTime()).toBe(
      service.clock.now().getTime() + 3_600_500,
    );
    expect(rotated.key?.secrets[1]?.expireTime).toBeUndefined();
    const immediate = await service.admin.rotateKey({ keyId }, su);
    expect(immediate.key?.secrets.map((secret) => secret.generation)).toEqual([3]);
  });

  it.each<[string, { status?: KeyStatus; expirationState?: ExpirationState }, string[]]>([
    ["no filter", {}, ["active", "expiring", "expired", "revoked"]],
    ["status ACTIVE", { status: KeyStatus.ACTIVE }, ["active", "expiring"]],
    ["status EXPIRED", { status: KeyStatus.EXPIRED }, ["expired"]],
    ["status REVOKED", { status: KeyStatus.REVOKED }, ["revoked"]],
    ["expiration state EXPIRING_SOON", { expirationState: ExpirationState.EXPIRING_SOON }, ["expiring"]],
    ["expiration state VALID", { expirationState: ExpirationState.VALID }, ["active", "revoked"]],
  ])("maps ListKeys' %s", async (_name, filter, names) => {
    const local = createInMemoryService();
    const root = bearer(await local.superuser());
    await local.tenant("acme");
    const now = local.clock.now().getTime();
    for (const [name, expiresIn] of [
      ["active", null],
      ["expiring", 3 * DAY],
      ["expired", 2 * DAY],
      ["revoked", null],
    ] as const) {
      local.clock.advance(1);
      const expireTime = expiresIn === null ? undefined : timestampFromDate(new Date(now + expiresIn));
      const created = await local.admin.createKey({ tenantId: "acme", name, expireTime }, root);
      if (name === "revoked") {
        await local.admin.revokeKey({ keyId: created.key!.keyId }, root);
      }
      if (name === "expired") {
        local.clock.set(now + 2 * DAY);
      }
    }
    const listed = await local.admin.listKeys({ tenantId: "acme", ...filter }, root);
    expect(listed.keys.map((key) => key.name).sort()).toEqual([...names].sort());
  });

  it("pages through a listing with page tokens, newest first, each key once", async () => {
    const names = ["k1", "k2", "k3", "k4", "k5"];
    for (const name of names) {
      service.clock.advance(1);
      await service.admin.createKey({ tenantId: "paged", name }, su);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await service.admin.listKeys({ tenantId: "paged", pageSize: 2, pageToken }, su);
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((key) => key.name));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual([...names].reverse());
  });

  it("maps UpdateTenant's optional key_limit: set overrides, unset returns to the default", async () => {
    const raised = await service.admin.updateTenant({ tenantId: "limits", keyLimit: 25 }, su);
    expect(raised.tenant).toMatchObject({ tenantId: "limits", keyLimit: 25, keyLimitOverridden: true });
    const cleared = await service.admin.updateTenant({ tenantId: "limits" }, su);
    expect(cleared.tenant).toMatchObject({ keyLimit: 10, keyLimitOverridden: false });
  });

  it("maps groups both ways, with their key count", async () => {
    const created = await service.admin.createGroup(
      { tenantId: "groups", name: "Order readers", description: "reads", permissions: ["orders:read"] },
      su,
    );
    const groupId = created.group!.groupId;
    await service.admin.createKey({ tenantId: "groups", name: "member", groupId }, su);
    const got = await service.admin.getGroup({ groupId }, su);
    expect(got.group).toMatchObject({
      groupId,
      tenantId: "groups",
      name: "Order readers",
      description: "reads",
      permissions: ["orders:read"],
      keyCount: 1,
    });
    const renamed = await service.admin.updateGroup(
      { group: { groupId, name: "Readers", description: "ignored" }, updateMask: { paths: ["name"] } },
      su,
    );
    expect(renamed.group).toMatchObject({ name: "Readers", description: "reads" });
  });

  it("passes Bootstrap's token and the caller's address to the use case", async () => {
    const fresh = createInMemoryService();
    const wrong = await rpcFailure(fresh.admin.bootstrap({ bootstrapToken: "wrong", name: "root" }));
    expect(wrong.code).toBe("UNAUTHENTICATED");
    const issued = await fresh.admin.bootstrap({ bootstrapToken: IN_MEMORY_BOOTSTRAP_TOKEN, name: "root" });
    expect(issued.key).toMatchObject({
      tenantId: "_system",
      name: "root",
      permissions: ["apikeys:superuser"],
    });
    expect((await fresh.admin.getCaller({}, bearer(issued.secret))).role).toBe(CallerRole.SUPERUSER);
    const again = await rpcFailure(fresh.admin.bootstrap({ bootstrapToken: IN_MEMORY_BOOTSTRAP_TOKEN }));
    expect(again).toMatchObject({ code: "FAILED_PRECONDITION", reason: "SUPERUSER_EXISTS" });
  });
});
