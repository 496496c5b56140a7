/** Who may call KeyAdminService, and on what: super users, tenant admins, key holders. */
import {
  type Actor,
  ADMIN_PERMISSION,
  type ApiKeyRecord,
  SUPERUSER_PERMISSION,
  SYSTEM_TENANT,
} from "./api-key.js";
import { DomainError, invalidArgument } from "./errors.js";
import type { AuthenticatedKey, CallerAuthenticator, KeyRepository } from "./ports.js";
import { validateTenantId } from "./validation.js";

/** AdminAuthenticator turns the credential of an admin call into the Actor the use cases act for. */
export interface AdminAuthenticator {
  /** authenticate rejects as unauthenticated a null or failing `candidate`, as unavailable when it cannot tell. */
  authenticate(candidate: string | null, peerIp: string | null, callId?: string): Promise<Actor>;
}

/** createAdminAuthenticator builds the AdminAuthenticator on the shared CallerAuthenticator (VerifyKey rules). */
export function createAdminAuthenticator(callers: CallerAuthenticator): AdminAuthenticator {
  return {
    async authenticate(candidate, peerIp, callId) {
      if (candidate === null || candidate === "") {
        throw new DomainError(
          "unauthenticated",
          "missing credential: send 'authorization: Bearer <key>' or 'x-api-key'",
        );
      }
      const key = await callers.authenticate(candidate, peerIp);
      if (key === null) {
        // One message for every reason (unknown, revoked, expired, IP): the caller learns nothing about the key.
        throw new DomainError("unauthenticated", "the API key is not valid");
      }
      const actor = actorOf(key);
      return callId === undefined ? actor : { ...actor, callId };
    },
  };
}

export function actorOf(key: AuthenticatedKey): Actor {
  const holds = (permission: string) => key.permissions.includes(permission);
  const role: Actor["role"] =
    key.tenantId === SYSTEM_TENANT && holds(SUPERUSER_PERMISSION)
      ? "superuser"
      : holds(ADMIN_PERMISSION) || holds(SUPERUSER_PERMISSION)
        ? "tenant_admin"
        : "key_holder";
  return { keyId: key.keyId, tenantId: key.tenantId, userId: key.userId, role };
}

/** BOOTSTRAP_ACTOR is the actor of Bootstrap, which authenticates with the bootstrap token instead of a key. */
export const BOOTSTRAP_ACTOR: Actor = Object.freeze({
  keyId: "bootstrap",
  tenantId: SYSTEM_TENANT,
  userId: "",
  role: "superuser",
});

/** requireAdmin refuses key holders: every operation but reading one's own keys needs an admin role. */
export function requireAdmin(actor: Actor): void {
  if (actor.role === "key_holder") {
    throw new DomainError(
      "permission_denied",
      `this operation needs the ${ADMIN_PERMISSION} permission; this key may only read the keys of its own user`,
    );
  }
}

export function requireSuperuser(actor: Actor): void {
  if (actor.role !== "superuser") {
    throw new DomainError(
      "permission_denied",
      `this operation needs a super-user key (${SUPERUSER_PERMISSION})`,
    );
  }
}

export interface TenantArgument {
  readonly field: string;
  /** required: the field must be set even by tenant admins (Create*); otherwise "" means the caller's tenant. */
  readonly required: boolean;
  /** superuserDefault lets "" mean a super user's own tenant too (GetTenant); else it must name one. */
  readonly superuserDefault?: boolean;
}

/**
 * resolveTenant validates a request's tenant_id and checks the actor may act on it: super users on any
 * (including "_system"), everyone else on their own; "" is the caller's own unless the field is required.
 */
export function resolveTenant(actor: Actor, requested: string, argument: TenantArgument): string {
  if (typeof requested !== "string" || requested === "") {
    if (argument.required || (actor.role === "superuser" && argument.superuserDefault !== true)) {
      throw invalidArgument(argument.field, "is required");
    }
    return actor.tenantId;
  }
  const tenantId =
    requested === SYSTEM_TENANT && actor.role === "superuser"
      ? requested
      : validateTenantId(requested, argument.field);
  if (actor.role !== "superuser" && tenantId !== actor.tenantId) {
    throw new DomainError(
      "permission_denied",
      `this key may only act on its own tenant ${JSON.stringify(actor.tenantId)}`,
    );
  }
  return tenantId;
}

/** canSeeKey: a key the actor may not see is answered NOT_FOUND, so its existence does not leak. */
export function canSeeKey(
  actor: Actor,
  key: Pick<ApiKeyRecord, "tenantId" | "userId" | "deletedAt">,
): boolean {
  switch (actor.role) {
    case "superuser":
      return true;
    case "tenant_admin":
      return key.tenantId === actor.tenantId;
    case "key_holder":
      return (
        key.tenantId === actor.tenantId &&
        actor.userId !== "" &&
        key.userId === actor.userId &&
        key.deletedAt === null
      );
  }
}

/** adminVisibleKey reads a key for an admin (requireAdmin first), or answers NOT_FOUND naming the id. */
export async function adminVisibleKey(
  keys: Pick<KeyRepository, "findById">,
  actor: Actor,
  keyId: string,
): Promise<ApiKeyRecord> {
  const key = await keys.findById(keyId);
  if (key === null || !canSeeKey(actor, key)) {
    throw new DomainError("not_found", `key ${JSON.stringify(keyId)} not found`);
  }
  return key;
}

/** canSeeTenantResource tells whether an admin actor may see a resource (a group) of `tenantId`. */
export function canSeeTenantResource(actor: Actor, tenantId: string): boolean {
  return actor.role === "superuser" || (actor.role === "tenant_admin" && tenantId === actor.tenantId);
}

/** requireOwnUser: a key holder without a user_id has no "own keys", so it may call nothing. */
export function requireOwnUser(actor: Actor): void {
  if (actor.role === "key_holder" && actor.userId === "") {
    throw new DomainError(
      "permission_denied",
      `this key has no associated user; reading keys needs the ${ADMIN_PERMISSION} permission or a user_id`,
    );
  }
}
