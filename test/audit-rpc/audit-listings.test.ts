/**
 * ListKeyUsage and ListAdminEvents over both transports on a real server, after real VerifyKey calls and
 * admin mutations: the usage log shows the usage log columns (timestamp, endpoint,
 * IP address, response code) newest first, filters by time range and outcome, pages stably while new events
 * arrive; admin history per key and per tenant names actor, action, changed fields and request id, and
 * never a secret. Access follows the admin API: another tenant's key is NOT_FOUND.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { AdminAction, type AuditEvent, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import type {
  ListAdminEventsRequest,
  ListAdminEventsResponse,
  ListKeyUsageRequest,
  ListKeyUsageResponse,
} from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bearer,
  bootstrapSuperuser,
  type CreatedKey,
  createKey,
  failureOf,
  sleep,
  startAuditNode,
  TRANSPORTS,
  type Transport,
  waitForFlushed,
} from "./helpers/audit-harness.js";

type UsageInit = Partial<Omit<ListKeyUsageRequest, "$typeName" | "startTime" | "endTime">> & {
  startTime?: Date;
  endTime?: Date;
};
type AdminInit = Partial<Omit<ListAdminEventsRequest, "$typeName">>;

const database = useTestDatabase("auditlistings");
let node: AuditNode;
let superuser: string;
let acmeAdmin: CreatedKey;
let globexAdmin: CreatedKey;
let holder: CreatedKey;
let subject: CreatedKey;
let rotatedSecret: string;
let groupId: string;
const secrets: string[] = [];
/** boundaries[i] is a time between the i-th and the (i+1)-th group of VerifyKey calls. */
const boundaries: Date[] = [];

/** verify calls VerifyKey `count` times with `key`; the server answers with a usage event each. */
async function verify(
  key: string,
  count: number,
  endpoint: string,
  options: { clientIp?: string; required?: string[] } = {},
): Promise<void> {
  for (let i = 0; i < count; i++) {
    await node.grpc.verify.verifyKey({
      credential: { case: "key", value: key },
      endpoint,
      clientIp: options.clientIp ?? "203.0.113.5",
      requiredPermissions: options.required ?? [],
    });
  }
}

/** boundary records a time strictly between the events before and after it. */
async function boundary(): Promise<void> {
  await sleep(5);
  boundaries.push(new Date());
  await sleep(5);
}

function listKeyUsage(transport: Transport, init: UsageInit, key: string): Promise<ListKeyUsageResponse> {
  const request = {
    ...init,
    startTime: init.startTime === undefined ? undefined : timestampFromDate(init.startTime),
    endTime: init.endTime === undefined ? undefined : timestampFromDate(init.endTime),
  };
  return transport === "grpc"
    ? node.grpc.audit.listKeyUsage(request, { metadata: bearer(key) })
    : node.connect.audit.listKeyUsage(request, { headers: bearer(key) });
}

function listAdminEvents(
  transport: Transport,
  init: AdminInit,
  key: string,
): Promise<ListAdminEventsResponse> {
  return transport === "grpc"
    ? node.grpc.audit.listAdminEvents(init, { metadata: bearer(key) })
    : node.connect.audit.listAdminEvents(init, { headers: bearer(key) });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return failureOf(error).code;
  }
  throw new Error("expected the call to fail");
}

/** usageRows is the usage log as a console table shows it. */
function usageRows(events: readonly AuditEvent[]) {
  return events.map((event) => {
    if (event.detail.case !== "usage") {
      throw new Error("a usage log holds usage events only");
    }
    const usage = event.detail.value;
    return {
      endpoint: usage.endpoint,
      clientIp: usage.clientIp,
      httpStatus: usage.httpStatus,
      code: usage.code,
    };
  });
}

