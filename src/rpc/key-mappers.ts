/** Mapping between the KeyAdminService messages and the admin use cases' domain shapes, and nothing more. */
import { create } from "@bufbuild/protobuf";
import { type Duration, type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { GroupView, KeyView, TenantView } from "../domain/admin-views.js";
import {
  type ExpirationState as DomainExpirationState,
  type KeyStatus as DomainKeyStatus,
  keySettingsOf,
} from "../domain/api-key.js";
import { invalidArgument } from "../domain/errors.js";
import type { IssuedKey } from "../domain/key-admin.js";
import { durationToMs, timestampToDate } from "../domain/validation.js";
import {
  ExpirationState,
  type Group,
  GroupSchema,
  type Key,
  KeySchema,
  KeySecretSchema,
  KeyStatus,
  type Tenant,
  TenantSchema,
} from "../gen/apikeys/v1/key_pb.js";

/** dateOf converts an optional request Timestamp to a Date (null when unset), refusing out-of-range parts. */
export function dateOf(timestamp: Timestamp | undefined, field: string): Date | null {
  return timestamp === undefined ? null : timestampToDate(timestamp.seconds, timestamp.nanos, field);
}

/** millisecondsOf converts an optional request Duration to milliseconds (0 when unset). */
export function millisecondsOf(duration: Duration | undefined, field: string): number {
  return duration === undefined ? 0 : durationToMs(duration.seconds, duration.nanos, field);
}

const STATUS: Readonly<Record<DomainKeyStatus, KeyStatus>> = {
  active: KeyStatus.ACTIVE,
  expired: KeyStatus.EXPIRED,
  revoked: KeyStatus.REVOKED,
  disabled: KeyStatus.DISABLED,
};

const EXPIRATION: Readonly<Record<DomainExpirationState, ExpirationState>> = {
  valid: ExpirationState.VALID,
  expiring_soon: ExpirationState.EXPIRING_SOON,
  expired: ExpirationState.EXPIRED,
};

/** domainValueOf reads a proto enum number back through its outgoing `table`, refusing one it lacks. */
export function domainValueOf<D extends string>(
  table: Readonly<Record<D, number>>,
  value: number,
  field: string,
  what: string,
): D {
  const found = (Object.keys(table) as D[]).find((name) => table[name] === value);
  if (found === undefined) {
    throw invalidArgument(field, `${Number(value)} is not ${what}`);
  }
  return found;
}

// In the ListKeys filters, UNSPECIFIED (0) means any (null).
export function keyStatusFilterOf(status: KeyStatus, field = "status"): DomainKeyStatus | null {
  return status === KeyStatus.UNSPECIFIED ? null : domainValueOf(STATUS, status, field, "a key status");
}

export function expirationStateFilterOf(
  state: ExpirationState,
  field = "expiration_state",
): DomainExpirationState | null {
  return state === ExpirationState.UNSPECIFIED
    ? null
    : domainValueOf(EXPIRATION, state, field, "an expiration state");
}

function timestampOf(date: Date | null): Timestamp | undefined {
  return date === null ? undefined : timestampFromDate(date);
}

export function keyMessageOf(key: KeyView): Key {
  return create(KeySchema, {
    keyId: key.id,
    ...keySettingsOf(key),
    status: STATUS[key.status],
    expirationState: EXPIRATION[key.expirationState],
    displayHint: key.displayHint,
    createTime: timestampFromDate(key.createdAt),
    createdBy: key.createdBy,
    updateTime: timestampFromDate(key.updatedAt),
    lastUsedTime: timestampOf(key.lastUsedAt),
    expireTime: timestampOf(key.expiresAt),
    revokeTime: timestampOf(key.revokedAt),
    revokedBy: key.revokedBy,
    revokeReason: key.revokeReason,
    secrets: key.secrets.map((secret) =>
      create(KeySecretSchema, {
        generation: secret.generation,
        displayHint: secret.hint,
        createTime: timestampFromDate(secret.createdAt),
        expireTime: timestampOf(secret.expiresAt),
      }),
    ),
    deleteTime: timestampOf(key.deletedAt),
    labels: { ...key.labels },
    etag: key.etag,
    disableTime: timestampOf(key.disabledAt),
    disabledBy: key.disabledBy,
    disableReason: key.disableReason,
  });
}

/** issuedKeyFields gives the fields CreateKeyResponse, RotateKeyResponse and BootstrapResponse share. */
export function issuedKeyFields(issued: IssuedKey): {
  key: Key;
  secret: string;
  secretKey: string;
  secretAlreadyIssued: boolean;
} {
  return {
    key: keyMessageOf(issued.key),
    secret: issued.secret?.key ?? "",
    secretKey: issued.secret?.secretKey ?? "",
    secretAlreadyIssued: issued.secretAlreadyIssued,
  };
}

export function groupMessageOf(group: GroupView): Group {
  return create(GroupSchema, {
    groupId: group.id,
    tenantId: group.tenantId,
    name: group.name,
    description: group.description,
    permissions: [...group.permissions],
    createTime: timestampFromDate(group.createdAt),
    updateTime: timestampFromDate(group.updatedAt),
    keyCount: group.keyCount,
    labels: { ...group.labels },
    etag: group.etag,
  });
}

export function tenantMessageOf(tenant: TenantView): Tenant {
  return create(TenantSchema, {
    tenantId: tenant.tenantId,
    keyLimit: tenant.keyLimit,
    usedKeys: tenant.usedKeys,
    keyLimitOverridden: tenant.keyLimitOverridden,
    displayName: tenant.displayName,
    createTime: timestampOf(tenant.createdAt),
    updateTime: timestampOf(tenant.updatedAt),
    etag: tenant.etag,
  });
}
