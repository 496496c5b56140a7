/**
 * Key lifecycle use cases of KeyAdminService: CreateKey, GetKey, ListKeys, UpdateKey, RotateKey, RevokeKey
 * and DeleteKey. Pure: they depend on ports only.
 *
 * Every mutation follows the same order: check the caller's role and validate every field (nothing is read
 * or written for bad input), claim the optional request_id (see admin-idempotency.ts), read the key and
 * check the caller may see it (NOT_FOUND otherwise), write with a version guard, then tell the
 * KeyChangeNotifier (so every replica's verification cache drops the key before the caller gets the answer)
 * and emit one admin audit event.
 *
 * Decisions:
 * - Expiry through UpdateKey may only move earlier (seed 001 edits it; seed 003 allows it only through
 *   rotation). Moving it earlier only shortens what a possibly leaked secret can do; extending or removing it
 *   needs RotateKey, which issues a new secret, so a secret never lives longer than it was issued for.
 * - Rotation overlap: 0 to 7 days, and never beyond the key's expiry before or after the rotation; only the
 *   secret just superseded overlaps (older ones stop at once), recorded as that secret's expiresAt. An
 *   expired key can be rotated only with a new expire_time, and then with no overlap.
 * - The tenant key limit counts keys that are neither revoked nor deleted (expired ones too, until revoked
 *   or deleted, so the count is exact without a clock). Exactly one guarded write moves a key out of the
 *   count, and only that write gives the slot back, so concurrent revokes free one slot.
 * - Concurrent RotateKey calls on one key: one wins, the others answer ABORTED (never two live new secrets).
 */
import { canSeeKey, requireAdmin, requireOwnUser, resolveTenant } from "./admin-access.js";
import { emitAdminEvent } from "./admin-audit.js";
import { updateMaskOf } from "./admin-field-mask.js";
import { type BackgroundErrorReporter, idempotentRequest, runIdempotent } from "./admin-idempotency.js";
import { type KeyView, keyViewAt, type TenantView, tenantView } from "./admin-views.js";
import {
  type Actor,
  type ApiKeyRecord,
  type ExpirationState,
  type KeySecretRecord,
  type KeyStatus,
  SUPERUSER_PERMISSION,
  SYSTEM_TENANT,
} from "./api-key.js";
import { DomainError, invalidArgument } from "./errors.js";
import { isGroupId } from "./ids.js";
import { normalizeAllowlist } from "./ip-allowlist.js";
import { issueKey, type KeySpec } from "./key-admin-issue.js";
import type { KeyFormat } from "./key-format.js";
import type { KeyHasher } from "./key-hash.js";
import type { PageTokenCodec } from "./page-token.js";
import { pageTokenScope } from "./page-token.js";
import type {
  AuditSink,
  Clock,
  GroupRepository,
  IdempotencyStore,
  KeyChangeNotifier,
  KeyRepository,
  RandomSource,
  TenantRepository,
} from "./ports.js";
import {
  validateDescription,
  validateExpiry,
  validateName,
  validateNameQuery,
  validatePageSize,
  validatePermissions,
  validateReason,
  validateRequestId,
  validateRotationOverlap,
  validateUserId,
} from "./validation.js";

/** KEY_REVOKED is the reason of the FAILED_PRECONDITION for changing a revoked key. */
export const KEY_REVOKED = "KEY_REVOKED";
/** KEY_EXPIRED is the reason of the FAILED_PRECONDITION for rotating an expired key without a new expiry. */
export const KEY_EXPIRED = "KEY_EXPIRED";

/** UPDATABLE_KEY_FIELDS are the UpdateKey field-mask paths, in proto field order. */
export const UPDATABLE_KEY_FIELDS = [
  "name",
  "description",
  "user_id",
  "group_id",
  "permissions",
  "ip_allowlist",
  "expire_time",
] as const;

/** UpdatableKeyField is one UpdateKey field-mask path. */
export type UpdatableKeyField = (typeof UPDATABLE_KEY_FIELDS)[number];

/** MAX_WRITE_ATTEMPTS bounds the re-reads after a version guard lost to a concurrent change. */
const MAX_WRITE_ATTEMPTS = 5;

