/**
 * A scripted in-memory KeyAdminService + AuditService served by a REAL connect-node server: the gRPC protocol
 * over HTTP/2 (h2c) on one port — what `apikeys --server` talks to — and the Connect protocol over HTTP/1.1 on
 * another (`--url`). It stands in for the real service until it exists; it checks the admin key, keeps keys,
 * groups and tenants in memory, records every request, and feeds the audit stream from a list the test appends
 * to. Semantics are the contract's, simplified.
 */
import { EventEmitter, once } from "node:events";
import { createServer as createHttp1Server, type Server as Http1Server } from "node:http";
import { createServer as createHttp2Server, type Http2Server, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  AdminAction,
  type AuditEvent,
  AuditEventKind,
  AuditEventSchema,
} from "../../../src/gen/apikeys/v1/audit_pb.js";
import { AuditService } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import {
  ExpirationState,
  type Group,
  GroupSchema,
  type Key,
  KeySchema,
  KeyStatus,
  type Tenant,
  TenantSchema,
} from "../../../src/gen/apikeys/v1/key_pb.js";
import { VerificationCode } from "../../../src/gen/apikeys/v1/key_verify_service_pb.js";

/** ADMIN_KEY authenticates as super user; READER_KEY is a valid key without admin permissions. */
export const ADMIN_KEY = "ak_test_admin0000000000_AdminSecretPartAbcdefghijklmn";
export const READER_KEY = "ak_test_reader000000000_ReaderSecretPartAbcdefghijklm";
export const BOOTSTRAP_TOKEN = "bootstrap-token-for-tests-0123456789";
/** DEFAULT_KEY_LIMIT is the double's server-default tenant key limit. */
export const DEFAULT_KEY_LIMIT = 1000;
/** FULL_TENANT has reached its key limit. */
export const FULL_TENANT = "full-tenant";

/** RecordedRequest is one RPC the double received. */
export interface RecordedRequest {
  method: string;
  message: Record<string, unknown>;
  authorization: string | null;
}

