/**
 * In-memory implementations of the admin ports, for tests about mapping and access rules that need no
 * database. They keep the contracts of src/domain/ports.ts that the use cases rely on: version-guarded
 * replaces, group names unique per tenant ignoring case, the tenant key limit, request-id claims, and the
 * storage listings' order and opaque cursors (the same cursor codec as the MongoDB repositories, so a bad
 * page token is refused the same way). Records are copied in and out, so a test cannot change stored state
 * by accident. Storage behaviour itself (indexes, races between processes) is tested against MongoDB.
 */
import {
  type ApiKeyRecord,
  expirationStateAt,
  type GroupRecord,
  keyStatusAt,
  type TenantRecord,
} from "../../src/domain/api-key.js";
import type { NewAuditEvent } from "../../src/domain/audit-event.js";
import { DomainError } from "../../src/domain/errors.js";
import { createPageTokenCodec } from "../../src/domain/page-token.js";
import type {
  AuditSink,
  Clock,
  GroupRepository,
  IdempotencyClaim,
  IdempotencyStore,
  KeyChangeNotifier,
  KeyListQuery,
  KeyRepository,
  Page,
  TenantRepository,
} from "../../src/domain/ports.js";
import { lowerName } from "../../src/storage/key-document.js";
import { cursorString, cursorTime, decodeCursor, encodeCursor } from "../../src/storage/page-cursor.js";
import { testFormat, testHasher } from "./key-fixtures.js";
import { cryptoRandom } from "./random.js";

const copyKey = (key: ApiKeyRecord): ApiKeyRecord => structuredClone(key);
const copyGroup = (group: GroupRecord): GroupRecord => structuredClone(group);

function guardedVersion(stored: { version: number } | undefined, next: number, expected: number): boolean {
  if (next !== expected + 1) {
    throw new RangeError(`replace must write version ${expected + 1}, got ${next}`);
  }
  return stored !== undefined && stored.version === expected;
}

/** MemoryKeyRepository is a KeyRepository in a Map; `records` exposes what is stored (read only). */
export interface MemoryKeyRepository extends KeyRepository {
  readonly records: ReadonlyMap<string, ApiKeyRecord>;
}

/** createMemoryKeyRepository stores keys in memory, listing them newest first like the MongoDB one. */
export function createMemoryKeyRepository(): MemoryKeyRepository {
  const records = new Map<string, ApiKeyRecord>();
  const matches = (key: ApiKeyRecord, query: KeyListQuery): boolean =>
    key.tenantId === query.tenantId &&
    (query.includeDeleted || key.deletedAt === null) &&
    (query.status === null || keyStatusAt(key, query.now) === query.status) &&
    (query.expirationState === null ||
      expirationStateAt(key, query.now, query.expiringSoonWindowMs) === query.expirationState) &&
    (query.userId === null || key.userId === query.userId) &&
    (query.groupId === null || key.groupId === query.groupId) &&
    (query.nameContains === null || lowerName(key.name).includes(lowerName(query.nameContains)));
  const newestFirst = (a: ApiKeyRecord, b: ApiKeyRecord): number =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  return {
    records,
    async insert(key) {
      if (records.has(key.id)) {
        throw new DomainError("already_exists", "a key with this id already exists");
      }
      records.set(key.id, copyKey(key));
    },
    async findById(id) {
      const key = records.get(id);
      return key === undefined ? null : copyKey(key);
    },
    async list(query): Promise<Page<ApiKeyRecord>> {
      let after: ((key: ApiKeyRecord) => boolean) | null = null;
      if (query.after !== null) {
        const position = decodeCursor(query.after);
        const time = cursorTime(position, "t").getTime();
        const id = cursorString(position, "i");
        after = (key) => key.createdAt.getTime() < time || (key.createdAt.getTime() === time && key.id < id);
      }
      const all = [...records.values()]
        .filter((key) => matches(key, query) && (after === null || after(key)))
        .sort(newestFirst);
      const items = all.slice(0, query.limit).map(copyKey);
      const last = items.at(-1);
      const nextCursor =
        all.length > query.limit && last !== undefined
          ? encodeCursor({ t: last.createdAt.getTime(), i: last.id })
          : null;
      return { items, nextCursor };
    },
    async replace(next, expectedVersion) {
      const stored = records.get(next.id);
      if (!guardedVersion(stored, next.version, expectedVersion) || stored === undefined) {
        return false;
      }
      // lastUsedAt only moves through recordLastUsed, as in the MongoDB repository.
      records.set(next.id, { ...copyKey(next), lastUsedAt: stored.lastUsedAt });
      return true;
    },
    async countByGroup(tenantId, groupId) {
      return [...records.values()].filter(
        (key) => key.tenantId === tenantId && key.groupId === groupId && key.deletedAt === null,
      ).length;
    },
    async hasAnyWithPermission(tenantId, permission) {
      return [...records.values()].some(
        (key) => key.tenantId === tenantId && key.permissions.includes(permission),
      );
    },
    async recordLastUsed(entries) {
      for (const { id, at } of entries) {
        const key = records.get(id);
        if (key !== undefined && (key.lastUsedAt === null || key.lastUsedAt < at)) {
          records.set(id, { ...key, lastUsedAt: at });
        }
      }
    },
  };
}

