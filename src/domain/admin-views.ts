/** What the admin use cases answer with: keys, groups and tenants as a caller may see them at one instant. */
import {
  type ApiKeyRecord,
  type ExpirationState,
  expirationStateAt,
  type GroupRecord,
  type KeySecretRecord,
  type KeyStatus,
  keySettingsOf,
  keyStatusAt,
  type TenantRecord,
} from "./api-key.js";
import { etagOf } from "./etag.js";

/** KeySecretView describes one secret that still verifies, without revealing it. */
export type KeySecretView = Omit<KeySecretRecord, "hash" | "pepperVersion">;

/** KeyView is a key's metadata at one instant: the record less its secret hashes and request fences. */
export interface KeyView
  extends Omit<ApiKeyRecord, "secrets" | "version" | "createRequestId" | "rotateRequestId"> {
  readonly status: KeyStatus;
  readonly expirationState: ExpirationState;
  readonly displayHint: string;
  /** secrets are the secrets that verify at this instant: superseded ones still in overlap, then the current. */
  readonly secrets: readonly KeySecretView[];
  readonly etag: string;
}

/** keyViewAt derives the view of `key` at `now`, with the expiring-soon window `windowMs`. */
export function keyViewAt(key: ApiKeyRecord, now: Date, windowMs: number): KeyView {
  const current = key.secrets.at(-1);
  const live =
    key.revokedAt !== null || key.deletedAt !== null
      ? []
      : key.secrets.filter(
          (secret) => secret.expiresAt === null || secret.expiresAt.getTime() > now.getTime(),
        );
  return {
    id: key.id,
    ...keySettingsOf(key),
    status: keyStatusAt(key, now),
    expirationState: expirationStateAt(key, now, windowMs),
    displayHint: current?.hint ?? "",
    createdAt: key.createdAt,
    createdBy: key.createdBy,
    updatedAt: key.updatedAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    revokedBy: key.revokedBy,
    revokeReason: key.revokeReason,
    secrets: live.map((secret) => ({
      generation: secret.generation,
      hint: secret.hint,
      createdAt: secret.createdAt,
      expiresAt: secret.expiresAt,
    })),
    deletedAt: key.deletedAt,
    labels: key.labels,
    disabledAt: key.disabledAt,
    disabledBy: key.disabledBy,
    disableReason: key.disableReason,
    etag: etagOf("key", key.id, key.version),
  };
}

/** GroupView is a group with the number of non-deleted keys in it. */
export interface GroupView extends Omit<GroupRecord, "version"> {
  readonly keyCount: number;
  readonly etag: string;
}

export function groupView(group: GroupRecord, keyCount: number): GroupView {
  return {
    id: group.id,
    tenantId: group.tenantId,
    name: group.name,
    description: group.description,
    permissions: [...group.permissions],
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
    keyCount,
    labels: group.labels,
    etag: etagOf("group", group.id, group.version),
  };
}

/** TenantView is a tenant's effective key limit and usage ("usedKeys/keyLimit"). */
export interface TenantView {
  readonly tenantId: string;
  /** keyLimit is the override, or the server default when there is none. */
  readonly keyLimit: number;
  readonly usedKeys: number;
  readonly keyLimitOverridden: boolean;
  readonly displayName: string;
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
  readonly etag: string;
}

export function tenantView(tenant: TenantRecord, defaultKeyLimit: number): TenantView {
  return {
    tenantId: tenant.id,
    keyLimit: tenant.keyLimit ?? defaultKeyLimit,
    usedKeys: tenant.usedKeys,
    keyLimitOverridden: tenant.keyLimit !== null,
    displayName: tenant.displayName,
    createdAt: tenant.createdAt,
    updatedAt: tenant.updatedAt,
    etag: etagOf("tenant", tenant.id, tenant.version),
  };
}