beforeAll(async () => {
  node = await startAuditNode(database, "listings-1");
  superuser = await bootstrapSuperuser(node);
  acmeAdmin = await createKey(node, superuser, {
    tenantId: "acme",
    name: "acme admin",
    permissions: [ADMIN_PERMISSION],
  });
  globexAdmin = await createKey(node, superuser, {
    tenantId: "globex",
    name: "globex admin",
    permissions: [ADMIN_PERMISSION],
  });
  holder = await createKey(node, superuser, { tenantId: "acme", name: "holder", userId: "user-1" });
  const group = await node.grpc.admin.createGroup(
    { tenantId: "acme", name: "billing", permissions: ["orders:read"], requestId: "req-group-create" },
    { metadata: bearer(acmeAdmin.secret) },
  );
  groupId = group.group?.groupId ?? "";
  subject = await createKey(node, acmeAdmin.secret, {
    tenantId: "acme",
    name: "storefront",
    permissions: ["orders:read"],
    ipAllowlist: ["203.0.113.0/24"],
    requestId: "req-create-subject",
  });
  secrets.push(superuser, acmeAdmin.secret, globexAdmin.secret, holder.secret, subject.secret);

  // Usage: three groups of calls separated by known instants.
  await boundary();
  await verify(subject.secret, 3, "GET /orders");
  await boundary();
  await verify(subject.secret, 2, "GET /orders", { clientIp: "198.51.100.9" });
  await verify(subject.secret, 1, "POST /orders", { required: ["orders:write"] });
  await boundary();
  await verify(`${subject.secret.slice(0, -3)}abc`, 2, "GET /orders");

  // Admin history of the subject key.
  await node.grpc.admin.updateKey(
    {
      key: { keyId: subject.keyId, name: "storefront v2", ipAllowlist: ["203.0.113.0/24", "192.0.2.0/24"] },
      updateMask: { paths: ["name", "ip_allowlist"] },
      requestId: "req-update-subject",
    },
    { metadata: bearer(acmeAdmin.secret) },
  );
  const rotated = await node.grpc.admin.rotateKey(
    { keyId: subject.keyId, requestId: "req-rotate-subject" },
    { metadata: bearer(superuser) },
  );
  rotatedSecret = rotated.secret;
  secrets.push(rotatedSecret);
  await verify(rotatedSecret, 1, "GET /after-rotation");
  await node.grpc.admin.revokeKey(
    { keyId: subject.keyId, reason: "compromised", requestId: "req-revoke-subject" },
    { metadata: bearer(acmeAdmin.secret) },
  );
  await verify(rotatedSecret, 1, "GET /after-revocation");
  // Another tenant's history, which acme must never see.
  const other = await createKey(node, globexAdmin.secret, { tenantId: "globex", name: "globex key" });
  secrets.push(other.secret);
  await waitForFlushed([node]);
});

afterAll(async () => {
  await node?.stop();
});

