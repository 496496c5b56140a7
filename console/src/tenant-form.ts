/**
 * The tenant forms' text → CreateTenant and UpdateTenant fields, checked as the API checks them where a person
 * benefits from knowing before sending (id syntax, display name length, limit range).
 */
import type { Tenant } from "../../src/gen/apikeys/v1/key_pb.js";

/** TenantFormValues are the tenant forms' inputs as typed; tenantId is only on the create form. */
export interface TenantFormValues {
  readonly tenantId: string;
  readonly displayName: string;
  /** keyLimit is a whole number, or "" for the server default. */
  readonly keyLimit: string;
}

export type TenantFormField = keyof TenantFormValues;
export type TenantFieldErrors = Partial<Record<TenantFormField, string>>;

export type ParsedTenantForm<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: TenantFieldErrors };

export const EMPTY_TENANT_FORM: TenantFormValues = { tenantId: "", displayName: "", keyLimit: "" };

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_KEY_LIMIT = 1_000_000;

/** tenantFormFieldOf maps a request field (as the server names it) to the form input that edits it. */
export function tenantFormFieldOf(requestField: string): TenantFormField | null {
  switch (requestField) {
    case "tenant_id":
      return "tenantId";
    case "display_name":
      return "displayName";
    case "key_limit":
      return "keyLimit";
    default:
      return null;
  }
}

function checkDisplayName(text: string, errors: TenantFieldErrors): string {
  const name = text.trim();
  const length = [...name].length;
  if (length === 1 || length > 200) {
    errors.displayName = "Enter a display name of 2 to 200 characters, or leave it empty.";
  }
  return name;
}

/** parseKeyLimit reads the limit: undefined for "" (the server default), null when it is not 1-1,000,000. */
function parseKeyLimit(text: string, errors: TenantFieldErrors): number | undefined {
  if (text.trim() === "") {
    return undefined;
  }
  const limit = Number(text.trim());
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_KEY_LIMIT) {
    errors.keyLimit = "Enter a whole number from 1 to 1,000,000, or leave it empty for the server default.";
  }
  return limit;
}

/** CreateTenantFields are a CreateTenant request's fields. */
export interface CreateTenantFields {
  readonly tenantId: string;
  readonly displayName: string;
  readonly keyLimit?: number;
}

/** createTenantRequestOf turns the create form into a CreateTenant request. */
export function createTenantRequestOf(values: TenantFormValues): ParsedTenantForm<CreateTenantFields> {
  const errors: TenantFieldErrors = {};
  const tenantId = values.tenantId.trim();
  if (!TENANT_ID.test(tenantId)) {
    errors.tenantId =
      "Enter 1 to 64 lowercase letters, digits, - or _, starting with a letter or digit (e.g. acme-eu).";
  }
  const displayName = checkDisplayName(values.displayName, errors);
  const keyLimit = parseKeyLimit(values.keyLimit, errors);
  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return { ok: true, value: { tenantId, displayName, ...(keyLimit === undefined ? {} : { keyLimit }) } };
}

/** TenantUpdate is an UpdateTenant request's changed values, the mask naming them and the etag read. */
export interface TenantUpdate {
  readonly tenantId: string;
  readonly etag: string;
  readonly displayName: string;
  readonly keyLimit?: number;
  readonly updateMask: { readonly paths: string[] };
}

/** tenantFormOf fills the settings form with the tenant's current values ("" when the limit is the default). */
export function tenantFormOf(tenant: Tenant): TenantFormValues {
  return {
    tenantId: tenant.tenantId,
    displayName: tenant.displayName,
    keyLimit: tenant.keyLimitOverridden ? String(tenant.keyLimit) : "",
  };
}

/**
 * tenantUpdateOf compares the settings form with the tenant and names only what changed; an empty limit clears
 * the override (the server default applies again). The tenant's etag goes with it, so a change made meanwhile
 * refuses this one instead of being overwritten.
 */
export function tenantUpdateOf(tenant: Tenant, values: TenantFormValues): ParsedTenantForm<TenantUpdate> {
  const errors: TenantFieldErrors = {};
  const current = tenantFormOf(tenant);
  const paths: string[] = [];
  const displayName = checkDisplayName(values.displayName, errors);
  if (displayName !== tenant.displayName) {
    paths.push("display_name");
  }
  const keyLimit = parseKeyLimit(values.keyLimit, errors);
  if (values.keyLimit.trim() !== current.keyLimit) {
    paths.push("key_limit");
  }
  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    value: {
      tenantId: tenant.tenantId,
      etag: tenant.etag,
      displayName,
      ...(keyLimit === undefined ? {} : { keyLimit }),
      updateMask: { paths },
    },
  };
}
