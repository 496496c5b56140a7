/**
 * Tenant use cases of KeyAdminService: super users create, list and change tenants; a tenant admin may read its
 * own. A limit lowered below the usage keeps existing keys working and refuses new ones until enough go.
 */
import { requireAdmin, requireSuperuser, resolveTenant } from "./admin-access.js";
import { tenantFieldChanges } from "./admin-field-changes.js";
import { updateMaskOf } from "./admin-field-mask.js";
import { type GuardedRequest, runMutation, writeGuarded } from "./admin-mutation.js";
import { type TenantView, tenantView } from "./admin-views.js";
import type { Actor, TenantRecord } from "./api-key.js";
import { DomainError, invalidArgument } from "./errors.js";
import { validateEtag } from "./etag.js";
import type { KeyAdminDependencies } from "./key-admin.js";
import { pageTokenScope } from "./page-token.js";
import type { TenantRepository } from "./ports.js";
import { validateName, validatePageSize, validateTenantId } from "./validation.js";

export const MAX_KEY_LIMIT = 1_000_000;

export const UPDATABLE_TENANT_FIELDS = ["display_name", "key_limit"] as const;

export type TenantAdminDependencies = Pick<
  KeyAdminDependencies,
  "tenants" | "idempotency" | "audit" | "clock" | "pageTokens" | "defaultKeyLimit" | "reportError"
>;

export interface CreateTenantInput {
  readonly tenantId: string;
  readonly displayName: string;
  /** keyLimit is the override, or null for the server default. */
  readonly keyLimit: number | null;
  readonly requestId: string;
}

