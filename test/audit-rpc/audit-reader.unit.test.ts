/**
 * The audit reading use cases (authorisation and scoping) and the AuditService mappers, table-driven, on
 * recording fakes of the log, hub and key store.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Actor, ApiKeyRecord } from "../../src/domain/api-key.js";
import { encodeAuditCursor } from "../../src/domain/audit-cursor.js";
import type { AuditEventRecord } from "../../src/domain/audit-event.js";
import type { AdminEventQuery, KeyUsageQuery } from "../../src/domain/audit-log.js";
import { type AuditStreamRequest, createAuditReader } from "../../src/domain/audit-reader.js";
import {
  AuditCursorExpiredError,
  type AuditFollowRequest,
  SLOW_CONSUMER_REASON,
} from "../../src/domain/audit-stream.js";
import { DomainError, type DomainErrorKind } from "../../src/domain/errors.js";
import { AdminAction, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import { StreamAuditEventsRequestSchema } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import {
  AUDIT_CURSOR_EXPIRED,
  auditEventOf,
  EARLIEST_CURSOR_KEY,
  eventKindsOf,
  streamErrorOf,
  streamStartOf,
  verificationCodesOf,
} from "../../src/rpc/audit-mappers.js";
import { errorInfoOf } from "../../src/rpc/error-info.js";

/** Refused is the kind of domain error a case expects. */
type Refused = { readonly refused: DomainErrorKind };

const superuser: Actor = { keyId: "ak_test_root", tenantId: "_system", userId: "", role: "superuser" };
const acmeAdmin: Actor = { keyId: "ak_test_acme", tenantId: "acme", userId: "", role: "tenant_admin" };
const holder: Actor = { keyId: "ak_test_user", tenantId: "acme", userId: "u1", role: "key_holder" };

const acmeKey = { id: "ak_test_acmekey", tenantId: "acme" } as ApiKeyRecord;

/** readerWithFakes builds the reader on fakes that record what they were asked. */
function readerWithFakes() {
  const asked: { usage: KeyUsageQuery[]; admin: AdminEventQuery[]; follow: AuditFollowRequest[] } = {
    usage: [],
    admin: [],
    follow: [],
  };
  const reader = createAuditReader({
    log: {
      listKeyUsage: async (query) => {
        asked.usage.push(query);
        return { items: [], nextCursor: null };
      },
      listAdminEvents: async (query) => {
        asked.admin.push(query);
        return { items: [], nextCursor: null };
      },
    },
    hub: {
      follow: (request) => {
        asked.follow.push(request);
        return (async function* () {})();
      },
    },
    keys: { findById: async (id) => (id === acmeKey.id ? acmeKey : null) },
  });
  return { reader, asked };
}

const usageRequest = (keyId: string) => ({
  keyId,
  startTime: null,
  endTime: null,
  codes: [],
  pageSize: 0,
  pageToken: "",
});

describe("listKeyUsage", () => {
  it.each<[string, Actor, string, string | Refused]>([
    ["a super user, any tenant's key", superuser, acmeKey.id, "acme"],
    ["a tenant admin, its tenant's key", acmeAdmin, acmeKey.id, "acme"],
    [
      "a tenant admin, another tenant's key",
      { ...acmeAdmin, tenantId: "globex" },
      acmeKey.id,
      { refused: "not_found" },
    ],
    ["a super user, a key that does not exist", superuser, "ak_test_missing", { refused: "not_found" }],
    ["a key holder", holder, acmeKey.id, { refused: "permission_denied" }],
    ["a missing key id", superuser, "", { refused: "invalid_argument" }],
  ])("%s", async (_label, actor, keyId, expected) => {
    const { reader, asked } = readerWithFakes();
    const call = reader.listKeyUsage(actor, usageRequest(keyId));
    if (typeof expected === "string") {
      await call;
      expect(asked.usage).toHaveLength(1);
      expect(asked.usage[0]?.tenantId).toBe(expected);
      expect(asked.usage[0]?.limit).toBe(50);
    } else {
      await expect(call).rejects.toHaveProperty("kind", expected.refused);
      expect(asked.usage).toEqual([]);
    }
  });
});