describe.each(TRANSPORTS)("ListKeyUsage over %s", (transport) => {
  it("shows the usage log columns for every call, newest first", async () => {
    const page = await listKeyUsage(transport, { keyId: subject.keyId }, acmeAdmin.secret);
    expect(usageRows(page.events)).toEqual([
      {
        endpoint: "GET /after-revocation",
        clientIp: "203.0.113.5",
        httpStatus: 401,
        code: VerificationCode.REVOKED,
      },
      {
        endpoint: "GET /after-rotation",
        clientIp: "203.0.113.5",
        httpStatus: 200,
        code: VerificationCode.VALID,
      },
      {
        endpoint: "POST /orders",
        clientIp: "203.0.113.5",
        httpStatus: 403,
        code: VerificationCode.INSUFFICIENT_PERMISSIONS,
      },
      ...Array(2).fill({
        endpoint: "GET /orders",
        clientIp: "198.51.100.9",
        httpStatus: 403,
        code: VerificationCode.IP_NOT_ALLOWED,
      }),
      ...Array(3).fill({
        endpoint: "GET /orders",
        clientIp: "203.0.113.5",
        httpStatus: 200,
        code: VerificationCode.VALID,
      }),
    ]);
    expect(page.nextPageToken).toBe("");
    const times = page.events.map((event) =>
      timestampDate(event.time ?? timestampFromDate(new Date(0))).getTime(),
    );
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const event of page.events) {
      expect(event.kind).toBe(AuditEventKind.USAGE);
      expect(event.tenantId).toBe("acme");
      expect(event.cursor).not.toBe("");
      expect(event.detail.case === "usage" && event.detail.value.keyId).toBe(subject.keyId);
      expect(event.detail.case === "usage" && event.detail.value.replica).toBe("listings-1");
    }
  });

  it("filters by outcome", async () => {
    const page = await listKeyUsage(
      transport,
      { keyId: subject.keyId, codes: [VerificationCode.IP_NOT_ALLOWED, VerificationCode.REVOKED] },
      superuser,
    );
    expect(usageRows(page.events).map((row) => row.code)).toEqual([
      VerificationCode.REVOKED,
      VerificationCode.IP_NOT_ALLOWED,
      VerificationCode.IP_NOT_ALLOWED,
    ]);
  });

  it("filters by time range: start_time inclusive, end_time exclusive", async () => {
    const [first, second] = boundaries as [Date, Date];
    const early = await listKeyUsage(
      transport,
      { keyId: subject.keyId, startTime: first, endTime: second },
      acmeAdmin.secret,
    );
    expect(usageRows(early.events).map((row) => row.code)).toEqual(Array(3).fill(VerificationCode.VALID));
    const later = await listKeyUsage(
      transport,
      { keyId: subject.keyId, startTime: second },
      acmeAdmin.secret,
    );
    expect(later.events).toHaveLength(5);
    const before = await listKeyUsage(transport, { keyId: subject.keyId, endTime: first }, acmeAdmin.secret);
    expect(before.events).toEqual([]);
  });

  it("pages stably while new events arrive: nothing repeated, nothing skipped", async () => {
    const snapshot = (await listKeyUsage(transport, { keyId: holder.keyId }, acmeAdmin.secret)).events;
    await verify(holder.secret, 7, `GET /${transport}/before-paging`);
    await waitForFlushed([node]);
    const expected = (
      await listKeyUsage(transport, { keyId: holder.keyId, pageSize: 1000 }, acmeAdmin.secret)
    ).events;
    expect(expected.length).toBe(snapshot.length + 7);

    const pages: AuditEvent[][] = [];
    let token = "";
    do {
      const page = await listKeyUsage(
        transport,
        { keyId: holder.keyId, pageSize: 3, pageToken: token },
        acmeAdmin.secret,
      );
      pages.push(page.events);
      token = page.nextPageToken;
      if (pages.length === 1) {
        // Newer events arrive while the client pages: they are above the window and never shift it.
        await verify(holder.secret, 4, `GET /${transport}/while-paging`);
        await waitForFlushed([node]);
      }
    } while (token !== "");
    expect(pages.flat().map((event) => event.eventId)).toEqual(expected.map((event) => event.eventId));
    expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
  });

  it.each([
    ["another tenant's admin", () => globexAdmin.secret, "NOT_FOUND"],
    ["a key holder", () => holder.secret, "PERMISSION_DENIED"],
  ])("refuses %s", async (_label, key, code) => {
    expect(await failure(listKeyUsage(transport, { keyId: subject.keyId }, key()))).toBe(code);
  });

  it("answers NOT_FOUND for a key that does not exist, as for another tenant's", async () => {
    expect(await failure(listKeyUsage(transport, { keyId: "ak_test_0000000000000000" }, superuser))).toBe(
      "NOT_FOUND",
    );
  });

  it("refuses a call without credentials with UNAUTHENTICATED", async () => {
    const call =
      transport === "grpc"
        ? node.grpc.audit.listKeyUsage({ keyId: subject.keyId })
        : node.connect.audit.listKeyUsage({ keyId: subject.keyId });
    expect(await failure(call)).toBe("UNAUTHENTICATED");
  });

  it.each<[string, UsageInit]>([
    ["a missing key_id", {}],
    ["a page size over 1000", { pageSize: 1001 }],
    ["a negative page size", { pageSize: -1 }],
    ["a garbage page token", { pageToken: "not-a-token" }],
    ["end_time before start_time", { startTime: new Date(2_000), endTime: new Date(1_000) }],
    ["an unknown verdict", { codes: [99 as VerificationCode] }],
    ["the unspecified verdict", { codes: [VerificationCode.UNSPECIFIED] }],
  ])("answers %s with INVALID_ARGUMENT", async (_label, init) => {
    const request =
      init.keyId === undefined && _label !== "a missing key_id" ? { keyId: subject.keyId, ...init } : init;
    expect(await failure(listKeyUsage(transport, request, acmeAdmin.secret))).toBe("INVALID_ARGUMENT");
  });
});

