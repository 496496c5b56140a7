/**
 * Bootstrap: the way in on first start. It creates a super-user key (tenant "_system", permission
 * "apikeys:superuser") and returns its secret once. It needs the server's bootstrap token (BOOTSTRAP_TOKEN),
 * compared in constant time, and is disabled when the server has none. It refuses while an active super-user
 * key exists, unless forced (for a lost key; revoke the old one afterwards).
 *
 * Concurrent bootstraps are serialised by claiming one fixed request id in the IdempotencyStore (given back
 * when done), so two first starts racing each other still create one key.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { BOOTSTRAP_ACTOR } from "./admin-access.js";
import { emitAdminEvent } from "./admin-audit.js";
import type { BackgroundErrorReporter } from "./admin-idempotency.js";
import { keyViewAt } from "./admin-views.js";
import { SUPERUSER_PERMISSION, SYSTEM_TENANT } from "./api-key.js";
import { DomainError } from "./errors.js";
import type { IssuedKey } from "./key-admin.js";
import { issueKey, type KeyIssuerDependencies } from "./key-admin-issue.js";
import type { AuditSink, Clock, IdempotencyStore } from "./ports.js";
import { validateName } from "./validation.js";

/** DEFAULT_BOOTSTRAP_KEY_NAME names the bootstrap key when the request gives no name. */
export const DEFAULT_BOOTSTRAP_KEY_NAME = "bootstrap super user";
/** BOOTSTRAP_DISABLED is the reason of the FAILED_PRECONDITION when the server has no bootstrap token. */
export const BOOTSTRAP_DISABLED = "BOOTSTRAP_DISABLED";
/** SUPERUSER_EXISTS is the reason of the FAILED_PRECONDITION when an active super-user key exists. */
export const SUPERUSER_EXISTS = "SUPERUSER_EXISTS";

/** BootstrapDependencies are the ports and settings Bootstrap needs. */
export interface BootstrapDependencies extends KeyIssuerDependencies {
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly expiringSoonWindowMs: number;
  /** bootstrapToken is the server's BOOTSTRAP_TOKEN (secret), or null when bootstrap is disabled. */
  readonly bootstrapToken: string | null;
  readonly reportError?: BackgroundErrorReporter;
}

/** BootstrapInput is a Bootstrap request in domain terms. */
export interface BootstrapInput {
  /** token must equal the server's bootstrap token. Secret. */
  readonly token: string;
  /** name of the key; "" means DEFAULT_BOOTSTRAP_KEY_NAME. */
  readonly name: string;
  readonly force: boolean;
  /** callId is the server's id of the call, recorded in the admin audit event. */
  readonly callId?: string;
}

/** Bootstrapper runs Bootstrap. */
export interface Bootstrapper {
  bootstrap(input: BootstrapInput): Promise<IssuedKey>;
}

const LOCK_SCOPE = JSON.stringify([SYSTEM_TENANT, "Bootstrap"]);
const LOCK_ID = "bootstrap";

/** createBootstrapper builds Bootstrap on `deps`. */
export function createBootstrapper(deps: BootstrapDependencies): Bootstrapper {
  const report: BackgroundErrorReporter = deps.reportError ?? (() => undefined);
  // Only the digest of the configured token is kept; comparing digests of equal length is constant time
  // whatever the length of the guess.
  const expected =
    deps.bootstrapToken === null || deps.bootstrapToken === ""
      ? null
      : createHash("sha256").update(deps.bootstrapToken, "utf8").digest();

  return {
    async bootstrap(input) {
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
        if (
          !input.force &&
          (await deps.keys.hasActiveWithPermission(SYSTEM_TENANT, SUPERUSER_PERMISSION, now))
        ) {
          throw new DomainError(
            "failed_precondition",
            "an active super-user key already exists; use it, or bootstrap with force to create another",
            { reason: SUPERUSER_EXISTS },
          );
        }
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
            createdBy: BOOTSTRAP_ACTOR.keyId,
          },
          now,
        );
        const actor =
          input.callId === undefined ? BOOTSTRAP_ACTOR : { ...BOOTSTRAP_ACTOR, callId: input.callId };
        emitAdminEvent(deps.audit, actor, "key_created", now, {
          tenantId: SYSTEM_TENANT,
          keyId: record.id,
          changedFields: ["name", "permissions"],
          requestId: null,
        });
        return {
          key: keyViewAt(record, now, deps.expiringSoonWindowMs),
          secret: { key: generated.key, secretKey: generated.secretKey },
          secretAlreadyIssued: false,
        };
      } finally {
        await deps.idempotency.abandon(LOCK_SCOPE, LOCK_ID).catch((error: unknown) => {
          report(error, "releasing the bootstrap lock failed");
        });
      }
    },
  };
}
