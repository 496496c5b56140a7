/**
 * AuditService in memory: the real handler and reading use cases over in-memory keys, with an audit log and
 * a stream hub that record what they were asked and answer what the test gives them. Covers who may read
 * what, the request mapping (timestamps, verdict and kind enums, the stream's start oneof), the answer
 * mapping (usage and admin events, heartbeats, cursors) and the stream errors a client acts on. Reading real
 * events from MongoDB and streaming them over sockets is tested in test/audit-rpc.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PERMISSION } from "../../src/domain/api-key.js";
import { encodeAuditCursor } from "../../src/domain/audit-cursor.js";
import type { AuditEventRecord } from "../../src/domain/audit-event.js";
import type { AdminEventQuery, KeyUsageQuery } from "../../src/domain/audit-log.js";
import { createAuditReader } from "../../src/domain/audit-reader.js";
import {
  AuditCursorExpiredError,
  type AuditFollowRequest,
  type AuditStreamItem,
  SLOW_CONSUMER_REASON,
} from "../../src/domain/audit-stream.js";
import { DomainError } from "../../src/domain/errors.js";
import { AdminAction, AuditEventKind } from "../../src/gen/apikeys/v1/audit_pb.js";
import { VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { AUDIT_CURSOR_EXPIRED, EARLIEST_CURSOR_KEY } from "../../src/rpc/audit-mappers.js";
import { errorInfoOf } from "../../src/rpc/error-info.js";
import { captureError } from "../helpers/capture-error.js";
import { rpcFailure, rpcFailureOf } from "../helpers/rpc-failure.js";
import { bearer, createInMemoryService } from "./helpers/in-memory-service.js";

const T = new Date("2031-05-01T10:00:00.123Z");

const usageEvent: AuditEventRecord = {
  id: "evt-usage",
  seq: 41,
  time: T,
  tenantId: "acme",
  detail: {
    kind: "usage",
    keyId: "ak_test_target",
    endpoint: "GET /orders",
    clientIp: "10.0.0.7",
    code: "revoked",
    httpStatus: 401,
    replica: "r1",
  },
};

const adminEvent: AuditEventRecord = {
  id: "evt-admin",
  seq: 42,
  time: T,
  tenantId: "acme",
  detail: {
    kind: "admin",
    actorKeyId: "ak_test_admin",
    actorUserId: "ann",
    action: "key_updated",
    keyId: "ak_test_target",
    groupId: "",
    changedFields: ["name"],
    requestId: "req-1",
  },
};

const service = createInMemoryService();
const usageQueries: KeyUsageQuery[] = [];
const adminQueries: AdminEventQuery[] = [];
const follows: AuditFollowRequest[] = [];
/** stream is what the hub yields next (or throws after yielding the items). */
let stream: { items: AuditStreamItem[]; error?: unknown } = { items: [] };

const reader = createAuditReader({
  keys: service.keys,
  log: {
    async listKeyUsage(query) {
      usageQueries.push(query);
      return { items: [usageEvent], nextCursor: "next-usage" };
    },
    async listAdminEvents(query) {
      adminQueries.push(query);
      return { items: [adminEvent], nextCursor: null };
    },
  },
  hub: {
    async *follow(request) {
      follows.push(request);
      yield* stream.items;
      if (stream.error !== undefined) {
        throw stream.error;
      }
    },
  },
});
const audit = service.auditClient(reader);
const keys = { superuser: "", acmeAdmin: "", plain: "" };
let acmeKeyId = "";
let globexKeyId = "";

beforeAll(async () => {
  keys.superuser = await service.superuser();
  await service.tenant("acme", "globex");
  keys.acmeAdmin = await service.issue({ tenantId: "acme", permissions: [ADMIN_PERMISSION] });
  keys.plain = await service.issue({ tenantId: "acme", userId: "u1" });
  acmeKeyId = (await service.admin.createKey({ tenantId: "acme", name: "target" }, bearer(keys.superuser)))
    .key!.keyId;
  globexKeyId = (
    await service.admin.createKey({ tenantId: "globex", name: "theirs" }, bearer(keys.superuser))
  ).key!.keyId;
});

/** streamAnswer reads a whole stream (what the hub gives it) and returns its messages or its failure. */
async function streamAnswer(request: Parameters<typeof audit.streamAuditEvents>[0], key: string | null) {
  const messages = [];
  const options = key === null ? {} : bearer(key);
  try {
    for await (const message of audit.streamAuditEvents(request, options)) {
      messages.push(message);
    }
    return { messages, failure: null };
  } catch (error) {
    return { messages, failure: rpcFailureOf(error) };
  }
}

