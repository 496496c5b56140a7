/**
 * Ports: what the use cases need from the outside world (src/storage implements them). Any method may reject
 * with an unavailable error when the database cannot answer, never with a raw driver error.
 */
import type { ApiKeyRecord, ExpirationState, GroupRecord, KeyStatus, TenantRecord } from "./api-key.js";
import type { AuditEventRecord, NewAuditEvent } from "./audit-event.js";
import type { LabelSelector } from "./labels.js";

/** Clock gives the current time; injected so expiry can be tested at its exact boundary. */
export interface Clock {
  now(): Date;
}

/** RandomSource gives cryptographically secure random bytes; injected for deterministic tests. */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/** Page is one page of a listing with the cursor of the next one (null on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** KeyListQuery selects a tenant's keys; results are newest first (createdAt desc, id desc). */
export interface KeyListQuery {
  readonly tenantId: string;
  readonly limit: number;
  /** after is the opaque storage cursor of a previous page, or null for the first page. */
  readonly after: string | null;
  readonly status: KeyStatus | null;
  readonly expirationState: ExpirationState | null;
  readonly userId: string | null;
  readonly groupId: string | null;
  /** nameContains matches the name case-insensitively, literally (never as a pattern). */
  readonly nameContains: string | null;
  /** label keeps the keys carrying this label with exactly this value; null = any. */
  readonly label?: LabelSelector | null;
  readonly includeDeleted: boolean;
  // now and the window evaluate the status and expiration-state filters.
  readonly now: Date;
  readonly expiringSoonWindowMs: number;
}

/** KeyRepository stores keys. Writes are single-document and guarded, so no transactions are needed. */
export interface KeyRepository {
  /** insert stores a new key; rejects with an already-exists error if the id exists (callers retry with a new id). */
  insert(key: ApiKeyRecord): Promise<void>;
  /** findById returns the key, deleted ones included, or null. */
  findById(id: string): Promise<ApiKeyRecord | null>;
  list(query: KeyListQuery): Promise<Page<ApiKeyRecord>>;
  /** replace writes `next` if the stored key still has `expectedVersion`; false when the guard failed. */
  replace(next: ApiKeyRecord, expectedVersion: number): Promise<boolean>;
  /** countByGroup counts the non-deleted keys of a group. */
  countByGroup(tenantId: string, groupId: string): Promise<number>;
  /** hasAnyWithPermission tells whether such a key was ever issued (revoked and deleted ones included). */
  hasAnyWithPermission(tenantId: string, permission: string): Promise<boolean>;
  /** recordLastUsed sets lastUsedAt for many keys (only ever moving it forward); one write per call. */
  recordLastUsed(entries: ReadonlyArray<{ readonly id: string; readonly at: Date }>): Promise<void>;
}

/** GroupRepository stores authorization groups; names are unique per tenant. */
export interface GroupRepository {
  /** insert stores a group; rejects with an already-exists error when the tenant has a group of that name. */
  insert(group: GroupRecord): Promise<void>;
  findById(id: string): Promise<GroupRecord | null>;
  findByIds(ids: readonly string[]): Promise<GroupRecord[]>;
  /** list returns a tenant's groups by name. */
  list(tenantId: string, limit: number, after: string | null): Promise<Page<GroupRecord>>;
  /** replace is a version-guarded write like KeyRepository.replace; an already-exists error on a name clash. */
  replace(next: GroupRecord, expectedVersion: number): Promise<boolean>;
  /** delete removes the group if it still has `expectedVersion`; false when the guard failed. */
  delete(id: string, expectedVersion: number): Promise<boolean>;
}

export type NewTenant = Pick<TenantRecord, "id" | "displayName" | "keyLimit"> & { readonly createdAt: Date };

