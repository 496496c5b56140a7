/** Offline recovery of a lost super user, with no RPC and no running service (docs/architecture.md). */
import { adminEvent } from "./admin-audit.js";
import { type Actor, SYSTEM_TENANT } from "./api-key.js";
import { issueSuperUserKey, type SuperUserKeyDependencies } from "./bootstrap.js";
import type { IssuedKey } from "./key-admin.js";
import type { AuditEventStore, Clock } from "./ports.js";
import { validateName } from "./validation.js";

export const DEFAULT_RECOVERY_KEY_NAME = "recovered super user";

/** RECOVERY_ACTOR is the actor of an offline recovery: it marks the key's creator and its audit event. */
export const RECOVERY_ACTOR: Actor = Object.freeze({
  keyId: "offline-recovery",
  tenantId: SYSTEM_TENANT,
  userId: "",
  role: "superuser",
});

export interface SuperUserRecoveryDependencies extends SuperUserKeyDependencies {
  /** auditLog stores the recovery's admin event directly: no service runs to buffer it. */
  readonly auditLog: Pick<AuditEventStore, "append">;
  readonly clock: Clock;
}

/** recoverSuperUser issues a super-user key and stores its admin event before returning the secret. */
export async function recoverSuperUser(
  deps: SuperUserRecoveryDependencies,
  name: string,
): Promise<IssuedKey> {
  const keyName = name === "" ? DEFAULT_RECOVERY_KEY_NAME : validateName(name, "name");
  const now = deps.clock.now();
  const superUser = await issueSuperUserKey(deps, keyName, RECOVERY_ACTOR.keyId, now);
  await deps.auditLog.append([adminEvent(RECOVERY_ACTOR, "key_created", now, superUser.event)]);
  return superUser.issued;
}