describe("who may read audit events", () => {
  it.each<[string, () => Promise<unknown>, string]>([
    ["ListKeyUsage without a credential", () => audit.listKeyUsage({ keyId: acmeKeyId }), "UNAUTHENTICATED"],
    [
      "ListKeyUsage by a key without admin rights",
      () => audit.listKeyUsage({ keyId: acmeKeyId }, bearer(keys.plain)),
      "PERMISSION_DENIED",
    ],
    [
      "ListKeyUsage of another tenant's key",
      () => audit.listKeyUsage({ keyId: globexKeyId }, bearer(keys.acmeAdmin)),
      "NOT_FOUND",
    ],
    [
      "ListAdminEvents naming another tenant",
      () => audit.listAdminEvents({ tenantId: "globex" }, bearer(keys.acmeAdmin)),
      "PERMISSION_DENIED",
    ],
    [
      "ListAdminEvents by a key without admin rights",
      () => audit.listAdminEvents({}, bearer(keys.plain)),
      "PERMISSION_DENIED",
    ],
  ])("refuses %s with %s", async (_name, call, code) => {
    const before = usageQueries.length + adminQueries.length;
    expect((await rpcFailure(call())).code).toBe(code);
    expect(usageQueries.length + adminQueries.length, "nothing was read").toBe(before);
  });

  it.each<[string, () => string, Record<string, string>, string]>([
    ["without a credential", () => "", {}, "UNAUTHENTICATED"],
    ["with an unknown key", () => `${keys.plain}x`, {}, "UNAUTHENTICATED"],
    ["by a key without admin rights", () => keys.plain, {}, "PERMISSION_DENIED"],
    [
      "by a tenant admin naming another tenant",
      () => keys.acmeAdmin,
      { tenantId: "globex" },
      "PERMISSION_DENIED",
    ],
  ])("refuses StreamAuditEvents %s with %s before following", async (_name, keyOf, request, code) => {
    const before = follows.length;
    stream = { items: [] };
    const answer = await streamAnswer(request, keyOf() === "" ? null : keyOf());
    expect(answer.failure?.code).toBe(code);
    expect(follows.length).toBe(before);
  });

  it.each<[string, () => string, string, string | null]>([
    ["a tenant admin without tenant_id", () => keys.acmeAdmin, "", "acme"],
    ["a tenant admin naming its own tenant", () => keys.acmeAdmin, "acme", "acme"],
    ["a super user without tenant_id", () => keys.superuser, "", null],
    ["a super user naming a tenant", () => keys.superuser, "globex", "globex"],
  ])("lets %s follow, restricted to the right tenant", async (_name, keyOf, tenantId, restrictedTo) => {
    stream = { items: [] };
    expect((await streamAnswer({ tenantId }, keyOf())).failure).toBeNull();
    expect(follows.at(-1)?.filter.tenantId).toBe(restrictedTo);
  });
});

describe("request mapping", () => {
  it("maps ListKeyUsage's times, verdict codes and page size, scoped to the key's tenant", async () => {
    const from = new Date("2031-04-01T00:00:00.5Z");
    const to = new Date("2031-04-02T00:00:00Z");
    await audit.listKeyUsage(
      {
        keyId: acmeKeyId,
        startTime: timestampFromDate(from),
        endTime: timestampFromDate(to),
        codes: [VerificationCode.REVOKED, VerificationCode.IP_NOT_ALLOWED],
        pageSize: 7,
      },
      bearer(keys.superuser),
    );
    expect(usageQueries.at(-1)).toMatchObject({
      keyId: acmeKeyId,
      tenantId: "acme",
      from,
      to,
      codes: ["revoked", "ip_not_allowed"],
      limit: 7,
      after: null,
    });
  });

  it.each<[string, Parameters<typeof audit.listKeyUsage>[0], string]>([
    ["an unspecified verdict code", { codes: [VerificationCode.UNSPECIFIED] }, "codes"],
    ["an undefined verdict code", { codes: [99 as VerificationCode] }, "codes"],
    ["a start time in year 10000", { startTime: { seconds: 253_402_300_800n, nanos: 0 } }, "start_time"],
    ["an end time with negative nanos", { endTime: { seconds: 1n, nanos: -1 } }, "end_time"],
  ])("refuses ListKeyUsage with %s naming the field", async (_name, fields, field) => {
    const failure = await rpcFailure(
      audit.listKeyUsage({ keyId: acmeKeyId, ...fields }, bearer(keys.superuser)),
    );
    expect(failure.code).toBe("INVALID_ARGUMENT");
    expect(failure.message.startsWith(`${field}: `), failure.message).toBe(true);
  });

  it("maps ListAdminEvents' filters, the tenant defaulting to the caller's", async () => {
    await audit.listAdminEvents({ keyId: acmeKeyId, pageSize: 3 }, bearer(keys.acmeAdmin));
    expect(adminQueries.at(-1)).toMatchObject({
      tenantId: "acme",
      keyId: acmeKeyId,
      groupId: null,
      limit: 3,
    });
  });

  it.each<[string, Parameters<typeof audit.streamAuditEvents>[0], AuditFollowRequest["start"]]>([
    ["no start", {}, { kind: "now" }],
    [
      "a start time",
      { start: { case: "startTime", value: timestampFromDate(T) } },
      { kind: "time", time: T },
    ],
    [
      "a resume cursor",
      { start: { case: "resumeCursor", value: encodeAuditCursor(7) } },
      { kind: "cursor", cursor: encodeAuditCursor(7) },
    ],
  ])("maps a stream with %s to where it starts", async (_name, request, start) => {
    stream = { items: [] };
    await streamAnswer(request, keys.superuser);
    expect(follows.at(-1)?.start).toEqual(start);
  });

  it.each<[string, AuditEventKind[], string[]]>([
    ["no kinds", [], []],
    ["usage only", [AuditEventKind.USAGE], ["usage"]],
    ["both kinds", [AuditEventKind.ADMIN, AuditEventKind.USAGE], ["admin", "usage"]],
    ["a list holding UNSPECIFIED", [AuditEventKind.USAGE, AuditEventKind.UNSPECIFIED], []],
  ])("maps a stream's kind filter of %s", async (_name, kinds, expected) => {
    stream = { items: [] };
    await streamAnswer({ kinds, keyId: acmeKeyId }, keys.superuser);
    expect(follows.at(-1)?.filter).toMatchObject({ kinds: expected, keyId: acmeKeyId });
  });

  it("refuses a stream with an undefined kind before following", async () => {
    const before = follows.length;
    const answer = await streamAnswer({ kinds: [7 as AuditEventKind] }, keys.superuser);
    expect(answer.failure?.code).toBe("INVALID_ARGUMENT");
    expect(answer.failure?.message.startsWith("kinds: ")).toBe(true);
    expect(follows.length).toBe(before);
  });
});