describe.each(TRANSPORTS)("ListAdminEvents over %s", (transport) => {
  it("shows a key's history: actor, action, changed fields, request id, newest first", async () => {
    const page = await listAdminEvents(
      transport,
      { tenantId: "acme", keyId: subject.keyId },
      acmeAdmin.secret,
    );
    const rows = page.events.map((event) => {
      expect(event.kind).toBe(AuditEventKind.ADMIN);
      expect(event.tenantId).toBe("acme");
      if (event.detail.case !== "admin") {
        throw new Error("admin history holds admin events only");
      }
      const { actorKeyId, action, keyId, changedFields, requestId } = event.detail.value;
      return { actorKeyId, action, keyId, changedFields, requestId };
    });
    expect(rows).toEqual([
      {
        actorKeyId: acmeAdmin.keyId,
        action: AdminAction.KEY_REVOKED,
        keyId: subject.keyId,
        changedFields: ["revoke_time", "revoke_reason"],
        requestId: "req-revoke-subject",
      },
      {
        actorKeyId: expect.any(String),
        action: AdminAction.KEY_ROTATED,
        keyId: subject.keyId,
        changedFields: ["secrets"],
        requestId: "req-rotate-subject",
      },
      {
        actorKeyId: acmeAdmin.keyId,
        action: AdminAction.KEY_UPDATED,
        keyId: subject.keyId,
        changedFields: expect.arrayContaining(["name", "ip_allowlist"]),
        requestId: "req-update-subject",
      },
      {
        actorKeyId: acmeAdmin.keyId,
        action: AdminAction.KEY_CREATED,
        keyId: subject.keyId,
        changedFields: expect.arrayContaining(["name", "permissions", "ip_allowlist"]),
        requestId: "req-create-subject",
      },
    ]);
    // The rotation was made by the super user: its actor is the bootstrap super-user key, not acme's admin.
    expect(rows[1]?.actorKeyId).not.toBe(acmeAdmin.keyId);
  });

  it("shows a tenant's history (its own events only) and a group's", async () => {
    const tenant = await listAdminEvents(transport, {}, acmeAdmin.secret);
    expect(tenant.events.length).toBeGreaterThanOrEqual(6);
    expect(new Set(tenant.events.map((event) => event.tenantId))).toEqual(new Set(["acme"]));
    const group = await listAdminEvents(transport, { tenantId: "acme", groupId }, superuser);
    expect(group.events.map((event) => event.detail.case === "admin" && event.detail.value.action)).toEqual([
      AdminAction.GROUP_CREATED,
    ]);
    const globex = await listAdminEvents(transport, { tenantId: "globex" }, superuser);
    expect(new Set(globex.events.map((event) => event.tenantId))).toEqual(new Set(["globex"]));
  });

  it("pages with a token", async () => {
    const all = (await listAdminEvents(transport, { tenantId: "acme" }, superuser)).events;
    const first = await listAdminEvents(transport, { tenantId: "acme", pageSize: 2 }, superuser);
    const second = await listAdminEvents(
      transport,
      { tenantId: "acme", pageSize: 2, pageToken: first.nextPageToken },
      superuser,
    );
    expect([...first.events, ...second.events].map((event) => event.eventId)).toEqual(
      all.slice(0, 4).map((event) => event.eventId),
    );
  });

  it.each([
    [
      "a tenant admin naming another tenant",
      () => acmeAdmin.secret,
      { tenantId: "globex" },
      "PERMISSION_DENIED",
    ],
    ["a super user without tenant_id", () => superuser, {}, "INVALID_ARGUMENT"],
    ["a key holder", () => holder.secret, {}, "PERMISSION_DENIED"],
  ] as const)("refuses %s", async (_label, key, init, code) => {
    expect(await failure(listAdminEvents(transport, init, key()))).toBe(code);
  });
});

it("no audit answer ever carries a secret", async () => {
  const answers = JSON.stringify(
    [
      await listKeyUsage("connect", { keyId: subject.keyId, pageSize: 1000 }, superuser),
      await listAdminEvents("connect", { tenantId: "acme", pageSize: 1000 }, superuser),
      await listAdminEvents("connect", { tenantId: "globex", pageSize: 1000 }, superuser),
      await listAdminEvents("connect", { tenantId: "_system", pageSize: 1000 }, superuser),
    ],
    (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
  );
  for (const secret of secrets) {
    expect(answers).not.toContain(secret);
    // Nor the secret part alone (the body after the key id).
    expect(answers).not.toContain(secret.slice(-20));
  }
});