/** MemoryGroupRepository is a GroupRepository in a Map; `records` exposes what is stored (read only). */
export interface MemoryGroupRepository extends GroupRepository {
  readonly records: ReadonlyMap<string, GroupRecord>;
}

/** createMemoryGroupRepository stores groups in memory, unique by (tenant, lower-cased name), listed by name. */
export function createMemoryGroupRepository(): MemoryGroupRepository {
  const records = new Map<string, GroupRecord>();
  const assertNameFree = (group: GroupRecord): void => {
    for (const other of records.values()) {
      if (
        other.id !== group.id &&
        other.tenantId === group.tenantId &&
        lowerName(other.name) === lowerName(group.name)
      ) {
        throw new DomainError("already_exists", "a group with this name already exists in the tenant");
      }
    }
  };
  return {
    records,
    async insert(group) {
      if (records.has(group.id)) {
        throw new DomainError("already_exists", "a group with this id already exists");
      }
      assertNameFree(group);
      records.set(group.id, copyGroup(group));
    },
    async findById(id) {
      const group = records.get(id);
      return group === undefined ? null : copyGroup(group);
    },
    async findByIds(ids) {
      return [...new Set(ids)].flatMap((id) => {
        const group = records.get(id);
        return group === undefined ? [] : [copyGroup(group)];
      });
    },
    async list(tenantId, limit, after): Promise<Page<GroupRecord>> {
      const from = after === null ? null : cursorString(decodeCursor(after), "n");
      const all = [...records.values()]
        .filter((group) => group.tenantId === tenantId && (from === null || lowerName(group.name) > from))
        .sort((a, b) => (lowerName(a.name) < lowerName(b.name) ? -1 : 1));
      const items = all.slice(0, limit).map(copyGroup);
      const last = items.at(-1);
      const nextCursor =
        all.length > limit && last !== undefined ? encodeCursor({ n: lowerName(last.name) }) : null;
      return { items, nextCursor };
    },
    async replace(next, expectedVersion) {
      if (!guardedVersion(records.get(next.id), next.version, expectedVersion)) {
        return false;
      }
      assertNameFree(next);
      records.set(next.id, copyGroup(next));
      return true;
    },
    async delete(id, expectedVersion) {
      if (records.get(id)?.version !== expectedVersion) {
        return false;
      }
      return records.delete(id);
    },
  };
}

/** TenantHolders are the stores registerHolders looks in for tenants that hold keys or groups. */
export interface TenantHolders {
  readonly keys: MemoryKeyRepository;
  readonly groups: MemoryGroupRepository;
}

/**
 * createMemoryTenantRepository keeps tenants in memory: a tenant exists once created (createdAt set), its
 * configuration changes under a version guard, and key slots are counted against its limit.
 */
export function createMemoryTenantRepository(holders?: TenantHolders): TenantRepository {
  const tenants = new Map<string, TenantRecord>();
  const recordOf = (tenantId: string): TenantRecord =>
    tenants.get(tenantId) ?? {
      id: tenantId,
      keyLimit: null,
      usedKeys: 0,
      displayName: "",
      createdAt: null,
      updatedAt: null,
      version: 0,
    };
  const change = (tenantId: string, fields: Partial<TenantRecord>): TenantRecord => {
    const next = { ...recordOf(tenantId), ...fields };
    tenants.set(tenantId, next);
    return next;
  };
  const exists = (tenant: TenantRecord | undefined): tenant is TenantRecord =>
    tenant !== undefined && tenant.createdAt !== null;
  return {
    async get(tenantId) {
      return recordOf(tenantId);
    },
    async create(tenant) {
      if (exists(tenants.get(tenant.id))) {
        throw new DomainError("already_exists", `tenant ${JSON.stringify(tenant.id)} already exists`);
      }
      const { displayName, keyLimit, createdAt } = tenant;
      return change(tenant.id, { displayName, keyLimit, createdAt, updatedAt: createdAt, version: 1 });
    },
    async list(limit, after): Promise<Page<TenantRecord>> {
      const from = after === null ? null : cursorString(decodeCursor(after), "i");
      const all = [...tenants.values()]
        .filter((tenant) => exists(tenant) && (from === null || tenant.id > from))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const items = all.slice(0, limit);
      const last = items.at(-1);
      return {
        items,
        nextCursor: all.length > limit && last !== undefined ? encodeCursor({ i: last.id }) : null,
      };
    },
    async replace(next, expectedVersion) {
      const stored = tenants.get(next.id);
      if (!guardedVersion(stored, next.version, expectedVersion) || !exists(stored)) {
        return false;
      }
      const { displayName, keyLimit, updatedAt, version } = next;
      change(next.id, { displayName, keyLimit, updatedAt, version });
      return true;
    },
    async registerHolders(now) {
      const registered: string[] = [];
      const held = new Set([
        ...[...(holders?.keys.records.values() ?? [])].map((key) => key.tenantId),
        ...[...(holders?.groups.records.values() ?? [])].map((group) => group.tenantId),
        ...tenants.keys(),
      ]);
      for (const tenantId of held) {
        if (!exists(tenants.get(tenantId))) {
          const counted = tenants.has(tenantId)
            ? {}
            : {
                usedKeys: [...(holders?.keys.records.values() ?? [])].filter(
                  (key) => key.tenantId === tenantId && key.revokedAt === null && key.deletedAt === null,
                ).length,
              };
          change(tenantId, { createdAt: now, updatedAt: now, version: 1, ...counted });
          registered.push(tenantId);
        }
      }
      return registered.sort();
    },
    async reserveKeySlot(tenantId, defaultLimit) {
      const tenant = tenants.get(tenantId);
      if (!exists(tenant)) {
        throw new DomainError("not_found", `tenant ${JSON.stringify(tenantId)} not found`);
      }
      if (tenant.usedKeys >= (tenant.keyLimit ?? defaultLimit)) {
        return false;
      }
      change(tenantId, { usedKeys: tenant.usedKeys + 1 });
      return true;
    },
    async releaseKeySlot(tenantId) {
      change(tenantId, { usedKeys: Math.max(0, recordOf(tenantId).usedKeys - 1) });
    },
    async setKeyLimit(tenantId, keyLimit) {
      return change(tenantId, { keyLimit });
    },
  };
}