describe("listAdminEvents", () => {
  it.each<[string, Actor, string, string | Refused]>([
    ["a super user naming a tenant", superuser, "globex", "globex"],
    ["a super user naming the system tenant", superuser, "_system", "_system"],
    ["a super user without a tenant", superuser, "", { refused: "invalid_argument" }],
    ["a tenant admin without a tenant", acmeAdmin, "", "acme"],
    ["a tenant admin naming its tenant", acmeAdmin, "acme", "acme"],
    ["a tenant admin naming another tenant", acmeAdmin, "globex", { refused: "permission_denied" }],
    ["a key holder", holder, "", { refused: "permission_denied" }],
  ])("%s", async (_label, actor, tenantId, expected) => {
    const { reader, asked } = readerWithFakes();
    const call = reader.listAdminEvents(actor, {
      tenantId,
      keyId: "",
      groupId: "",
      pageSize: 10,
      pageToken: "",
    });
    if (typeof expected === "string") {
      await call;
      expect(asked.admin[0]).toMatchObject({ tenantId: expected, keyId: null, groupId: null, limit: 10 });
    } else {
      await expect(call).rejects.toHaveProperty("kind", expected.refused);
      expect(asked.admin).toEqual([]);
    }
  });
});

describe("streamFilter", () => {
  const stream = (fields: Partial<AuditStreamRequest>): AuditStreamRequest => ({
    tenantId: "",
    keyId: "",
    kinds: [],
    start: { kind: "now" },
    ...fields,
  });
  it.each<[string, Actor, AuditStreamRequest, AuditFollowRequest["filter"] | Refused]>([
    [
      "a super user without a tenant: every tenant",
      superuser,
      stream({}),
      { tenantId: null, keyId: null, kinds: [] },
    ],
    [
      "a super user naming a tenant",
      superuser,
      stream({ tenantId: "acme" }),
      { tenantId: "acme", keyId: null, kinds: [] },
    ],
    [
      "a super user naming a bad tenant",
      superuser,
      stream({ tenantId: "Not A Tenant" }),
      { refused: "invalid_argument" },
    ],
    [
      "a tenant admin without a tenant: its own",
      acmeAdmin,
      stream({}),
      { tenantId: "acme", keyId: null, kinds: [] },
    ],
    [
      "a tenant admin naming its tenant",
      acmeAdmin,
      stream({ tenantId: "acme" }),
      { tenantId: "acme", keyId: null, kinds: [] },
    ],
    [
      "a tenant admin naming another tenant",
      acmeAdmin,
      stream({ tenantId: "globex" }),
      { refused: "permission_denied" },
    ],
    ["a key holder", holder, stream({}), { refused: "permission_denied" }],
    [
      "key and kinds filters, kinds deduplicated",
      superuser,
      stream({ keyId: "ak_test_k", kinds: ["usage", "usage"] }),
      { tenantId: null, keyId: "ak_test_k", kinds: ["usage"] },
    ],
    ["an over-long key id", superuser, stream({ keyId: "k".repeat(257) }), { refused: "invalid_argument" }],
  ])("%s", (_label, actor, request, expected) => {
    const { reader, asked } = readerWithFakes();
    if ("refused" in expected) {
      expect(() => reader.follow(actor, request)).toThrow(
        expect.objectContaining({ kind: expected.refused }),
      );
      expect(asked.follow).toEqual([]);
    } else {
      reader.follow(actor, request);
      expect(asked.follow[0]?.filter).toEqual(expected);
      expect(asked.follow[0]?.start).toEqual(request.start);
    }
  });
});

