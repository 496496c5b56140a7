/**
 * The KeyAdminService part of the wiring: repositories, use cases and the handler, on what the verification
 * side shares (the CallerAuthenticator, so admin callers are checked with VerifyKey's rules and cache; the
 * KeyChangeNotifier, so admin writes reach every replica's cache before the answer) and the audit sink.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { createAdminAuthenticator } from "../domain/admin-access.js";
import { createBootstrapper } from "../domain/bootstrap.js";
import { createGroupAdmin } from "../domain/group-admin.js";
import { createKeyAdmin } from "../domain/key-admin.js";
import type { KeyFormat } from "../domain/key-format.js";
import type { KeyHasher } from "../domain/key-hash.js";
import { createPageTokenCodec } from "../domain/page-token.js";
import type {
  AuditSink,
  CallerAuthenticator,
  Clock,
  KeyChangeNotifier,
  RandomSource,
} from "../domain/ports.js";
import { createTenantAdmin } from "../domain/tenant-admin.js";
import type { UsageStatsReader } from "../domain/usage-stats.js";
import type { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import { createKeyAdminHandler } from "../rpc/key-admin-handler.js";
import { createMongoGroupRepository, groupIndexes } from "../storage/group-repository.js";
import { createMongoIdempotencyStore, idempotencyIndexes } from "../storage/idempotency-store.js";
import { createMongoKeyRepository, keyIndexes } from "../storage/key-repository.js";
import { createMongoTenantRepository, tenantIndexes } from "../storage/tenant-repository.js";
import type { WireDeps, Wired } from "./wire-services.js";

export interface KeyAdminWiringDeps extends WireDeps {
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly callers: CallerAuthenticator;
  readonly notifier: KeyChangeNotifier;
  /** audit receives one admin event per mutation. */
  readonly audit: AuditSink;
  /** usageStats gives GetKey and ListKeys each key's verifications of the last 24 hours. */
  readonly usageStats: Pick<UsageStatsReader, "requestsLast24h">;
}

/**
 * adminPageTokenKey derives the page-token signing key from the current pepper, so every replica signs and
 * checks tokens alike without another secret to configure, and the key is useless for anything else.
 */
export function adminPageTokenKey(pepper: string): Buffer {
  return createHmac("sha256", pepper).update("apikeys/admin-page-token-key/v1").digest();
}

export function wireKeyAdmin(deps: KeyAdminWiringDeps): Wired & {
  readonly service: ServiceImpl<typeof KeyAdminService>;
} {
  const { config, db } = deps;
  const clock: Clock = { now: () => new Date() };
  const random: RandomSource = { bytes: (length) => new Uint8Array(randomBytes(length)) };
  const log = deps.logger.child({ component: "key-admin" });
  const shared = {
    keys: createMongoKeyRepository(db),
    groups: createMongoGroupRepository(db),
    tenants: createMongoTenantRepository(db),
    idempotency: createMongoIdempotencyStore(db),
    notifier: deps.notifier,
    audit: deps.audit,
    clock,
    random,
    keyFormat: deps.keyFormat,
    hasher: deps.hasher,
    pageTokens: createPageTokenCodec(adminPageTokenKey(config.keys.pepper.pepper)),
    defaultKeyLimit: config.keys.defaultTenantKeyLimit,
    expiringSoonWindowMs: config.keys.expiringSoonWindowMs,
    // Failures after the answer was decided (the outcome stands); logged without any request data.
    reportError: (error: unknown, context: string) =>
      log.warn({ err: error, context }, "admin follow-up failed"),
  };
  return {
    service: createKeyAdminHandler({
      access: createAdminAuthenticator(deps.callers),
      keys: createKeyAdmin(shared),
      groups: createGroupAdmin(shared),
      tenants: createTenantAdmin(shared),
      bootstrapper: createBootstrapper({ ...shared, bootstrapToken: config.bootstrapToken }),
      usageStats: deps.usageStats,
    }),
    indexes: [...keyIndexes, ...groupIndexes, ...tenantIndexes, ...idempotencyIndexes],
    startHooks: [
      {
        name: "tenant registration",
        // Tenants that hold keys or groups exist from now on; idempotent, so it logs only when it registered.
        async start() {
          const registered = await shared.tenants.registerHolders(clock.now());
          if (registered.length > 0) {
            log.info(
              { count: registered.length, tenants: registered.slice(0, 50) },
              "registered the existing tenants that hold keys or groups",
            );
          }
        },
      },
    ],
    closeHooks: [],
  };
}