/** createMemoryIdempotencyStore remembers request ids for the life of the store (no lease, no expiry). */
export function createMemoryIdempotencyStore(): IdempotencyStore {
  const claims = new Map<string, { fingerprint: string; result: string | null }>();
  const idOf = (scope: string, requestId: string) => JSON.stringify([scope, requestId]);
  return {
    async claim(scope, requestId, fingerprint): Promise<IdempotencyClaim> {
      const existing = claims.get(idOf(scope, requestId));
      if (existing === undefined) {
        claims.set(idOf(scope, requestId), { fingerprint, result: null });
        return { state: "claimed" };
      }
      if (existing.fingerprint !== fingerprint) {
        return { state: "mismatch" };
      }
      return existing.result === null
        ? { state: "in_progress" }
        : { state: "completed", result: existing.result };
    },
    async complete(scope, requestId, result) {
      const existing = claims.get(idOf(scope, requestId));
      if (existing !== undefined && existing.result === null) {
        existing.result = result;
      }
    },
    async abandon(scope, requestId) {
      if (claims.get(idOf(scope, requestId))?.result === null) {
        claims.delete(idOf(scope, requestId));
      }
    },
  };
}

/** RecordingNotifier is a KeyChangeNotifier that remembers what it was told, in order. */
export interface RecordingNotifier extends KeyChangeNotifier {
  readonly notices: Array<{ kind: "key" | "group"; id: string }>;
}

/** createRecordingNotifier records notices. */
export function createRecordingNotifier(): RecordingNotifier {
  const notices: Array<{ kind: "key" | "group"; id: string }> = [];
  return {
    notices,
    async keyChanged(id) {
      notices.push({ kind: "key", id });
    },
    async groupChanged(id) {
      notices.push({ kind: "group", id });
    },
  };
}

/** RecordingAuditSink keeps every emitted or recorded event, in order. */
export interface RecordingAuditSink extends AuditSink {
  readonly events: NewAuditEvent[];
}

/** createRecordingAuditSink records events. */
export function createRecordingAuditSink(): RecordingAuditSink {
  const events: NewAuditEvent[] = [];
  return {
    events,
    emit: (event) => events.push(event),
    checkAdminBacklog: () => undefined,
    record: async (event) => {
      // The audit log stores an event id once, like the MongoDB store's unique eventId index.
      if (!events.some((stored) => stored.id === event.id)) {
        events.push(event);
      }
    },
  };
}

/** MemoryAdminPorts are the ports an admin use-case test chooses; the rest of the deps are fixed. */
export interface MemoryAdminPorts {
  readonly clock: Clock;
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  readonly tenants: TenantRepository;
  readonly idempotency: IdempotencyStore;
  readonly defaultKeyLimit: number;
}

/** memoryAdminDeps completes `ports` into the admin use cases' dependencies, with recording notifier and sink. */
export function memoryAdminDeps(ports: MemoryAdminPorts) {
  return {
    ...ports,
    notifier: createRecordingNotifier(),
    audit: createRecordingAuditSink(),
    random: cryptoRandom,
    keyFormat: testFormat,
    hasher: testHasher,
    pageTokens: createPageTokenCodec(cryptoRandom.bytes(32)),
    expiringSoonWindowMs: 7 * 86_400_000,
  };
}
