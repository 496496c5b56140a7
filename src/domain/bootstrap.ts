/** Bootstrap, the one-shot way in: a super-user key for the bootstrap token (docs/architecture.md). */
import { createHash, timingSafeEqual } from "node:crypto";
import { BOOTSTRAP_ACTOR } from "./admin-access.js";
import { type AdminEventTarget, recordAdminEvent } from "./admin-audit.js";
import { keyFieldChanges } from "./admin-field-changes.js";
import type { BackgroundErrorReporter } from "./admin-mutation.js";
import { keyViewAt } from "./admin-views.js";
import { SUPERUSER_PERMISSION, SYSTEM_TENANT } from "./api-key.js";
import { DomainError } from "./errors.js";
import { createFailedAttemptThrottle, type FailedAttemptThrottle } from "./failed-attempt-throttle.js";
import type { IssuedKey } from "./key-admin.js";
import { issueKey, type KeyIssuerDependencies } from "./key-admin-issue.js";
import { NO_LABELS } from "./labels.js";
import type { AuditSink, Clock, IdempotencyStore } from "./ports.js";
import { validateName } from "./validation.js";

export const DEFAULT_BOOTSTRAP_KEY_NAME = "bootstrap super user";
/** BOOTSTRAP_DISABLED is the reason of the FAILED_PRECONDITION when the server has no bootstrap token. */
export const BOOTSTRAP_DISABLED = "BOOTSTRAP_DISABLED";
/** SUPERUSER_EXISTS is the reason of the FAILED_PRECONDITION once a super-user key has been issued. */
export const SUPERUSER_EXISTS = "SUPERUSER_EXISTS";

export interface SuperUserKeyDependencies extends KeyIssuerDependencies {
  readonly expiringSoonWindowMs: number;
}

/** NewSuperUserKey is a super-user key just issued: the answer carrying its secret, and its event's target. */
export interface NewSuperUserKey {
  readonly issued: IssuedKey;
  /** event is what the key_created admin event of this key is about; the caller records it. */
  readonly event: AdminEventTarget;
}

/** issueSuperUserKey issues the key Bootstrap and the offline recovery both issue; `name` must be valid. */
export async function issueSuperUserKey(
  deps: SuperUserKeyDependencies,
  name: string,
  createdBy: string,
  now: Date,
): Promise<NewSuperUserKey> {
  // The system tenant exists from the first super-user key on (Bootstrap, or the offline recovery).
  await deps.tenants
    .create({ id: SYSTEM_TENANT, displayName: "system", keyLimit: null, createdAt: now })
    .catch((error: unknown) => {
      if (!(error instanceof DomainError && error.kind === "already_exists")) {
        throw error;
      }
    });
  const { record, generated } = await issueKey(
    deps,
    {
      tenantId: SYSTEM_TENANT,
      name,
      description: "",
      userId: "",
      groupId: "",
      permissions: [SUPERUSER_PERMISSION],
      ipAllowlist: [],
      expiresAt: null,
      labels: NO_LABELS,
      createdBy,
    },
    now,
  );
  return {
    issued: {
      key: keyViewAt(record, now, deps.expiringSoonWindowMs),
      secret: { key: generated.key, secretKey: generated.secretKey },
      secretAlreadyIssued: false,
    },
    event: {
      tenantId: SYSTEM_TENANT,
      keyId: record.id,
      changedFields: ["name", "permissions"],
      changes: keyFieldChanges(null, record, ["name", "permissions"]),
      requestId: null,
    },
  };
}

export interface BootstrapDependencies extends SuperUserKeyDependencies {
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** bootstrapToken is the server's BOOTSTRAP_TOKEN (secret), or null when bootstrap is disabled. */
  readonly bootstrapToken: string | null;
  readonly reportError?: BackgroundErrorReporter;
  /** throttle counts failed attempts per caller address; default 5 a minute, 10,000 addresses. */
  readonly throttle?: FailedAttemptThrottle;
}

export interface BootstrapInput {
  /** token is a secret. */
  readonly token: string;
  readonly name: string;
  /** peer is the caller's IP address (the throttle's key), or null when unknown. */
  readonly peer: string | null;
  readonly callId?: string;
}

export interface Bootstrapper {
  bootstrap(input: BootstrapInput): Promise<IssuedKey>;
}

const LOCK_SCOPE = JSON.stringify([SYSTEM_TENANT, "Bootstrap"]);
const LOCK_ID = "bootstrap";

export function createBootstrapper(deps: BootstrapDependencies): Bootstrapper {
  const report: BackgroundErrorReporter = deps.reportError ?? (() => undefined);
  // Only the digest of the configured token is kept; comparing digests of equal length is constant time
  // whatever the length of the guess.
  const expected =
    deps.bootstrapToken === null || deps.bootstrapToken === ""
      ? null
      : createHash("sha256").update(deps.bootstrapToken, "utf8").digest();

  const throttle = deps.throttle ?? createFailedAttemptThrottle();

  return {
    async bootstrap(input) {
      const caller = input.peer ?? "unknown";
      throttle.check(caller, deps.clock.now().getTime(), "bootstrap attempts");
      try {
        return await bootstrapOnce(input);
      } catch (error) {
        if (error instanceof DomainError && error.kind !== "aborted" && error.kind !== "unavailable") {
          throttle.failed(caller, deps.clock.now().getTime());
        }
        throw error;
      }
    },
  };

  async function bootstrapOnce(input: BootstrapInput): Promise<IssuedKey> {
    if (expected === null) {
      throw new DomainError(
        "failed_precondition",
        "bootstrap is disabled: the server has no BOOTSTRAP_TOKEN configured",
        { reason: BOOTSTRAP_DISABLED },
      );
    }
    const given = createHash("sha256")
      .update(typeof input.token === "string" ? input.token : "", "utf8")
      .digest();
    if (!timingSafeEqual(given, expected) || input.token === "") {
      throw new DomainError("unauthenticated", "the bootstrap token is not valid");
    }
    const name = input.name === "" ? DEFAULT_BOOTSTRAP_KEY_NAME : validateName(input.name, "name");
    const now = deps.clock.now();
    const claim = await deps.idempotency.claim(LOCK_SCOPE, LOCK_ID, LOCK_ID, now);
    if (claim.state !== "claimed") {
      throw new DomainError("aborted", "another bootstrap is in progress; try again");
    }
    try {
      if (await deps.keys.hasAnyWithPermission(SYSTEM_TENANT, SUPERUSER_PERMISSION)) {
        throw new DomainError(
          "failed_precondition",
          "bootstrap has already been done: a super-user key was issued; use it (a lost super user is recovered offline, with database access: apikeys recover-super-user, see docs/admin-flow.md)",
          { reason: SUPERUSER_EXISTS },
        );
      }
      const superUser = await issueSuperUserKey(deps, name, BOOTSTRAP_ACTOR.keyId, now);
      const actor =
        input.callId === undefined ? BOOTSTRAP_ACTOR : { ...BOOTSTRAP_ACTOR, callId: input.callId };
      await recordAdminEvent(deps.audit, actor, "key_created", now, superUser.event);
      return superUser.issued;
    } finally {
      await deps.idempotency.abandon(LOCK_SCOPE, LOCK_ID).catch((error: unknown) => {
        report(error, "releasing the bootstrap lock failed");
      });
    }
  }
}