/** TenantRepository keeps each tenant's configuration (version-guarded) and its exact key count. */
export interface TenantRepository {
  /** get returns, for a tenant that does not exist, createdAt and keyLimit null, usedKeys and version 0. */
  get(tenantId: string): Promise<TenantRecord>;
  /** create stores a new tenant (version 1); rejects with an already-exists error when it exists. */
  create(tenant: NewTenant): Promise<TenantRecord>;
  /** list returns existing tenants ordered by id; `after` is a cursor from a previous page. */
  list(limit: number, after: string | null): Promise<Page<TenantRecord>>;
  /** replace writes the configuration of `next` under the version guard, never usedKeys. */
  replace(next: TenantRecord, expectedVersion: number): Promise<boolean>;
  /** registerHolders creates, with its key count, every tenant holding keys or groups but not existing. */
  registerHolders(now: Date): Promise<string[]>;
  /**
   * reserveKeySlot atomically increments usedKeys if it is below the effective limit (override, else
   * `defaultLimit`); returns false when the tenant is at its limit, and rejects with a not-found error for a
   * tenant that does not exist. 50 concurrent calls at a limit of 10 succeed exactly 10 times.
   */
  reserveKeySlot(tenantId: string, defaultLimit: number): Promise<boolean>;
  /** releaseKeySlot decrements usedKeys (never below zero). */
  releaseKeySlot(tenantId: string): Promise<void>;
  /** setKeyLimit sets (number) or clears (null) the tenant's override and returns the tenant. */
  setKeyLimit(tenantId: string, keyLimit: number | null): Promise<TenantRecord>;
}

/** IdempotencyClaim: a claimed id must be completed or abandoned; `result` is what a finished call stored. */
export type IdempotencyClaim =
  | { readonly state: "claimed" }
  | { readonly state: "completed"; readonly result: string }
  | { readonly state: "in_progress" }
  | { readonly state: "mismatch" };

/** IdempotencyStore remembers client request ids for 24 hours, per tenant and operation. */
export interface IdempotencyStore {
  /** claim registers `scope`+`requestId` with the request fingerprint, or reports what is already there. */
  claim(scope: string, requestId: string, fingerprint: string, now: Date): Promise<IdempotencyClaim>;
  complete(scope: string, requestId: string, result: string): Promise<void>;
  /** abandon forgets a claim whose operation failed, so a retry can run it again. */
  abandon(scope: string, requestId: string): Promise<void>;
}

/** ChangeNotice says that a key's or group's cached copy must be dropped. */
export interface ChangeNotice {
  /** seq orders notices; every replica sees them in seq order with no gaps. */
  readonly seq: number;
  readonly kind: "key" | "group";
  readonly id: string;
  /** at is when the notice was published, when the feed reports it (for the invalidation-lag metric). */
  readonly at?: Date;
}

/** ChangeFeed is the cross-replica cache-invalidation channel, built on plain indexed queries. */
export interface ChangeFeed {
  /** publish appends a notice and resolves once it is durable. */
  publish(kind: ChangeNotice["kind"], id: string): Promise<void>;
  /** latestSeq is the newest seq (0 when empty), where a new replica starts following. */
  latestSeq(): Promise<number>;
  /** after returns notices with seq > `seq`, in order, at most `limit`. */
  after(seq: number, limit: number): Promise<ChangeNotice[]>;
}

/**
 * AuditSink takes the audit events of this replica, in the order it decided things (src/domain/audit-event.ts).
 * Usage events are best-effort; admin events are durable before the mutation they describe answers.
 */
export interface AuditSink {
  /** emit buffers one usage event; never throws, never waits. Drops (counted) when the buffer is full. */
  emit(event: NewAuditEvent): void;
  /** checkAdminBacklog throws unavailable when too many admin events wait: no change without its event. */
  checkAdminBacklog(): void;
  /** record resolves once the admin event and every event emitted before it are persisted; never drops. */
  record(event: NewAuditEvent): Promise<void>;
}

/** AuditEventStore persists audit events in one global commit order and reads them back. */
export interface AuditEventStore {
  /** append persists a batch (one write), assigning consecutive sequence numbers in commit order. */
  append(events: readonly NewAuditEvent[]): Promise<void>;
  /** after returns persisted events with seq > `seq`, ascending, at most `limit`. */
  after(seq: number, limit: number): Promise<AuditEventRecord[]>;
}

/** AuthenticatedKey is a key that verified successfully, with its effective (key + group) permissions. */
export interface AuthenticatedKey {
  readonly keyId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly groupId: string;
  readonly permissions: readonly string[];
}

/** CallerAuthenticator checks an admin or audit caller's key like VerifyKey does; null if it would not verify. */
export interface CallerAuthenticator {
  authenticate(candidate: string, peerIp: string | null): Promise<AuthenticatedKey | null>;
}

/** KeyChangeNotifier drops the local cached copy and publishes a durable notice for the other replicas. */
export interface KeyChangeNotifier {
  keyChanged(keyId: string): Promise<void>;
  groupChanged(groupId: string): Promise<void>;
}