describe("answer mapping", () => {
  it("maps a usage event and the next page token", async () => {
    const page = await audit.listKeyUsage({ keyId: acmeKeyId }, bearer(keys.superuser));
    expect(page.nextPageToken).toBe("next-usage");
    const [event] = page.events;
    expect(event).toMatchObject({
      eventId: "evt-usage",
      cursor: encodeAuditCursor(41),
      tenantId: "acme",
      kind: AuditEventKind.USAGE,
      detail: {
        case: "usage",
        value: {
          keyId: "ak_test_target",
          endpoint: "GET /orders",
          clientIp: "10.0.0.7",
          code: VerificationCode.REVOKED,
          httpStatus: 401,
          replica: "r1",
        },
      },
    });
    expect(timestampDate(event!.time!)).toEqual(T);
  });

  it("maps an admin event, and a last page to an empty token", async () => {
    const page = await audit.listAdminEvents({}, bearer(keys.acmeAdmin));
    expect(page.nextPageToken).toBe("");
    expect(page.events[0]).toMatchObject({
      eventId: "evt-admin",
      kind: AuditEventKind.ADMIN,
      detail: {
        case: "admin",
        value: {
          actorKeyId: "ak_test_admin",
          actorUserId: "ann",
          action: AdminAction.KEY_UPDATED,
          keyId: "ak_test_target",
          changedFields: ["name"],
          requestId: "req-1",
        },
      },
    });
  });

  it("streams events and heartbeats with their cursors, in order", async () => {
    stream = {
      items: [
        { type: "event", event: adminEvent, cursor: encodeAuditCursor(42) },
        { type: "heartbeat", seq: 42, cursor: encodeAuditCursor(42), time: T },
      ],
    };
    const answer = await streamAnswer({}, keys.superuser);
    expect(answer.failure).toBeNull();
    expect(answer.messages.map((message) => message.message.case)).toEqual(["event", "heartbeat"]);
    expect(answer.messages[0]?.message.value).toMatchObject({
      eventId: "evt-admin",
      cursor: encodeAuditCursor(42),
    });
    expect(answer.messages[1]?.message.value).toMatchObject({ cursor: encodeAuditCursor(42) });
  });
});

describe("stream errors a client acts on", () => {
  it("answers an expired cursor with OUT_OF_RANGE, reason AUDIT_CURSOR_EXPIRED and the earliest cursor", async () => {
    stream = { items: [], error: new AuditCursorExpiredError(17) };
    const error = await captureError(async () => {
      for await (const _message of audit.streamAuditEvents({}, bearer(keys.superuser))) {
        // drain
      }
    });
    const failure = rpcFailureOf(error);
    expect(failure).toMatchObject({ code: "OUT_OF_RANGE", reason: AUDIT_CURSOR_EXPIRED });
    expect(errorInfoOf(error as never)?.metadata[EARLIEST_CURSOR_KEY]).toBe(encodeAuditCursor(17));
    expect(failure.message).toContain(encodeAuditCursor(17));
  });

  it("ends a slow consumer's stream after the events it got, with RESOURCE_EXHAUSTED and its reason", async () => {
    stream = {
      items: [{ type: "event", event: usageEvent, cursor: encodeAuditCursor(41) }],
      error: new DomainError("resource_exhausted", "the consumer fell behind", {
        reason: SLOW_CONSUMER_REASON,
      }),
    };
    const answer = await streamAnswer({}, keys.superuser);
    expect(answer.messages).toHaveLength(1);
    expect(answer.failure).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: SLOW_CONSUMER_REASON });
  });
});
