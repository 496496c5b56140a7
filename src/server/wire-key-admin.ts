/**
 * The KeyAdminService part of the wiring: repositories, use cases and the handler, built from the process
 * resources and from what the verification side shares with it (the CallerAuthenticator, so admin callers
 * are checked with VerifyKey's rules and cache; the KeyChangeNotifier, so admin writes reach every replica's
 * cache before the answer) and the audit sink. wire-services.ts calls it.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "mongodb";
import type { Logger } from "pino";
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
import type { IndexDeclaration } from "../storage/indexes.js";
import { createMongoKeyRepository, keyIndexes } from "../storage/key-repository.js";
import { createMongoTenantRepository, tenantIndexes } from "../storage/tenant-repository.js";
import type { Config } from "./config.js";
import type { StartHook } from "./wire-services.js";

/** KeyAdminWiringDeps are what the admin service is built from. */
export interface KeyAdminWiringDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  /** callers authenticates admin callers (the verification side's, sharing its cache). */
  readonly callers: CallerAuthenticator;
  /** notifier drops cached copies locally and tells the other replicas (the verification side's). */
  readonly notifier: KeyChangeNotifier;
  /** audit receives one admin event per mutation. */
  readonly audit: AuditSink;
  /** usageStats gives GetKey and ListKeys each key's verifications of the last 24 hours. */
  readonly usageStats: Pick<UsageStatsReader, "requestsLast24h">;
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

/** WiredKeyAdmin is the admin service implementation, the indexes its storage needs and its start hook. */
export interface WiredKeyAdmin {
  readonly service: ServiceImpl<typeof KeyAdminService>;
  readonly indexes: readonly IndexDeclaration[];
  /** startHooks register the tenants of databases from before tenants were created on purpose. */
  readonly startHooks: readonly StartHook[];
}

/**
 * adminPageTokenKey derives the page-token signing key from the current pepper, so every replica signs and
 * checks tokens alike without another secret to configure, and the key is useless for anything else.
 */
export function adminPageTokenKey(pepper: string): Buffer {
  return createHmac("sha256", pepper).update("apikeys/admin-page-token-key/v1").digest();
}

/** wireKeyAdmin builds KeyAdminService on `deps`. */
export function wireKeyAdmin(deps: KeyAdminWiringDeps): WiredKeyAdmin {
  const { config, db } = deps;
  const clock: Clock = deps.clock ?? { now: () => new Date() };
  const random: RandomSource = deps.random ?? { bytes: (length) => new Uint8Array(randomBytes(length)) };
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
  };
}
