/**
 * Bad input to KeyAdminService that only a transport can get wrong, over real servers on both transports:
 * the message size limit and what the binary and JSON decoders let through, each answering the right code
 * naming the field and storing nothing. The validation rules themselves (every malformed field of every
 * method) are tested in memory: test/handlers/key-admin-bad-input.test.ts.
 */
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { TENANTS_COLLECTION } from "../../src/storage/tenant-repository.js";
import { uniqueTenant } from "./helpers/admin-fixture.js";
import { type AdminApi, rpcFailure, TRANSPORTS, useAdminServer } from "./helpers/admin-server.js";

const admin = useAdminServer("adminbad");

afterAll(async () => {
  await admin.expectNoSecretLeaks();
});

describe.each(TRANSPORTS)("bad input over %s", (transport) => {
  const api = (): AdminApi => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });

  async function storedFor(tenantId: string) {
    const db = admin.server.db;
    return {
      keys: await db.collection(KEYS_COLLECTION).countDocuments({ tenantId }),
      usedKeys: (await db.collection(TENANTS_COLLECTION).findOne({ _id: tenantId as never }))?.usedKeys ?? 0,
    };
  }

  it("refuses a request larger than the message limit with RESOURCE_EXHAUSTED", async () => {
    const tenantId = uniqueTenant("big");
    const failure = await rpcFailure(
      api().createKey({ tenantId, name: "big", description: "d".repeat(300_000) }, su()),
    );
    expect(failure.code).toBe("RESOURCE_EXHAUSTED");
    expect(await storedFor(tenantId)).toEqual({ keys: 0, usedKeys: 0 });
  });
});