describe("AuditService mappers", () => {
  it.each<[string, AuditEventKind[], string[] | null]>([
    ["empty: every kind", [], []],
    ["usage", [AuditEventKind.USAGE], ["usage"]],
    ["both", [AuditEventKind.ADMIN, AuditEventKind.USAGE], ["admin", "usage"]],
    ["UNSPECIFIED: every kind", [AuditEventKind.USAGE, AuditEventKind.UNSPECIFIED], []],
    ["an unknown number", [7 as AuditEventKind], null],
  ])("kinds %s", (_label, kinds, expected) => {
    if (expected === null) {
      expect(() => eventKindsOf(kinds)).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
    } else {
      expect(eventKindsOf(kinds)).toEqual(expected);
    }
  });

  it.each<[string, VerificationCode[], string[] | null]>([
    ["every verdict", [VerificationCode.VALID, VerificationCode.IP_NOT_ALLOWED], ["valid", "ip_not_allowed"]],
    ["UNSPECIFIED", [VerificationCode.UNSPECIFIED], null],
    ["an unknown number", [42 as VerificationCode], null],
  ])("codes %s", (_label, codes, expected) => {
    if (expected === null) {
      expect(() => verificationCodesOf(codes)).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
    } else {
      expect(verificationCodesOf(codes)).toEqual(expected);
    }
  });

  it.each([
    ["unset", create(StreamAuditEventsRequestSchema, {}).start, { kind: "now" }],
    [
      "a start time",
      { case: "startTime" as const, value: timestampFromDate(new Date(1_700_000_000_000)) },
      { kind: "time", time: new Date(1_700_000_000_000) },
    ],
    [
      "a cursor",
      { case: "resumeCursor" as const, value: "AQAAAAAAAAAB" },
      { kind: "cursor", cursor: "AQAAAAAAAAAB" },
    ],
  ])("start %s", (_label, start, expected) => {
    expect(streamStartOf(start)).toEqual(expected);
  });

  it("refuses a start time outside the Timestamp range, naming the field", () => {
    expect(() => streamStartOf({ case: "startTime", value: timestampFromDate(new Date(0)) })).not.toThrow();
    expect(() =>
      streamStartOf({ case: "startTime", value: { ...timestampFromDate(new Date(0)), seconds: 10n ** 15n } }),
    ).toThrow(/start_time/);
  });

  it("gives an expired cursor OUT_OF_RANGE with ErrorInfo naming the earliest cursor", () => {
    const error = streamErrorOf(new AuditCursorExpiredError(41));
    expect(error).toBeInstanceOf(ConnectError);
    const connectError = error as ConnectError;
    expect(connectError.code).toBe(Code.OutOfRange);
    expect(connectError.rawMessage).toContain(encodeAuditCursor(41));
    expect(errorInfoOf(connectError)).toEqual({
      reason: AUDIT_CURSOR_EXPIRED,
      domain: "apikeys.dev",
      metadata: { [EARLIEST_CURSOR_KEY]: encodeAuditCursor(41) },
    });
  });

  it("gives a slow consumer RESOURCE_EXHAUSTED with its reason; other errors pass through", () => {
    const slow = streamErrorOf(
      new DomainError("resource_exhausted", "behind", { reason: SLOW_CONSUMER_REASON }),
    ) as ConnectError;
    expect(slow.code).toBe(Code.ResourceExhausted);
    expect(errorInfoOf(slow)?.reason).toBe(SLOW_CONSUMER_REASON);
    const other = new DomainError("permission_denied", "no");
    expect(streamErrorOf(other)).toBe(other);
  });

  it("maps a usage and an admin event field by field, with the cursor right after it", () => {
    const time = new Date(1_700_000_000_123);
    const usage: AuditEventRecord = {
      id: "e1",
      seq: 7,
      time,
      tenantId: "acme",
      detail: {
        kind: "usage",
        keyId: "ak_test_k",
        endpoint: "GET /x",
        clientIp: "192.0.2.1",
        code: "revoked",
        httpStatus: 401,
        replica: "r1",
      },
    };
    expect(auditEventOf(usage)).toMatchObject({
      eventId: "e1",
      cursor: encodeAuditCursor(7),
      time: timestampFromDate(time),
      tenantId: "acme",
      kind: AuditEventKind.USAGE,
      detail: {
        case: "usage",
        value: {
          keyId: "ak_test_k",
          endpoint: "GET /x",
          clientIp: "192.0.2.1",
          code: VerificationCode.REVOKED,
          httpStatus: 401,
          replica: "r1",
        },
      },
    });
    const admin: AuditEventRecord = {
      id: "e2",
      seq: 8,
      time,
      tenantId: "acme",
      detail: {
        kind: "admin",
        actorKeyId: "ak_test_a",
        actorUserId: "u",
        action: "key_rotated",
        keyId: "ak_test_k",
        groupId: "",
        changedFields: ["secrets"],
        requestId: "r-1",
      },
    };
    expect(auditEventOf(admin)).toMatchObject({
      cursor: encodeAuditCursor(8),
      kind: AuditEventKind.ADMIN,
      detail: {
        case: "admin",
        value: {
          actorKeyId: "ak_test_a",
          actorUserId: "u",
          action: AdminAction.KEY_ROTATED,
          keyId: "ak_test_k",
          changedFields: ["secrets"],
          requestId: "r-1",
        },
      },
    });
  });
});
