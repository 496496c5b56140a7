/** What the key use cases share: their ports, how a key is read for the caller, and common rules. */
import { canSeeKey } from "../admin-access.js";
import { keyFieldChanges } from "../admin-field-changes.js";
import { type MutationOutcome, writeGuarded } from "../admin-mutation.js";
import { type KeyView, keyViewAt } from "../admin-views.js";
import { type Actor, type ApiKeyRecord, SUPERUSER_PERMISSION, SYSTEM_TENANT } from "../api-key.js";
import type { AdminAction } from "../audit-event.js";
import { DomainError, invalidArgument } from "../errors.js";
import type { KeyAdminDependencies } from "../key-admin.js";
import { requireString, validateGroupId, validateKeyId, validatePermissions } from "../validation.js";

export const KEY_REVOKED = "KEY_REVOKED";
/** KEY_EXPIRED is the reason of the FAILED_PRECONDITION for rotating an expired key without a new expiry. */
export const KEY_EXPIRED = "KEY_EXPIRED";

export interface KeyEvent {
  readonly action: AdminAction;
  readonly changedFields: readonly string[];
  /** before is the key before the mutation (null: it was created); the event then carries the values. */
  readonly before?: ApiKeyRecord | null;
}

export type KeyContext = ReturnType<typeof keyContext>;

export function keyContext(deps: KeyAdminDependencies) {
  const { keys, keyFormat } = deps;
  const notFound = (keyId: string) => new DomainError("not_found", `key ${keyId} not found`);
  const view = (key: ApiKeyRecord, now: Date): KeyView => keyViewAt(key, now, deps.expiringSoonWindowMs);
  /** visibleKey reads a key the actor may see (deleted ones too), or answers NOT_FOUND. */
  const visibleKey = async (actor: Actor, keyId: string): Promise<ApiKeyRecord> => {
    const key = await keys.findById(keyId);
    if (key === null || !canSeeKey(actor, key)) {
      throw notFound(keyId);
    }
    return key;
  };
  /** liveKey is visibleKey for mutations: a deleted key is gone (NOT_FOUND). */
  const liveKey = async (actor: Actor, keyId: string): Promise<ApiKeyRecord> => {
    const key = await visibleKey(actor, keyId);
    if (key.deletedAt !== null) {
      throw notFound(keyId);
    }
    return key;
  };
  return {
    ...deps,
    view,
    visibleKey,
    liveKey,
    keyIdOf: (value: string, field: string): string => validateKeyId(value, keyFormat, field),
    replayKey: async (actor: Actor, keyId: string): Promise<KeyView> =>
      view(await visibleKey(actor, keyId), deps.clock.now()),
    /** requireGroupOf refuses a group id ("" = none) that is not a group of the tenant. */
    async requireGroupOf(tenantId: string, groupId: string, field: string): Promise<void> {
      const group = groupId === "" ? null : await deps.groups.findById(groupId);
      if (groupId !== "" && group?.tenantId !== tenantId) {
        throw invalidArgument(
          field,
          `unknown group ${JSON.stringify(groupId)} in tenant ${JSON.stringify(tenantId)}`,
        );
      }
    },
    /** releaseSlot gives a key's tenant slot back; a failure is reported, not answered (the key changed). */
    releaseSlot: (tenantId: string, why: string): Promise<void> =>
      deps.tenants.releaseKeySlot(tenantId).catch((error: unknown) => deps.reportError?.(error, why)),
    writeKey: (
      actor: Actor,
      first: ApiKeyRecord,
      change: (current: ApiKeyRecord) => ApiKeyRecord | null,
      options: { readonly etag: string | null; readonly retry?: boolean },
    ) =>
      writeGuarded(first, {
        what: "key",
        etag: options.etag,
        reload: () => liveKey(actor, first.id),
        change,
        write: (next, version) => keys.replace(next, version),
        retry: options.retry ?? true,
      }),
    // changed notifies even when nothing was written: a retry after a failed notice must reach every replica.
    async changed(after: ApiKeyRecord, now: Date, event: KeyEvent | null): Promise<MutationOutcome<KeyView>> {
      await deps.notifier.keyChanged(after.id);
      const target = { tenantId: after.tenantId, keyId: after.id, groupId: after.groupId };
      return {
        value: view(after, now),
        stored: after.id,
        audit:
          event === null
            ? null
            : {
                action: event.action,
                target: {
                  ...target,
                  changedFields: event.changedFields,
                  ...(event.before === undefined
                    ? {}
                    : { changes: keyFieldChanges(event.before, after, event.changedFields) }),
                },
              },
      };
    },
  };
}

/** groupIdOf validates an optional group id ("" = none). */
export function groupIdOf(value: string, field: string): string {
  requireString(value, field);
  return value === "" ? value : validateGroupId(value, field);
}

/** grantablePermissions: a tenant admin must never mint a key with rights over every tenant. */
export function grantablePermissions(values: readonly string[], tenantId: string, field: string): string[] {
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
export function requireChangeable(key: ApiKeyRecord): void {
  if (key.revokedAt !== null) {
    throw new DomainError(
      "failed_precondition",
      `key ${key.id} is revoked; a revoked key cannot be changed`,
      {
        reason: KEY_REVOKED,
      },
    );
  }
}

export function sameInstant(a: Date | null, b: Date | null): boolean {
  return a === null || b === null ? a === b : a.getTime() === b.getTime();
}
