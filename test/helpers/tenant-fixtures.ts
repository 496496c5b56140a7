/**
 * Tenants exist on purpose (CreateTenant); tests that are not about tenants get theirs created on first use
 * through these helpers, so each test still names a fresh tenant in one line.
 */
import { DomainError } from "../../src/domain/errors.js";
import type { TenantRepository } from "../../src/domain/ports.js";

/**
 * ensureTenant makes `tenantId` exist (keeping a key limit a test set beforehand with setKeyLimit). Ids the
 * service would refuse are left alone, so the call under test still answers for them.
 */
export async function ensureTenant(tenants: TenantRepository, tenantId: string, now: Date): Promise<void> {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(tenantId) && tenantId !== "_system") {
    return;
  }
  const current = await tenants.get(tenantId);
  if (current.createdAt !== null) {
    return;
  }
  await tenants
    .create({ id: tenantId, displayName: "", keyLimit: current.keyLimit, createdAt: now })
    .catch((error: unknown) => {
      if (!(error instanceof DomainError && error.kind === "already_exists")) {
        throw error;
      }
    });
}