export interface ListTenantsInput {
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface TenantListing {
  readonly tenants: readonly TenantView[];
  /** nextPageToken is "" on the last page. */
  readonly nextPageToken: string;
}

export interface UpdateTenantInput extends GuardedRequest {
  readonly tenantId: string;
  /** keyLimit is the new override, or null to clear it (the server default applies again). */
  readonly keyLimit: number | null;
  /** displayName is read when the mask names display_name. */
  readonly displayName?: string;
  /** paths is the field mask; absent or null means key_limit only (requests from before display names). */
  readonly paths?: readonly string[] | null;
}

export interface TenantAdmin {
  createTenant(actor: Actor, input: CreateTenantInput): Promise<TenantView>;
  getTenant(actor: Actor, tenantId: string): Promise<TenantView>;
  listTenants(actor: Actor, input: ListTenantsInput): Promise<TenantListing>;
  updateTenant(actor: Actor, input: UpdateTenantInput): Promise<TenantView>;
}

export function tenantNotFound(tenantId: string): DomainError {
  return new DomainError(
    "not_found",
    `tenant ${JSON.stringify(tenantId)} not found; a super user creates tenants with CreateTenant`,
  );
}

/** existingTenant reads a tenant that exists, or answers NOT_FOUND naming it. */
export async function existingTenant(tenants: TenantRepository, tenantId: string): Promise<TenantRecord> {
  const tenant = await tenants.get(tenantId);
  if (tenant.createdAt === null) {
    throw tenantNotFound(tenantId);
  }
  return tenant;
}

export function createTenantAdmin(deps: TenantAdminDependencies): TenantAdmin {
  const view = (tenant: TenantRecord) => tenantView(tenant, deps.defaultKeyLimit);
  const read = async (tenantId: string) => view(await existingTenant(deps.tenants, tenantId));

  return {
    async createTenant(actor, input) {
      requireSuperuser(actor);
      const tenantId = validateTenantId(input.tenantId, "tenant_id");
      const displayName = displayNameOf(input.displayName, "display_name");
      const keyLimit = keyLimitOf(input.keyLimit, "key_limit");
      const now = deps.clock.now();
      return runMutation(deps, {
        actor,
        operation: "CreateTenant",
        requestId: input.requestId,
        parameters: { tenantId, displayName, keyLimit },
        now,
        async run() {
          const tenant = await deps.tenants.create({ id: tenantId, displayName, keyLimit, createdAt: now });
          const changedFields = [
            ...(displayName === "" ? [] : ["display_name"]),
            ...(keyLimit === null ? [] : ["key_limit"]),
          ];
          return {
            value: view(tenant),
            stored: tenantId,
            audit: {
              action: "tenant_created",
              target: { tenantId, changedFields, changes: tenantFieldChanges(null, tenant, changedFields) },
            },
          };
        },
        replay: read,
      });
    },

    async getTenant(actor, tenantId) {
      requireAdmin(actor);
      return read(
        resolveTenant(actor, tenantId, { field: "tenant_id", required: false, superuserDefault: true }),
      );
    },

    async listTenants(actor, input) {
      requireSuperuser(actor);
      const limit = validatePageSize(input.pageSize, "page_size");
      const scope = pageTokenScope("tenants");
      const after = input.pageToken === "" ? null : deps.pageTokens.decode(input.pageToken, scope);
      const page = await deps.tenants.list(limit, after);
      return {
        tenants: page.items.map(view),
        nextPageToken: page.nextCursor === null ? "" : deps.pageTokens.encode(scope, page.nextCursor),
      };
    },

    async updateTenant(actor, input) {
      requireSuperuser(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: true });
      const paths: readonly (typeof UPDATABLE_TENANT_FIELDS)[number][] =
        input.paths === undefined || input.paths === null
          ? ["key_limit"]
          : updateMaskOf(input.paths, UPDATABLE_TENANT_FIELDS, "update_mask");
      const changes: { keyLimit?: number | null; displayName?: string } = {};
      if (paths.includes("display_name")) {
        changes.displayName = displayNameOf(input.displayName ?? "", "display_name");
      }
      if (paths.includes("key_limit")) {
        changes.keyLimit = keyLimitOf(input.keyLimit, "key_limit");
      }
      const etag = validateEtag(input.etag ?? "", "etag");
      const now = deps.clock.now();
      return runMutation(deps, {
        actor,
        operation: "UpdateTenant",
        requestId: input.requestId,
        parameters: { tenantId, changes, etag },
        now,
        async run() {
          let changed: string[] = [];
          const { before, after, written } = await writeGuarded(
            await existingTenant(deps.tenants, tenantId),
            {
              what: "tenant",
              etag,
              reload: () => existingTenant(deps.tenants, tenantId),
              change: (current) => {
                const next = { ...current, ...changes };
                changed = [
                  ...(next.displayName === current.displayName ? [] : ["display_name"]),
                  ...(next.keyLimit === current.keyLimit ? [] : ["key_limit"]),
                ];
                return changed.length === 0
                  ? null
                  : { ...next, updatedAt: now, version: current.version + 1 };
              },
              write: (next, version) => deps.tenants.replace(next, version),
            },
          );
          return {
            value: view(after),
            stored: tenantId,
            audit: written
              ? {
                  action: "tenant_updated",
                  target: {
                    tenantId,
                    changedFields: changed,
                    changes: tenantFieldChanges(before, after, changed),
                  },
                }
              : null,
          };
        },
        replay: read,
      });
    },
  };
}

/** displayNameOf validates a tenant display name: "" (none) or a name (validateName's rules). */
function displayNameOf(value: string, field: string): string {
  return value === "" ? "" : validateName(value, field);
}

/** keyLimitOf validates a key limit override (null = the server default). */
function keyLimitOf(keyLimit: number | null, field: string): number | null {
  if (keyLimit !== null && (!Number.isSafeInteger(keyLimit) || keyLimit < 1 || keyLimit > MAX_KEY_LIMIT)) {
    throw invalidArgument(field, `must be between 1 and ${MAX_KEY_LIMIT}, or unset to use the default`);
  }
  return keyLimit;
}
