/**
 * Tenant use cases of KeyAdminService: a tenant's key limit and usage. Reading is for the tenant's admins
 * (and super users); setting or clearing the override is for super users only (seed 003: "contact support
 * to raise the limit"). Lowering a limit below the current usage is allowed: existing keys keep working and
 * new ones are refused until enough are revoked or deleted.
 */
import { requireAdmin, requireSuperuser, resolveTenant } from "./admin-access.js";
import type { BackgroundErrorReporter } from "./admin-mutation.js";
import { runMutation } from "./admin-mutation.js";
import { type TenantView, tenantView } from "./admin-views.js";
import type { Actor } from "./api-key.js";
import { invalidArgument } from "./errors.js";
import type { AuditSink, Clock, IdempotencyStore, TenantRepository } from "./ports.js";

/** MAX_KEY_LIMIT is the largest per-tenant key limit. */
export const MAX_KEY_LIMIT = 1_000_000;

/** TenantAdminDependencies are the ports the tenant use cases need. */
export interface TenantAdminDependencies {
  readonly tenants: TenantRepository;
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly defaultKeyLimit: number;
  readonly reportError?: BackgroundErrorReporter;
}

/** UpdateTenantInput is an UpdateTenant request in domain terms. */
export interface UpdateTenantInput {
  readonly tenantId: string;
  /** keyLimit is the new override, or null to clear it (the server default applies again). */
  readonly keyLimit: number | null;
  readonly requestId: string;
}

/** TenantAdmin is the set of tenant use cases; every method acts for `actor`. */
export interface TenantAdmin {
  getTenant(actor: Actor, tenantId: string): Promise<TenantView>;
  updateTenant(actor: Actor, input: UpdateTenantInput): Promise<TenantView>;
}

/** createTenantAdmin builds the tenant use cases on `deps`. */
export function createTenantAdmin(deps: TenantAdminDependencies): TenantAdmin {
  const read = async (tenantId: string) => tenantView(await deps.tenants.get(tenantId), deps.defaultKeyLimit);

  return {
    async getTenant(actor, tenantId) {
      requireAdmin(actor);
      return read(
        resolveTenant(actor, tenantId, { field: "tenant_id", required: false, superuserDefault: true }),
      );
    },

    async updateTenant(actor, input) {
      requireSuperuser(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: true });
      const keyLimit = input.keyLimit;
      if (
        keyLimit !== null &&
        (!Number.isSafeInteger(keyLimit) || keyLimit < 1 || keyLimit > MAX_KEY_LIMIT)
      ) {
        throw invalidArgument(
          "key_limit",
          `must be between 1 and ${MAX_KEY_LIMIT}, or unset to use the default`,
        );
      }
      const now = deps.clock.now();
      return runMutation(deps, {
        actor,
        operation: "UpdateTenant",
        requestId: input.requestId,
        parameters: { tenantId, keyLimit },
        now,
        async run() {
          const tenant = await deps.tenants.setKeyLimit(tenantId, keyLimit);
          return {
            value: tenantView(tenant, deps.defaultKeyLimit),
            stored: tenantId,
            audit: { action: "tenant_updated", target: { tenantId, changedFields: ["key_limit"] } },
          };
        },
        replay: () => read(tenantId),
      });
    },
  };
}