/** KeyAdminDependencies are the ports and settings the key use cases need. */
export interface KeyAdminDependencies {
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  readonly tenants: TenantRepository;
  readonly idempotency: IdempotencyStore;
  readonly notifier: KeyChangeNotifier;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly pageTokens: PageTokenCodec;
  /** defaultKeyLimit applies to tenants without an override. */
  readonly defaultKeyLimit: number;
  /** expiringSoonWindowMs is the EXPIRING_SOON window (default 7 days). */
  readonly expiringSoonWindowMs: number;
  /** reportError hears about failures after the answer was decided (for logging); defaults to ignoring. */
  readonly reportError?: BackgroundErrorReporter;
}

/**
 * CreateKeyInput is a CreateKey request in domain terms (absent values: "" / [] / null): the key's
 * configuration as issued (less its creator, who is the actor) and the client request id.
 */
export interface CreateKeyInput extends Omit<KeySpec, "createdBy"> {
  readonly requestId: string;
}

/** IssuedSecret is a key's secret in both forms. Secret: returned once, never stored or logged. */
export interface IssuedSecret {
  /** key is the whole key. */
  readonly key: string;
  /** secretKey is the secret part of the two-part credential (access key id = key id). */
  readonly secretKey: string;
}

/** IssuedKey answers CreateKey, RotateKey and Bootstrap. */
export interface IssuedKey {
  readonly key: KeyView;
  /** secret is null on a replayed request_id: the secret was returned by the first call only. */
  readonly secret: IssuedSecret | null;
  readonly secretAlreadyIssued: boolean;
}

/** ListKeysInput is a ListKeys request in domain terms. */
export interface ListKeysInput {
  readonly tenantId: string;
  readonly pageSize: number;
  readonly pageToken: string;
  readonly status: KeyStatus | null;
  readonly expirationState: ExpirationState | null;
  readonly userId: string;
  readonly groupId: string;
  readonly nameQuery: string;
  readonly showDeleted: boolean;
}

/** KeyListing is one page of keys. */
export interface KeyListing {
  readonly keys: readonly KeyView[];
  /** nextPageToken is "" on the last page. */
  readonly nextPageToken: string;
  /** tenant is the tenant's usage, for admins; null for key holders. */
  readonly tenant: TenantView | null;
}

/** KeyUpdateValues carries the new values; only the fields named by the mask are read. */
export interface KeyUpdateValues {
  readonly name: string;
  readonly description: string;
  readonly userId: string;
  readonly groupId: string;
  readonly permissions: readonly string[];
  readonly ipAllowlist: readonly string[];
  /** expiresAt null with "expire_time" in the mask asks to remove the expiry (refused). */
  readonly expiresAt: Date | null;
}

/** UpdateKeyInput is an UpdateKey request in domain terms. */
export interface UpdateKeyInput {
  readonly keyId: string;
  readonly paths: readonly string[];
  readonly values: KeyUpdateValues;
  readonly requestId: string;
}

/** RotateKeyInput is a RotateKey request in domain terms. */
export interface RotateKeyInput {
  readonly keyId: string;
  /** overlapMs is how long the superseded secret keeps working (0 = stops at once). */
  readonly overlapMs: number;
  /** expiresAt is the key's new expiry, or null to keep the current one. */
  readonly expiresAt: Date | null;
  readonly requestId: string;
}

/** RevokeKeyInput is a RevokeKey request in domain terms. */
export interface RevokeKeyInput {
  readonly keyId: string;
  readonly reason: string;
  readonly requestId: string;
}

/** DeleteKeyInput is a DeleteKey request in domain terms. */
export interface DeleteKeyInput {
  readonly keyId: string;
  readonly requestId: string;
}

/** KeyAdmin is the set of key lifecycle use cases; every method acts for `actor`. */
export interface KeyAdmin {
  createKey(actor: Actor, input: CreateKeyInput): Promise<IssuedKey>;
  getKey(actor: Actor, keyId: string): Promise<KeyView>;
  listKeys(actor: Actor, input: ListKeysInput): Promise<KeyListing>;
  updateKey(actor: Actor, input: UpdateKeyInput): Promise<KeyView>;
  rotateKey(actor: Actor, input: RotateKeyInput): Promise<IssuedKey>;
  revokeKey(actor: Actor, input: RevokeKeyInput): Promise<KeyView>;
  deleteKey(actor: Actor, input: DeleteKeyInput): Promise<KeyView>;
}