/** AdminDouble is a running double. */
export interface AdminDouble {
  /** grpcAddress is "127.0.0.1:port" of the gRPC (HTTP/2) listener. */
  grpcAddress: string;
  /** connectUrl is the base URL of the Connect (HTTP/1.1) listener. */
  connectUrl: string;
  requests: RecordedRequest[];
  /** secrets lists every secret the double issued (to check none leaks where it must not). */
  secrets: string[];
  /** streamStarts records the start of every StreamAuditEvents call. */
  streamStarts: { case: string | undefined; value: string }[];
  /** addUsage appends usage events of a key (also delivered to live streams). */
  addUsage(keyId: string, tenantId: string, count: number): AuditEvent[];
  /** failStreamsAfter makes the next streams fail with UNAVAILABLE after n events (null: never). */
  failStreamsAfter(n: number | null): void;
  /** stop closes both listeners and drops every connection; start listens again on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

interface State {
  keys: Map<string, Key>;
  secretsOf: Map<string, string>;
  groups: Map<string, Group>;
  tenants: Map<string, Tenant>;
  requestIds: Map<string, unknown>;
  events: AuditEvent[];
  bootstrapped: boolean;
  counter: number;
}

function caller(context: HandlerContext): "admin" | "reader" {
  const header = context.requestHeader.get("authorization") ?? "";
  if (header === `Bearer ${ADMIN_KEY}`) {
    return "admin";
  }
  if (header === `Bearer ${READER_KEY}`) {
    return "reader";
  }
  throw new ConnectError("missing or invalid API key", Code.Unauthenticated);
}

function requireAdmin(context: HandlerContext): void {
  if (caller(context) !== "admin") {
    throw new ConnectError("this key may not manage keys", Code.PermissionDenied);
  }
}

function randomPart(length: number): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  let out = "";
  for (let i = 0; i < length; i++) {
    out += alphabet[Math.floor(Math.random() * alphabet.length)];
  }
  return out;
}

/** startAdminDouble starts the double on two ports of 127.0.0.1. */
export async function startAdminDouble(options: { heartbeatMs?: number } = {}): Promise<AdminDouble> {
  const heartbeatMs = options.heartbeatMs ?? 200;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(100);
  const state: State = {
    keys: new Map(),
    secretsOf: new Map(),
    groups: new Map(),
    tenants: new Map([
      [
        FULL_TENANT,
        create(TenantSchema, { tenantId: FULL_TENANT, keyLimit: 1, usedKeys: 1, keyLimitOverridden: true }),
      ],
    ]),
    requestIds: new Map(),
    events: [],
    bootstrapped: false,
    counter: 0,
  };
  const requests: RecordedRequest[] = [];
  const secrets: string[] = [];
  const streamStarts: { case: string | undefined; value: string }[] = [];
  let failAfter: number | null = null;

  const record = (method: string, message: object, context: HandlerContext): void => {
    requests.push({
      method,
      message: { ...(message as Record<string, unknown>) },
      authorization: context.requestHeader.get("authorization"),
    });
  };
  const tenantOf = (tenantId: string): Tenant => {
    let tenant = state.tenants.get(tenantId);
    if (tenant === undefined) {
      tenant = create(TenantSchema, { tenantId, keyLimit: DEFAULT_KEY_LIMIT, usedKeys: 0 });
      state.tenants.set(tenantId, tenant);
    }
    return tenant;
  };
  const appendEvent = (init: MessageInitShape<typeof AuditEventSchema>): AuditEvent => {
    const seq = state.events.length + 1;
    const event = create(AuditEventSchema, {
      ...init,
      eventId: `evt_${seq}`,
      cursor: `c${String(seq).padStart(6, "0")}`,
      time: timestampFromDate(new Date()),
    });
    state.events.push(event);
    emitter.emit("event");
    return event;
  };
  const adminEvent = (
    tenantId: string,
    action: AdminAction,
    keyId: string,
    requestId: string,
    fields: string[] = [],
  ) =>
    appendEvent({
      tenantId,
      kind: AuditEventKind.ADMIN,
      detail: {
        case: "admin",
        value: { actorKeyId: "ak_test_admin0000000000", action, keyId, requestId, changedFields: fields },
      },
    });
  const issue = (key: Key): string => {
    const secretKey = randomPart(32);
    const secret = `${key.keyId}_${secretKey}`;
    state.secretsOf.set(key.keyId, secret);
    secrets.push(secret);
    key.displayHint = `${key.keyId}_${secretKey.slice(0, 4)}…`;
    return secret;
  };
  const findKey = (keyId: string): Key => {
    const key = state.keys.get(keyId);
    if (key === undefined || key.deleteTime !== undefined) {
      throw new ConnectError(`key ${keyId} not found`, Code.NotFound);
    }
    return key;
  };
  // A replayed CreateKey/RotateKey answers the metadata with secret_already_issued and no secret.
  const replay = <T extends object>(requestId: string, produce: () => T): T => {
    if (requestId !== "" && state.requestIds.has(requestId)) {
      const first = state.requestIds.get(requestId) as T;
      return { ...first, secret: "", secretKey: "", secretAlreadyIssued: true };
    }
    const result = produce();
    if (requestId !== "") {
      state.requestIds.set(requestId, result);
    }
    return result;
  };

  const routes = (router: ConnectRouter): void => {
    router.service(KeyAdminService, {
      async bootstrap(request, context) {
        record("Bootstrap", { ...request, bootstrapToken: "(redacted)" }, context);
        if (request.bootstrapToken !== BOOTSTRAP_TOKEN) {
          throw new ConnectError("invalid bootstrap token", Code.Unauthenticated);
        }
        if (state.bootstrapped && !request.force) {
          throw new ConnectError("an active super-user key exists; use force", Code.FailedPrecondition);
        }
        state.bootstrapped = true;
        const key = create(KeySchema, {
          keyId: `ak_test_boot${String(++state.counter).padStart(12, "0")}`,
          tenantId: "_system",
          name: request.name === "" ? "bootstrap super user" : request.name,
          permissions: ["apikeys:superuser"],
          status: KeyStatus.ACTIVE,
          expirationState: ExpirationState.VALID,
          createdBy: "bootstrap",
          createTime: timestampFromDate(new Date()),
        });
        const secret = issue(key);
        state.keys.set(key.keyId, key);
        return { key, secret };
      },
      async createKey(request, context) {
        record("CreateKey", request, context);
        requireAdmin(context);
        return replay(request.requestId, () => {
          const name = request.name.trim();
          if (name.length < 2 || name.length > 200) {
            throw new ConnectError("name: must be 2-200 characters", Code.InvalidArgument);
          }
          const tenant = tenantOf(request.tenantId);
          if (tenant.usedKeys >= tenant.keyLimit) {
            throw new ConnectError(
              `tenant ${request.tenantId} reached its key limit`,
              Code.ResourceExhausted,
            );
          }
          if (request.groupId !== "" && !state.groups.has(request.groupId)) {
            throw new ConnectError("group_id: unknown group", Code.InvalidArgument);
          }
          tenant.usedKeys += 1;
          const key = create(KeySchema, {
            keyId: `ak_test_${String(++state.counter).padStart(16, "0")}`,
            tenantId: request.tenantId,
            name,
            description: request.description,
            userId: request.userId,
            groupId: request.groupId,
            permissions: request.permissions,
            ipAllowlist: request.ipAllowlist,
            status: KeyStatus.ACTIVE,
            expirationState: ExpirationState.VALID,
            createdBy: "ak_test_admin0000000000",
            createTime: timestampFromDate(new Date()),
            updateTime: timestampFromDate(new Date()),
            ...(request.expireTime === undefined ? {} : { expireTime: request.expireTime }),
          });
          const secret = issue(key);
          key.secrets = [{ $typeName: "apikeys.v1.KeySecret", generation: 1, displayHint: key.displayHint }];
          state.keys.set(key.keyId, key);
          adminEvent(key.tenantId, AdminAction.KEY_CREATED, key.keyId, request.requestId);
          return { key, secret, secretKey: secret.slice(key.keyId.length + 1) };
        });
      },
      async getKey(request, context) {
        record("GetKey", request, context);
        caller(context);
        return { key: findKey(request.keyId) };
      },
      async listKeys(request, context) {
        record("ListKeys", request, context);
        caller(context);
        const all = [...state.keys.values()]
          .filter((key) => request.tenantId === "" || key.tenantId === request.tenantId)
          .filter((key) => request.showDeleted || key.deleteTime === undefined)
          .filter((key) => request.status === KeyStatus.UNSPECIFIED || key.status === request.status)
          .filter(
            (key) =>
              request.nameQuery === "" || key.name.toLowerCase().includes(request.nameQuery.toLowerCase()),
          )
          .reverse();
        const size = request.pageSize === 0 ? 50 : request.pageSize;
        const offset = request.pageToken === "" ? 0 : Number(request.pageToken.replace("page:", ""));
        if (Number.isNaN(offset)) {
          throw new ConnectError("page_token: malformed", Code.InvalidArgument);
        }
        const keys = all.slice(offset, offset + size);
        const next = offset + size < all.length ? `page:${offset + size}` : "";
        return {
          keys,
          nextPageToken: next,
          ...(request.tenantId === "" ? {} : { tenant: tenantOf(request.tenantId) }),
        };
      },
      async updateKey(request, context) {
        record("UpdateKey", request, context);
        requireAdmin(context);
        const key = findKey(request.key?.keyId ?? "");
        if (key.status === KeyStatus.REVOKED) {
          throw new ConnectError("key is revoked", Code.FailedPrecondition);
        }
        const paths = request.updateMask?.paths ?? [];
        for (const path of paths) {
          switch (path) {
            case "name":
              key.name = request.key?.name ?? "";
              break;
            case "description":
              key.description = request.key?.description ?? "";
              break;
            case "user_id":
              key.userId = request.key?.userId ?? "";
              break;
            case "group_id":
              key.groupId = request.key?.groupId ?? "";
              break;
            case "permissions":
              key.permissions = request.key?.permissions ?? [];
              break;
            case "ip_allowlist":
              key.ipAllowlist = request.key?.ipAllowlist ?? [];
              break;
            case "expire_time":
              if (request.key?.expireTime !== undefined) {
                key.expireTime = request.key.expireTime;
              }
              break;
            default:
              throw new ConnectError(`update_mask: unknown path ${path}`, Code.InvalidArgument);
          }
        }
        adminEvent(key.tenantId, AdminAction.KEY_UPDATED, key.keyId, request.requestId, paths);
        return { key };
      },
      async rotateKey(request, context) {
        record("RotateKey", request, context);
        requireAdmin(context);
        return replay(request.requestId, () => {
          const key = findKey(request.keyId);
          if (key.status === KeyStatus.REVOKED) {
            throw new ConnectError("a revoked key cannot be rotated", Code.FailedPrecondition);
          }
          const secret = issue(key);
          if (request.expireTime !== undefined) {
            key.expireTime = request.expireTime;
          }
          adminEvent(key.tenantId, AdminAction.KEY_ROTATED, key.keyId, request.requestId);
          return { key, secret, secretKey: secret.slice(key.keyId.length + 1) };
        });
      },
      async revokeKey(request, context) {
        record("RevokeKey", request, context);
        requireAdmin(context);
        const key = findKey(request.keyId);
        if (key.status !== KeyStatus.REVOKED) {
          key.status = KeyStatus.REVOKED;
          key.revokeTime = timestampFromDate(new Date());
          key.revokedBy = "ak_test_admin0000000000";
          key.revokeReason = request.reason;
          tenantOf(key.tenantId).usedKeys -= 1;
          adminEvent(key.tenantId, AdminAction.KEY_REVOKED, key.keyId, request.requestId);
        }
        return { key };
      },
      async deleteKey(request, context) {
        record("DeleteKey", request, context);
        requireAdmin(context);
        const key = findKey(request.keyId);
        key.deleteTime = timestampFromDate(new Date());
        adminEvent(key.tenantId, AdminAction.KEY_DELETED, key.keyId, request.requestId);
        return { key };
      },
      async createGroup(request, context) {
        record("CreateGroup", request, context);
        requireAdmin(context);
        if (
          [...state.groups.values()].some((g) => g.tenantId === request.tenantId && g.name === request.name)
        ) {
          throw new ConnectError(`a group named ${request.name} exists`, Code.AlreadyExists);
        }
        const group = create(GroupSchema, {
          groupId: `grp_${String(++state.counter).padStart(16, "0")}`,
          tenantId: request.tenantId,
          name: request.name,
          description: request.description,
          permissions: request.permissions,
          createTime: timestampFromDate(new Date()),
        });
        state.groups.set(group.groupId, group);
        return { group };
      },
      async getGroup(request, context) {
        record("GetGroup", request, context);
        caller(context);
        const group = state.groups.get(request.groupId);
        if (group === undefined) {
          throw new ConnectError(`group ${request.groupId} not found`, Code.NotFound);
        }
        group.keyCount = [...state.keys.values()].filter(
          (k) => k.groupId === group.groupId && !k.deleteTime,
        ).length;
        return { group };
      },
      async listGroups(request, context) {
        record("ListGroups", request, context);
        caller(context);
        const groups = [...state.groups.values()]
          .filter((g) => request.tenantId === "" || g.tenantId === request.tenantId)
          .sort((a, b) => a.name.localeCompare(b.name));
        return { groups, nextPageToken: "" };
      },
      async updateGroup(request, context) {
        record("UpdateGroup", request, context);
        requireAdmin(context);
        const group = state.groups.get(request.group?.groupId ?? "");
        if (group === undefined) {
          throw new ConnectError("group not found", Code.NotFound);
        }
        for (const path of request.updateMask?.paths ?? []) {
          if (path === "name") {
            group.name = request.group?.name ?? "";
          } else if (path === "description") {
            group.description = request.group?.description ?? "";
          } else if (path === "permissions") {
            group.permissions = request.group?.permissions ?? [];
          }
        }
        return { group };
      },
      async deleteGroup(request, context) {
        record("DeleteGroup", request, context);
        requireAdmin(context);
        if (!state.groups.has(request.groupId)) {
          throw new ConnectError("group not found", Code.NotFound);
        }
        if ([...state.keys.values()].some((k) => k.groupId === request.groupId && !k.deleteTime)) {
          throw new ConnectError("keys still use this group", Code.FailedPrecondition);
        }
        state.groups.delete(request.groupId);
        return {};
      },
      async getTenant(request, context) {
        record("GetTenant", request, context);
        caller(context);
        return { tenant: tenantOf(request.tenantId === "" ? "_system" : request.tenantId) };
      },
      async updateTenant(request, context) {
        record("UpdateTenant", request, context);
        requireAdmin(context);
        const tenant = tenantOf(request.tenantId);
        tenant.keyLimit = request.keyLimit ?? DEFAULT_KEY_LIMIT;
        tenant.keyLimitOverridden = request.keyLimit !== undefined;
        return { tenant };
      },
    });
    router.service(AuditService, {
      async listKeyUsage(request, context) {
        record("ListKeyUsage", request, context);
        requireAdmin(context);
        const matching = state.events
          .filter((e) => e.detail.case === "usage" && e.detail.value.keyId === request.keyId)
          .filter(
            (e) =>
              request.codes.length === 0 ||
              (e.detail.case === "usage" && request.codes.includes(e.detail.value.code)),
          )
          .reverse();
        const size = request.pageSize === 0 ? 50 : request.pageSize;
        const offset = request.pageToken === "" ? 0 : Number(request.pageToken);
        return {
          events: matching.slice(offset, offset + size),
          nextPageToken: offset + size < matching.length ? String(offset + size) : "",
        };
      },
      async listAdminEvents(request, context) {
        record("ListAdminEvents", request, context);
        requireAdmin(context);
        return {
          events: state.events
            .filter((e) => e.detail.case === "admin")
            .filter(
              (e) =>
                request.keyId === "" || (e.detail.case === "admin" && e.detail.value.keyId === request.keyId),
            )
            .reverse(),
          nextPageToken: "",
        };
      },
      async *streamAuditEvents(request, context) {
        record("StreamAuditEvents", request, context);
        requireAdmin(context);
        streamStarts.push({
          case: request.start.case,
          value:
            request.start.case === "resumeCursor"
              ? request.start.value
              : request.start.case === "startTime"
                ? timestampDate(request.start.value).toISOString()
                : "",
        });
        let position: number;
        if (request.start.case === "resumeCursor") {
          const index = state.events.findIndex((e) => e.cursor === request.start.value);
          if (index === -1 && request.start.value !== "c000000") {
            throw new ConnectError("resume_cursor: unknown cursor", Code.InvalidArgument);
          }
          position = index + 1;
        } else if (request.start.case === "startTime") {
          const from = timestampDate(request.start.value).getTime();
          const index = state.events.findIndex(
            (e) => e.time !== undefined && timestampDate(e.time).getTime() >= from,
          );
          position = index === -1 ? state.events.length : index;
        } else {
          position = state.events.length;
        }
        const limit = failAfter;
        let sent = 0;
        const matches = (event: AuditEvent): boolean =>
          (request.tenantId === "" || event.tenantId === request.tenantId) &&
          (request.kinds.length === 0 || request.kinds.includes(event.kind)) &&
          (request.keyId === "" ||
            (event.detail.case === "usage" && event.detail.value.keyId === request.keyId) ||
            (event.detail.case === "admin" && event.detail.value.keyId === request.keyId));
        while (!context.signal.aborted) {
          while (position < state.events.length) {
            const event = state.events[position] as AuditEvent;
            position += 1;
            if (!matches(event)) {
              continue;
            }
            if (limit !== null && sent >= limit) {
              throw new ConnectError("replica shutting down", Code.Unavailable);
            }
            sent += 1;
            yield { message: { case: "event", value: event } };
          }
          const woke = await Promise.race([
            once(emitter, "event", { signal: context.signal }).then(() => "event" as const),
            new Promise<"heartbeat">((resolve) => setTimeout(() => resolve("heartbeat"), heartbeatMs)),
          ]).catch(() => "aborted" as const);
          if (woke === "heartbeat") {
            const cursor = state.events[position - 1]?.cursor ?? "c000000";
            yield { message: { case: "heartbeat", value: { cursor, time: timestampFromDate(new Date()) } } };
          }
        }
      },
    });
  };

  const handler = connectNodeAdapter({ routes });
  let http2Server: Http2Server | null = null;
  let http1Server: Http1Server | null = null;
  const sessions = new Set<Http2Session>();
  let grpcPort = 0;
  let connectPort = 0;

  const listen = async (): Promise<void> => {
    const h2 = createHttp2Server(handler);
    h2.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
    await new Promise<void>((resolve) => h2.listen(grpcPort, "127.0.0.1", resolve));
    grpcPort = (h2.address() as AddressInfo).port;
    const h1 = createHttp1Server(handler);
    await new Promise<void>((resolve) => h1.listen(connectPort, "127.0.0.1", resolve));
    connectPort = (h1.address() as AddressInfo).port;
    http2Server = h2;
    http1Server = h1;
  };
  await listen();

  return {
    grpcAddress: `127.0.0.1:${grpcPort}`,
    connectUrl: `http://127.0.0.1:${connectPort}`,
    requests,
    secrets,
    streamStarts,
    addUsage(keyId, tenantId, count) {
      const added: AuditEvent[] = [];
      for (let i = 0; i < count; i++) {
        added.push(
          appendEvent({
            tenantId,
            kind: AuditEventKind.USAGE,
            detail: {
              case: "usage",
              value: {
                keyId,
                endpoint: `GET /api/products/${i}`,
                clientIp: "203.0.113.9",
                code: i % 3 === 2 ? VerificationCode.IP_NOT_ALLOWED : VerificationCode.VALID,
                httpStatus: i % 3 === 2 ? 403 : 200,
                replica: "double-1",
              },
            },
          }),
        );
      }
      return added;
    },
    failStreamsAfter(n) {
      failAfter = n;
    },
    async stop() {
      const h2 = http2Server;
      const h1 = http1Server;
      http2Server = null;
      http1Server = null;
      for (const session of sessions) {
        session.destroy();
      }
      h1?.closeAllConnections();
      await Promise.all([
        h2 === null ? undefined : new Promise((resolve) => h2.close(resolve)),
        h1 === null ? undefined : new Promise((resolve) => h1.close(resolve)),
      ]);
    },
    async start() {
      await listen();
    },
  };
}
