/** Revision history with values: each changed field before and after, from an allowlist of fields. */
import type { ApiKeyRecord, GroupRecord } from "./api-key.js";

export type FieldValue =
  | null
  | string
  | number
  | boolean
  | readonly FieldValue[]
  | { readonly [key: string]: FieldValue };

/** FieldChange is one changed field with its previous and new value (null: unset, or no resource). */
export interface FieldChange {
  readonly field: string;
  readonly oldValue: FieldValue;
  readonly newValue: FieldValue;
}

const time = (value: Date | null | undefined): FieldValue => (value == null ? null : value.toISOString());

/** keyFieldValues are the values of a key's fields that a history may show, by proto field name. */
const keyFieldValues: Readonly<Record<string, (key: ApiKeyRecord) => FieldValue>> = {
  name: (key) => key.name,
  description: (key) => key.description,
  user_id: (key) => key.userId,
  group_id: (key) => key.groupId,
  permissions: (key) => [...key.permissions],
  ip_allowlist: (key) => [...key.ipAllowlist],
  expire_time: (key) => time(key.expiresAt),
  revoke_time: (key) => time(key.revokedAt),
  revoke_reason: (key) => key.revokeReason,
  delete_time: (key) => time(key.deletedAt),
  secrets: (key) =>
    key.secrets.map((secret) => ({ generation: secret.generation, expire_time: time(secret.expiresAt) })),
  labels: (key) => labelsOf(key),
  disable_time: (key) => time(optionalDate(key, "disabledAt")),
  disable_reason: (key) => optionalString(key, "disableReason"),
};

const groupFieldValues: Readonly<Record<string, (group: GroupRecord) => FieldValue>> = {
  name: (group) => group.name,
  description: (group) => group.description,
  permissions: (group) => [...group.permissions],
  labels: (group) => labelsOf(group),
};

export interface TenantFields {
  readonly displayName?: string;
  readonly keyLimit: number | null;
}

const tenantFieldValues: Readonly<Record<string, (tenant: TenantFields) => FieldValue>> = {
  display_name: (tenant) => tenant.displayName ?? "",
  key_limit: (tenant) => tenant.keyLimit,
};

export function tenantFieldChanges(
  before: TenantFields | null,
  after: TenantFields,
  fields: readonly string[],
): FieldChange[] {
  return changesOf(tenantFieldValues, before, after, fields);
}

export function keyFieldChanges(
  before: ApiKeyRecord | null,
  after: ApiKeyRecord | null,
  fields: readonly string[],
): FieldChange[] {
  return changesOf(keyFieldValues, before, after, fields);
}

/** groupFieldChanges lists the changes of `fields` from `before` (null: created) to `after` (null: deleted). */
export function groupFieldChanges(
  before: GroupRecord | null,
  after: GroupRecord | null,
  fields: readonly string[],
): FieldChange[] {
  return changesOf(groupFieldValues, before, after, fields);
}

/** valueChanges lists plain field changes (a tenant's key limit) given as [field, old, new]. */
export function valueChanges(changes: readonly (readonly [string, FieldValue, FieldValue])[]): FieldChange[] {
  return changes.map(([field, oldValue, newValue]) => ({ field, oldValue, newValue }));
}

function changesOf<R>(
  values: Readonly<Record<string, (record: R) => FieldValue>>,
  before: R | null,
  after: R | null,
  fields: readonly string[],
): FieldChange[] {
  return fields.flatMap((field) => {
    const read = values[field];
    if (read === undefined) {
      return [];
    }
    return [
      {
        field,
        oldValue: before === null ? null : read(before),
        newValue: after === null ? null : read(after),
      },
    ];
  });
}

// Labels and disabling are optional on stored records written before they existed.
function labelsOf(record: object): FieldValue {
  const labels = (record as { labels?: Readonly<Record<string, string>> }).labels;
  return labels === undefined ? {} : { ...labels };
}

function optionalDate(record: object, name: string): Date | null {
  const value = (record as Record<string, unknown>)[name];
  return value instanceof Date ? value : null;
}

function optionalString(record: object, name: string): string {
  const value = (record as Record<string, unknown>)[name];
  return typeof value === "string" ? value : "";
}