describe("what the decoders let through", () => {
  it.each<[string, bigint, number]>([
    ["seconds 1e15", 1_000_000_000_000_000n, 0],
    ["year 10000", 253_402_300_800n, 0],
    ["negative nanos", BigInt(Math.floor(Date.now() / 1000) + 86_400), -1],
    ["nanos of a whole second", BigInt(Math.floor(Date.now() / 1000) + 86_400), 1_000_000_000],
  ])("binary Timestamp with %s answers INVALID_ARGUMENT (grpc-js)", async (_name, seconds, nanos) => {
    const tenantId = uniqueTenant("ts");
    const failure = await rpcFailure(
      admin
        .api("grpc-js")
        .createKey(
          { tenantId, name: "timestamp", expireTime: create(TimestampSchema, { seconds, nanos }) },
          { key: admin.superuserKey() },
        ),
    );
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message.startsWith("expire_time: ")).toBe(true);
  });

  /** postJson sends a raw Connect JSON request, the way curl would. */
  async function postJson(body: string, method = "CreateKey") {
    const { tenantId } = JSON.parse(body) as { tenantId?: unknown };
    if (method === "CreateKey" && typeof tenantId === "string") {
      await admin.ensureTenant(tenantId);
    }
    const response = await fetch(`${admin.server.httpBaseUrl}/apikeys.v1.KeyAdminService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.superuserKey()}` },
      body,
    });
    const json = (await response.json()) as { code?: string; message?: string };
    admin.remember(json);
    return { status: response.status, body: json };
  }

  it.each<[string, string]>([
    ["year 10000", "10000-01-01T00:00:00Z"],
    ["year 0", "0000-12-31T23:59:59Z"],
    ["not a date", "tomorrow"],
    ["an offset without colon", "2031-01-01T00:00:00+0100"],
  ])("Connect JSON expire_time of %s answers invalid_argument", async (_name, text) => {
    const tenantId = uniqueTenant("json");
    const result = await postJson(JSON.stringify({ tenantId, name: "json", expireTime: text }));
    expect(result.status).toBe(400);
    expect(result.body.code).toBe("invalid_argument");
    expect(await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(0);
  });

  it("Connect JSON with an object where a string belongs answers invalid_argument (no operator injection)", async () => {
    const tenantId = uniqueTenant("json");
    const result = await postJson(JSON.stringify({ tenantId, name: { $gt: "" } }));
    expect(result.body.code).toBe("invalid_argument");
    expect(await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(0);
  });

  /** jsonCases: [case, method, request fields besides tenant_id, field the error must name]. */
  const jsonCases: Array<[string, string, Record<string, unknown>, string]> = [
    ["expire_time on February 30", "CreateKey", { expireTime: "2030-02-30T00:00:00Z" }, "expire_time"],
    ["expire_time on April 31", "CreateKey", { expireTime: "2030-04-31T12:00:00+02:00" }, "expire_time"],
    ["expire_time at 24:00", "CreateKey", { expireTime: "2030-01-01T24:00:00Z" }, "expire_time"],
    [
      "expire_time on February 29 of a common year",
      "CreateKey",
      { expire_time: "2031-02-29T00:00:00Z" },
      "expire_time",
    ],
    ["unknown field isAdmin", "CreateKey", { isAdmin: true }, "isAdmin"],
    ["misspelled field", "CreateKey", { nmae: "typo" }, "nmae"],
    ["misspelled status filter", "ListKeys", { status: "ACTIV" }, "status"],
    ["status filter by short name", "ListKeys", { status: "ACTIVE" }, "status"],
    ["undefined status number", "ListKeys", { status: 9 }, "status"],
    ["misspelled expiration_state filter", "ListKeys", { expirationState: "EXPIRING" }, "expiration_state"],
    ["misspelled filter field", "ListKeys", { stauts: "KEY_STATUS_ACTIVE" }, "stauts"],
  ];

  it.each(jsonCases)(
    "Connect JSON with %s answers invalid_argument naming it",
    async (_name, method, fields, field) => {
      const tenantId = uniqueTenant("json");
      const base = method === "CreateKey" ? { tenantId, name: "json" } : { tenantId };
      const result = await postJson(JSON.stringify({ ...base, ...fields }), method);
      expect(result.status).toBe(400);
      expect(result.body.code).toBe("invalid_argument");
      expect(result.body.message?.startsWith(`${field}: `), result.body.message).toBe(true);
      expect(await admin.server.db.collection(KEYS_COLLECTION).countDocuments({ tenantId })).toBe(0);
    },
  );

  it("Connect JSON UpdateKey with an impossible nested expire_time or unknown nested field changes nothing", async () => {
    const tenantId = uniqueTenant("json");
    const created = await postJson(JSON.stringify({ tenantId, name: "nested" }));
    const keyId = (created.body as { key?: { keyId?: string } }).key?.keyId as string;
    const before = await admin.server.db.collection(KEYS_COLLECTION).findOne({ _id: keyId as never });
    for (const [key, field] of [
      [{ keyId, expireTime: "2030-02-30T00:00:00Z" }, "key.expire_time"],
      [{ keyId, nmae: "typo" }, "key.nmae"],
    ] as const) {
      const result = await postJson(JSON.stringify({ key, updateMask: "expireTime" }), "UpdateKey");
      expect(result.body.code).toBe("invalid_argument");
      expect(result.body.message?.startsWith(`${field}: `), result.body.message).toBe(true);
    }
    expect(await admin.server.db.collection(KEYS_COLLECTION).findOne({ _id: keyId as never })).toEqual(
      before,
    );
  });

  it("Connect JSON with known enum names, proto field names and a real leap day is accepted", async () => {
    const tenantId = uniqueTenant("json");
    await admin.ensureTenant(tenantId);
    const listed = await postJson(
      JSON.stringify({ tenant_id: tenantId, status: "KEY_STATUS_ACTIVE", expiration_state: 0 }),
      "ListKeys",
    );
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const leapDay = `${new Date().getUTCFullYear() + 4 - (new Date().getUTCFullYear() % 4)}-02-29T00:00:00Z`;
    const created = await postJson(JSON.stringify({ tenantId, name: "leap", expireTime: leapDay }));
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  });

  it("round-trips a Unicode name byte-exact, stored as NFC", async () => {
    const tenantId = uniqueTenant("json");
    const decomposed = "Cle\u0301 🔑 prod ключ";
    const result = await postJson(JSON.stringify({ tenantId, name: decomposed }));
    expect(result.status).toBe(200);
    const listed = await admin.api("grpc-js").listKeys({ tenantId }, { key: admin.superuserKey() });
    expect(listed.keys.map((k) => k.name)).toEqual([decomposed.normalize("NFC")]);
    expect(listed.keys[0]?.name).toBe("Clé 🔑 prod ключ");
  });

  it("stores a name that looks like a query operator literally", async () => {
    const tenantId = uniqueTenant("json");
    const result = await postJson(JSON.stringify({ tenantId, name: '{"$gt":""}' }));
    expect(result.status).toBe(200);
    const listed = await admin
      .api("connect")
      .listKeys({ tenantId, nameQuery: '{"$gt"' }, { key: admin.superuserKey() });
    expect(listed.keys.map((k) => k.name)).toEqual(['{"$gt":""}']);
    expect(
      (await admin.api("connect").listKeys({ tenantId, nameQuery: ".*" }, { key: admin.superuserKey() }))
        .keys,
    ).toEqual([]);
  });
});
