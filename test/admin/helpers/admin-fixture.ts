/**
 * The admin use cases wired on the real storage of a per-file test database, with a settable clock and
 * recording notifier and audit sink, for the domain-level admin tests.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "mongodb";
import { beforeAll } from "vitest";
import { type AdminAuthenticator, createAdminAuthenticator } from "../../../src/domain/admin-access.js";
import type { Actor } from "../../../src/domain/api-key.js";
import { type Bootstrapper, createBootstrapper } from "../../../src/domain/bootstrap.js";
import { createGroupAdmin, type GroupAdmin } from "../../../src/domain/group-admin.js";
import {
  type CreateKeyInput,
  createKeyAdmin,
  type IssuedKey,
  type KeyAdmin,
} from "../../../src/domain/key-admin.js";
import { createKeyFormat, type KeyFormat } from "../../../src/domain/key-format.js";
import { createKeyHasher, type KeyHasher } from "../../../src/domain/key-hash.js";
import { createPageTokenCodec } from "../../../src/domain/page-token.js";
import type {
  CallerAuthenticator,
  GroupRepository,
  IdempotencyStore,
  KeyRepository,
  TenantRepository,
} from "../../../src/domain/ports.js";
import { createTenantAdmin, type TenantAdmin } from "../../../src/domain/tenant-admin.js";
import { createMongoGroupRepository } from "../../../src/storage/group-repository.js";
import { createMongoIdempotencyStore } from "../../../src/storage/idempotency-store.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { createMongoKeyRepository } from "../../../src/storage/key-repository.js";
import { allStorageIndexes } from "../../../src/storage/storage-indexes.js";
import { createMongoTenantRepository } from "../../../src/storage/tenant-repository.js";
import { ManualClock } from "../../helpers/fake-clock.js";
import {
  createRecordingAuditSink,
  createRecordingNotifier,
  type RecordingAuditSink,
  type RecordingNotifier,
} from "../../helpers/memory-ports.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { cryptoRandom } from "../../helpers/random.js";
import { ensureTenant } from "../../helpers/tenant-fixtures.js";
import { createSimpleCallerAuthenticator } from "./simple-caller-authenticator.js";

/** SettableClock is the fixture's clock: the tests' one fake clock. */
export type SettableClock = ManualClock;

/** systemRandom is the real CSPRNG (the tests' one random source). */
export const systemRandom = cryptoRandom;

export {
  createRecordingAuditSink,
  createRecordingNotifier,
  type RecordingAuditSink,
  type RecordingNotifier,
} from "../../helpers/memory-ports.js";

/** AdminFixture is everything an admin use-case test needs. */
export interface AdminFixture {
  readonly db: Db;
  readonly clock: SettableClock;
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  readonly tenants: TenantRepository;
  readonly idempotency: IdempotencyStore;
  readonly notifier: RecordingNotifier;
  readonly audit: RecordingAuditSink;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly callers: CallerAuthenticator;
  readonly access: AdminAuthenticator;
  /** keyAdmin creates the tenant of a key first (tests not about tenants); strictKeyAdmin does not. */
  readonly keyAdmin: KeyAdmin;
  readonly strictKeyAdmin: KeyAdmin;
  /** groupAdmin creates the tenant of a group first; strictGroupAdmin does not. */
  readonly groupAdmin: GroupAdmin;
  readonly strictGroupAdmin: GroupAdmin;
  readonly tenantAdmin: TenantAdmin;
  readonly bootstrapper: Bootstrapper;
  readonly defaultKeyLimit: number;
  /** superuser is an actor with every right (as a bootstrap key would have). */
  readonly superuser: Actor;
}

/** T0 is the instant the fixture clock starts at. */
export const T0 = new Date("2031-03-01T12:00:00.000Z");

/** ADMIN_TEST_BOOTSTRAP_TOKEN is the fixture's bootstrap token. */
export const ADMIN_TEST_BOOTSTRAP_TOKEN = "test-bootstrap-token-0123456789abcdef";

/** useAdminFixture wires the admin use cases on a fresh test database (one per test file). */
export function useAdminFixture(
  label: string,
  options: { defaultKeyLimit?: number; bootstrapToken?: string | null } = {},
): AdminFixture {
  const { db } = useTestDatabase(label);
  beforeAll(async () => {
    await ensureIndexes(db, allStorageIndexes);
  });
  const clock = new ManualClock(T0);
  const keys = createMongoKeyRepository(db);
  const groups = createMongoGroupRepository(db);
  const tenants = createMongoTenantRepository(db);
  const idempotency = createMongoIdempotencyStore(db);
  const notifier = createRecordingNotifier();
  const audit = createRecordingAuditSink();
  const keyFormat = createKeyFormat("ak_test_");
  const hasher = createKeyHasher({ version: 1, secret: randomBytes(32) });
  const pageTokens = createPageTokenCodec(randomBytes(32));
  const defaultKeyLimit = options.defaultKeyLimit ?? 100;
  const callers = createSimpleCallerAuthenticator({ keys, groups, keyFormat, hasher, clock });
  const shared = {
    keys,
    groups,
    tenants,
    idempotency,
    notifier,
    audit,
    clock,
    random: cryptoRandom,
    keyFormat,
    hasher,
    pageTokens,
    defaultKeyLimit,
    expiringSoonWindowMs: 7 * 86_400_000,
  };
  const keyAdmin = createKeyAdmin(shared);
  const groupAdmin = createGroupAdmin(shared);
  return {
    db,
    clock,
    keys,
    groups,
    tenants,
    idempotency,
    notifier,
    audit,
    keyFormat,
    hasher,
    callers,
    access: createAdminAuthenticator(callers),
    // Tests not about tenants: a key or group in a tenant that does not exist yet creates it first.
    keyAdmin: {
      ...keyAdmin,
      createKey: async (actor, input) => {
        await ensureTenant(tenants, input.tenantId, clock.now());
        return keyAdmin.createKey(actor, input);
      },
    },
    strictKeyAdmin: keyAdmin,
    groupAdmin: {
      ...groupAdmin,
      createGroup: async (actor, input) => {
        await ensureTenant(tenants, input.tenantId, clock.now());
        return groupAdmin.createGroup(actor, input);
      },
    },
    strictGroupAdmin: groupAdmin,
    tenantAdmin: createTenantAdmin(shared),
    bootstrapper: createBootstrapper({
      ...shared,
      bootstrapToken:
        options.bootstrapToken === undefined ? ADMIN_TEST_BOOTSTRAP_TOKEN : options.bootstrapToken,
    }),
    defaultKeyLimit,
    superuser: { keyId: "bootstrap", tenantId: "_system", userId: "", role: "superuser" },
  };
}

/** createInput builds a valid CreateKeyInput for `tenantId` with overrides. */
export function createInput(tenantId: string, overrides: Partial<CreateKeyInput> = {}): CreateKeyInput {
  return {
    tenantId,
    name: "integration key",
    description: "",
    userId: "",
    groupId: "",
    permissions: [],
    ipAllowlist: [],
    expiresAt: null,
    requestId: "",
    ...overrides,
  };
}

/** uniqueTenant makes a tenant id no other test uses. */
export function uniqueTenant(label = "t"): string {
  return `${label}-${randomBytes(5).toString("hex")}`;
}

/** actorFor builds the actor of an issued key, as the authenticator would resolve it. */
export async function actorFor(
  fixture: AdminFixture,
  issued: IssuedKey,
  peerIp: string | null = null,
): Promise<Actor> {
  if (issued.secret === null) {
    throw new Error("the key's secret was not issued by this call");
  }
  return fixture.access.authenticate(issued.secret.key, peerIp);
}