/** createKeyAdmin builds the key use cases on `deps`. */
export function createKeyAdmin(deps: KeyAdminDependencies): KeyAdmin {
  const { keys, clock, keyFormat } = deps;
  const report: BackgroundErrorReporter = deps.reportError ?? (() => undefined);
  const view = (key: ApiKeyRecord, now: Date) => keyViewAt(key, now, deps.expiringSoonWindowMs);

  const keyIdOf = (value: string, field: string): string => {
    if (typeof value !== "string" || value === "") {
      throw invalidArgument(field, "is required");
    }
    if (!keyFormat.isKeyId(value)) {
      throw invalidArgument(
        field,
        `is not a key id of this service (${keyFormat.prefix} followed by 16 letters and digits)`,
      );
    }
    return value;
  };

  /** visibleKey reads a key the actor may see (deleted ones too), or answers NOT_FOUND. */
  const visibleKey = async (actor: Actor, keyId: string): Promise<ApiKeyRecord> => {
    const key = await keys.findById(keyId);
    if (key === null || !canSeeKey(actor, key)) {
      throw new DomainError("not_found", `key ${keyId} not found`);
    }
    return key;
  };

  /** liveKey is visibleKey for mutations: a deleted key is gone (NOT_FOUND). */
  const liveKey = async (actor: Actor, keyId: string): Promise<ApiKeyRecord> => {
    const key = await visibleKey(actor, keyId);
    if (key.deletedAt !== null) {
      throw new DomainError("not_found", `key ${keyId} not found`);
    }
    return key;
  };

  const requireGroupOf = async (tenantId: string, groupId: string, field: string): Promise<void> => {
    if (groupId === "") {
      return;
    }
    const group = await deps.groups.findById(groupId);
    if (group === null || group.tenantId !== tenantId) {
      throw invalidArgument(
        field,
        `unknown group ${JSON.stringify(groupId)} in tenant ${JSON.stringify(tenantId)}`,
      );
    }
  };

  /** replayKey answers a replayed request with the key as it is now. */
  const replayKey = async (actor: Actor, keyId: string): Promise<KeyView> =>
    view(await visibleKey(actor, keyId), clock.now());

  /**
   * writeGuarded applies `change` to the freshest copy of the key until its version guard holds; `change`
   * returns null when there is nothing to write. Gives up with ABORTED after MAX_WRITE_ATTEMPTS races.
   */
  const writeGuarded = async (
    actor: Actor,
    first: ApiKeyRecord,
    change: (current: ApiKeyRecord) => ApiKeyRecord | null,
    retry = true,
  ): Promise<{ before: ApiKeyRecord; after: ApiKeyRecord; written: boolean }> => {
    let current = first;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const next = change(current);
      if (next === null) {
        return { before: current, after: current, written: false };
      }
      if (await keys.replace(next, current.version)) {
        return { before: current, after: next, written: true };
      }
      if (!retry) {
        break;
      }
      current = await liveKey(actor, current.id);
    }
    throw new DomainError("aborted", "the key was changed concurrently; try again");
  };

  return {
    async createKey(actor, input) {
      requireAdmin(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: true });
      const now = clock.now();
      const spec = {
        tenantId,
        name: validateName(input.name, "name"),
        description: validateDescription(input.description, "description"),
        userId: validateUserId(input.userId, "user_id"),
        groupId: groupIdOf(input.groupId, "group_id"),
        permissions: grantablePermissions(input.permissions, tenantId, "permissions"),
        ipAllowlist: normalizeAllowlist(input.ipAllowlist, "ip_allowlist"),
        expiresAt: input.expiresAt === null ? null : validateExpiry(input.expiresAt, now, "expire_time"),
        createdBy: actor.keyId,
      };
      const requestId = validateRequestId(input.requestId, "request_id");
      const { createdBy: _createdBy, ...parameters } = spec;
      const fingerprinted = { ...parameters, expiresAt: spec.expiresAt?.getTime() ?? null };
      return runIdempotent<IssuedKey>(
        deps.idempotency,
        idempotentRequest(actor, "CreateKey", requestId, fingerprinted, now),
        async () => {
          await requireGroupOf(tenantId, spec.groupId, "group_id");
          const { record, generated } = await issueKey(deps, spec, now);
          emitAdminEvent(deps.audit, actor, "key_created", now, {
            tenantId,
            keyId: record.id,
            groupId: record.groupId,
            changedFields: setFieldsOf(spec),
            requestId,
          });
          return {
            value: {
              key: view(record, now),
              secret: { key: generated.key, secretKey: generated.secretKey },
              secretAlreadyIssued: false,
            },
            stored: record.id,
          };
        },
        async (keyId) => ({ key: await replayKey(actor, keyId), secret: null, secretAlreadyIssued: true }),
        report,
      );
    },

    async getKey(actor, keyId) {
      requireOwnUser(actor);
      const id = keyIdOf(keyId, "key_id");
      return view(await visibleKey(actor, id), clock.now());
    },

    async listKeys(actor, input) {
      requireOwnUser(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: false });
      const limit = validatePageSize(input.pageSize, "page_size");
      let userId = validateUserId(input.userId, "user_id");
      if (actor.role === "key_holder") {
        if (userId !== "" && userId !== actor.userId) {
          throw new DomainError("permission_denied", "this key may only list the keys of its own user");
        }
        if (input.showDeleted) {
          throw new DomainError("permission_denied", "deleted keys are listed for admins only");
        }
        userId = actor.userId;
      }
      const groupId = groupIdOf(input.groupId, "group_id");
      const nameQuery = validateNameQuery(input.nameQuery, "name_query");
      const scope = pageTokenScope(
        "keys",
        tenantId,
        input.status ?? "",
        input.expirationState ?? "",
        userId,
        groupId,
        nameQuery ?? "",
        input.showDeleted ? "deleted" : "",
      );
      const after = input.pageToken === "" ? null : deps.pageTokens.decode(input.pageToken, scope);
      const now = clock.now();
      const page = await keys.list({
        tenantId,
        limit,
        after,
        status: input.status,
        expirationState: input.expirationState,
        userId: userId === "" ? null : userId,
        groupId: groupId === "" ? null : groupId,
        nameContains: nameQuery,
        includeDeleted: input.showDeleted,
        now,
        expiringSoonWindowMs: deps.expiringSoonWindowMs,
      });
      const tenant =
        actor.role === "key_holder"
          ? null
          : tenantView(await deps.tenants.get(tenantId), deps.defaultKeyLimit);
      return {
        keys: page.items.map((key) => view(key, now)),
        nextPageToken: page.nextCursor === null ? "" : deps.pageTokens.encode(scope, page.nextCursor),
        tenant,
      };
    },

    async updateKey(actor, input) {
      requireAdmin(actor);
      const keyId = keyIdOf(input.keyId, "key.key_id");
      const paths = updateMaskOf(input.paths, UPDATABLE_KEY_FIELDS, "update_mask");
      const now = clock.now();
      const values = input.values;
      // Validate every named field before anything is read; the tenant-dependent checks follow the read.
      const changes: Partial<Record<UpdatableKeyField, unknown>> = {};
      for (const path of paths) {
        switch (path) {
          case "name":
            changes.name = validateName(values.name, "key.name");
            break;
          case "description":
            changes.description = validateDescription(values.description, "key.description");
            break;
          case "user_id":
            changes.user_id = validateUserId(values.userId, "key.user_id");
            break;
          case "group_id":
            changes.group_id = groupIdOf(values.groupId, "key.group_id");
            break;
          case "permissions":
            changes.permissions = validatePermissions(values.permissions, "key.permissions");
            break;
          case "ip_allowlist":
            changes.ip_allowlist = normalizeAllowlist(values.ipAllowlist, "key.ip_allowlist");
            break;
          case "expire_time":
            if (values.expiresAt === null) {
              throw invalidArgument(
                "key.expire_time",
                "cannot be removed by UpdateKey; expiry may only move earlier (extend or remove it with RotateKey)",
              );
            }
            changes.expire_time = validateExpiry(values.expiresAt, now, "key.expire_time");
            break;
        }
      }
      const requestId = validateRequestId(input.requestId, "request_id");
      const fingerprinted = {
        keyId,
        changes: Object.fromEntries(
          paths.map((path) => {
            const value = changes[path];
            return [path, value instanceof Date ? value.getTime() : value];
          }),
        ),
      };
      return runIdempotent(
        deps.idempotency,
        idempotentRequest(actor, "UpdateKey", requestId, fingerprinted, now),
        async () => {
          const first = await liveKey(actor, keyId);
          if (paths.includes("permissions")) {
            grantablePermissions(values.permissions, first.tenantId, "key.permissions");
          }
          if (paths.includes("group_id")) {
            await requireGroupOf(first.tenantId, changes.group_id as string, "key.group_id");
          }
          let changed: UpdatableKeyField[] = [];
          const { after, written } = await writeGuarded(actor, first, (current) => {
            requireChangeable(current);
            const next = applyKeyChanges(current, changes, now);
            changed = changedKeyFields(current, next, paths);
            if (changed.length === 0) {
              return null;
            }
            return { ...next, updatedAt: now, version: current.version + 1 };
          });
          // Also when nothing changed: a retry after a failed notification must still reach every replica.
          await deps.notifier.keyChanged(keyId);
          if (written) {
            emitAdminEvent(deps.audit, actor, "key_updated", now, {
              tenantId: after.tenantId,
              keyId,
              groupId: after.groupId,
              changedFields: changed,
              requestId,
            });
          }
          return { value: view(after, now), stored: keyId };
        },
        (stored) => replayKey(actor, stored),
        report,
      );
    },

    async rotateKey(actor, input) {
      requireAdmin(actor);
      const keyId = keyIdOf(input.keyId, "key_id");
      const now = clock.now();
      // Bounds that need no key come first; the bound by the key's expiry is checked once it is read.
      validateRotationOverlap(input.overlapMs, now, null, "overlap");
      const newExpiry = input.expiresAt === null ? null : validateExpiry(input.expiresAt, now, "expire_time");
      const requestId = validateRequestId(input.requestId, "request_id");
      const fingerprinted = { keyId, overlapMs: input.overlapMs, expiresAt: newExpiry?.getTime() ?? null };
      return runIdempotent<IssuedKey>(
        deps.idempotency,
        idempotentRequest(actor, "RotateKey", requestId, fingerprinted, now),
        async () => {
          const first = await liveKey(actor, keyId);
          requireChangeable(first);
          const expiresAt = newExpiry ?? first.expiresAt;
          if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
            throw new DomainError(
              "failed_precondition",
              `key ${keyId} has expired; rotate it with a new expire_time to use it again`,
              { reason: KEY_EXPIRED },
            );
          }
          // The superseded secret may overlap neither beyond the expiry it was issued with nor the new one.
          const bound = earliest(first.expiresAt, expiresAt);
          validateRotationOverlap(input.overlapMs, now, bound, "overlap");
          const generated = keyFormat.generateSecretFor(keyId, deps.random);
          const { hash, pepperVersion } = deps.hasher.hash(generated.key);
          const { after } = await writeGuarded(
            actor,
            first,
            (current) => {
              const previous = current.secrets.at(-1);
              const secret: KeySecretRecord = {
                generation: (previous?.generation ?? 0) + 1,
                hash,
                pepperVersion,
                hint: generated.hint,
                createdAt: now,
                expiresAt: null,
              };
              const secrets =
                input.overlapMs > 0 && previous !== undefined
                  ? [{ ...previous, expiresAt: new Date(now.getTime() + input.overlapMs) }, secret]
                  : [secret];
              return { ...current, secrets, expiresAt, updatedAt: now, version: current.version + 1 };
            },
            false,
          );
          await deps.notifier.keyChanged(keyId);
          emitAdminEvent(deps.audit, actor, "key_rotated", now, {
            tenantId: after.tenantId,
            keyId,
            groupId: after.groupId,
            changedFields: sameInstant(first.expiresAt, expiresAt) ? ["secrets"] : ["secrets", "expire_time"],
            requestId,
          });
          return {
            value: {
              key: view(after, now),
              secret: { key: generated.key, secretKey: generated.secretKey },
              secretAlreadyIssued: false,
            },
            stored: keyId,
          };
        },
        async (stored) => ({ key: await replayKey(actor, stored), secret: null, secretAlreadyIssued: true }),
        report,
      );
    },

    async revokeKey(actor, input) {
      requireAdmin(actor);
      const keyId = keyIdOf(input.keyId, "key_id");
      const reason = validateReason(input.reason, "reason");
      const requestId = validateRequestId(input.requestId, "request_id");
      const now = clock.now();
      return runIdempotent(
        deps.idempotency,
        idempotentRequest(actor, "RevokeKey", requestId, { keyId, reason }, now),
        async () => {
          const first = await liveKey(actor, keyId);
          const { after, written } = await writeGuarded(actor, first, (current) => {
            if (current.deletedAt !== null) {
              throw new DomainError("not_found", `key ${keyId} not found`);
            }
            if (current.revokedAt !== null) {
              return null; // already revoked: succeed, change nothing, free nothing
            }
            return {
              ...current,
              revokedAt: now,
              revokedBy: actor.keyId,
              revokeReason: reason,
              updatedAt: now,
              version: current.version + 1,
            };
          });
          if (written) {
            // Only the write that moved the key out of the count gives its slot back: exactly once.
            await deps.tenants.releaseKeySlot(after.tenantId).catch((error: unknown) => {
              report(error, "releasing the key slot of a revoked key failed");
            });
          }
          // Also on a repeated revoke: a retry after a failed notification must still reach every replica.
          await deps.notifier.keyChanged(keyId);
          if (written) {
            emitAdminEvent(deps.audit, actor, "key_revoked", now, {
              tenantId: after.tenantId,
              keyId,
              groupId: after.groupId,
              changedFields: reason === "" ? ["revoke_time"] : ["revoke_time", "revoke_reason"],
              requestId,
            });
          }
          return { value: view(after, now), stored: keyId };
        },
        (stored) => replayKey(actor, stored),
        report,
      );
    },

    async deleteKey(actor, input) {
      requireAdmin(actor);
      const keyId = keyIdOf(input.keyId, "key_id");
      const requestId = validateRequestId(input.requestId, "request_id");
      const now = clock.now();
      return runIdempotent(
        deps.idempotency,
        idempotentRequest(actor, "DeleteKey", requestId, { keyId }, now),
        async () => {
          const first = await liveKey(actor, keyId);
          const { before, after } = await writeGuarded(actor, first, (current) => {
            if (current.deletedAt !== null) {
              throw new DomainError("not_found", `key ${keyId} not found`);
            }
            return { ...current, deletedAt: now, version: current.version + 1 };
          });
          if (before.revokedAt === null) {
            await deps.tenants.releaseKeySlot(after.tenantId).catch((error: unknown) => {
              report(error, "releasing the key slot of a deleted key failed");
            });
          }
          await deps.notifier.keyChanged(keyId);
          emitAdminEvent(deps.audit, actor, "key_deleted", now, {
            tenantId: after.tenantId,
            keyId,
            groupId: after.groupId,
            changedFields: ["delete_time"],
            requestId,
          });
          return { value: view(after, now), stored: keyId };
        },
        (stored) => replayKey(actor, stored),
        report,
      );
    },
  };
}

/** groupIdOf validates an optional group id ("" = none). */
function groupIdOf(value: string, field: string): string {
  if (typeof value !== "string") {
    throw invalidArgument(field, "must be a string");
  }
  if (value !== "" && !isGroupId(value)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(value.slice(0, 40))} is not a group id (grp_ followed by 16 letters and digits)`,
    );
  }
  return value;
}

/**
 * grantablePermissions validates permissions and refuses the super-user permission outside the system
 * tenant: a tenant admin must never be able to mint a key with rights over every tenant.
 */
function grantablePermissions(values: readonly string[], tenantId: string, field: string): string[] {
  const permissions = validatePermissions(values, field);
  if (tenantId !== SYSTEM_TENANT) {
    const index = values.indexOf(SUPERUSER_PERMISSION);
    if (index !== -1) {
      throw invalidArgument(
        `${field}[${index}]`,
        `${JSON.stringify(SUPERUSER_PERMISSION)} can only be granted to keys of the system tenant (see Bootstrap)`,
      );
    }
  }
  return permissions;
}

/** requireChangeable refuses to change a revoked key (revocation is permanent). */
function requireChangeable(key: ApiKeyRecord): void {
  if (key.revokedAt !== null) {
    throw new DomainError(
      "failed_precondition",
      `key ${key.id} is revoked; a revoked key cannot be changed`,
      { reason: KEY_REVOKED },
    );
  }
}

/** applyKeyChanges applies validated UpdateKey values; the expiry may only move earlier. */
function applyKeyChanges(
  current: ApiKeyRecord,
  changes: Partial<Record<UpdatableKeyField, unknown>>,
  now: Date,
): ApiKeyRecord {
  let next: ApiKeyRecord = current;
  const set = <K extends keyof ApiKeyRecord>(field: K, value: ApiKeyRecord[K]) => {
    next = { ...next, [field]: value };
  };
  if (changes.name !== undefined) {
    set("name", changes.name as string);
  }
  if (changes.description !== undefined) {
    set("description", changes.description as string);
  }
  if (changes.user_id !== undefined) {
    set("userId", changes.user_id as string);
  }
  if (changes.group_id !== undefined) {
    set("groupId", changes.group_id as string);
  }
  if (changes.permissions !== undefined) {
    set("permissions", changes.permissions as string[]);
  }
  if (changes.ip_allowlist !== undefined) {
    set("ipAllowlist", changes.ip_allowlist as string[]);
  }
  if (changes.expire_time !== undefined) {
    const expiresAt = changes.expire_time as Date;
    if (current.expiresAt !== null && current.expiresAt.getTime() <= now.getTime()) {
      throw new DomainError(
        "failed_precondition",
        `key ${current.id} has expired; rotate it to change its expiry`,
        { reason: KEY_EXPIRED },
      );
    }
    if (current.expiresAt !== null && expiresAt.getTime() > current.expiresAt.getTime()) {
      throw invalidArgument(
        "key.expire_time",
        `may only move earlier than the current expiry ${current.expiresAt.toISOString()}; extend it with RotateKey, which issues a new secret`,
      );
    }
    set("expiresAt", expiresAt);
  }
  return next;
}

/** changedKeyFields lists the mask paths whose values differ between two versions of a key. */
function changedKeyFields(
  before: ApiKeyRecord,
  after: ApiKeyRecord,
  paths: readonly UpdatableKeyField[],
): UpdatableKeyField[] {
  const differs: Record<UpdatableKeyField, () => boolean> = {
    name: () => before.name !== after.name,
    description: () => before.description !== after.description,
    user_id: () => before.userId !== after.userId,
    group_id: () => before.groupId !== after.groupId,
    permissions: () => !sameList(before.permissions, after.permissions),
    ip_allowlist: () => !sameList(before.ipAllowlist, after.ipAllowlist),
    expire_time: () => !sameInstant(before.expiresAt, after.expiresAt),
  };
  return paths.filter((path) => differs[path]());
}

/** setFieldsOf names the optional fields a CreateKey request set, for the audit event. */
function setFieldsOf(spec: {
  readonly description: string;
  readonly userId: string;
  readonly groupId: string;
  readonly permissions: readonly string[];
  readonly ipAllowlist: readonly string[];
  readonly expiresAt: Date | null;
}): string[] {
  const fields = ["name"];
  if (spec.description !== "") {
    fields.push("description");
  }
  if (spec.userId !== "") {
    fields.push("user_id");
  }
  if (spec.groupId !== "") {
    fields.push("group_id");
  }
  if (spec.permissions.length > 0) {
    fields.push("permissions");
  }
  if (spec.ipAllowlist.length > 0) {
    fields.push("ip_allowlist");
  }
  if (spec.expiresAt !== null) {
    fields.push("expire_time");
  }
  return fields;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameInstant(a: Date | null, b: Date | null): boolean {
  return a === null || b === null ? a === b : a.getTime() === b.getTime();
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) {
    return b;
  }
  if (b === null) {
    return a;
  }
  return a.getTime() <= b.getTime() ? a : b;
}
