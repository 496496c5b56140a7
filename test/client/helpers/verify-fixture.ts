/**
 * VerifyFixture is everything the adapter tests need from "a VerifyKey service": an address, one key per
 * scenario, and a way to make the service unreachable. It is the REAL service (test/e2e/helpers/
 * real-service.ts) on the test file's own database, and every scenario key is made through the real admin
 * API the way an operator would: bootstrap → a tenant admin key → an authorization group → keys (one in
 * the group, one with an IP allowlist, one revoked, one expired).
 *
 * EXPIRED needs time to pass: the admin API refuses an expiry less than a minute ahead and the server has
 * no injectable clock (bootServer wires the system clock). So the expired key is created through the
 * admin API with an expiry two minutes ahead and its stored expiry is then moved into the past through
 * the key repository (test/helpers/key-fixtures.ts changeKey), before anything verified it: the real
 * VerifyKey then answers EXPIRED from its own rules, without any sleep.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, vi } from "vitest";
import { createVerifyClient } from "../../../packages/client/src/verify-client.js";
import { createMongoKeyRepository } from "../../../src/storage/key-repository.js";
import { type RealService, unknownKeyOf, useRealService } from "../../e2e/helpers/real-service.js";
import { changeKey } from "../../helpers/key-fixtures.js";
import { DEFAULTS } from "../../helpers/service-budgets.js";

/** FixtureKey is a scenario key in both credential forms. Secret values: test-only. */
export interface FixtureKey {
  /** whole is the whole key (Bearer / ApiKey / X-API-Key form). */
  whole: string;
  /** keyId is the access key id of the two-header form. */
  keyId: string;
  /** secretKey is the secret part of the two-header form. */
  secretKey: string;
  tenantId: string;
  name: string;
  userId: string | null;
  groupId: string | null;
}

/** VerifyFixture is a running VerifyKey service with one key per scenario. */
export interface VerifyFixture {
  /** address is the gRPC address of the service. */
  address: string;
  keys: {
    /** valid is active, unrestricted, in a group granting GRANTED_PERMISSION, labelled VALID_KEY_LABELS. */
    valid: FixtureKey;
    revoked: FixtureKey;
    /** disabled is disabled by an admin (reversible, but never enabled here). */
    disabled: FixtureKey;
    expired: FixtureKey;
    /** ipRestricted (in the group too) only works from ALLOWED_IP. */
    ipRestricted: FixtureKey;
  };
  /** unknownKey has the right shape but was never issued. */
  unknownKey: string;
  /**
   * makeUnavailable stops the service; makeAvailable starts it again on the same address and database and
   * resolves once it answers VerifyKey for every scenario key.
   */
  makeUnavailable(): Promise<void>;
  makeAvailable(): Promise<void>;
  /** service is the real service behind the fixture. */
  service: RealService;
}

/** GRANTED_PERMISSION is granted to the valid key through its group; MISSING_PERMISSION to no key. */
export const GRANTED_PERMISSION = "orders:read";
export const MISSING_PERMISSION = "orders:write";
/** VALID_KEY_LABELS are the valid key's labels, which VerifyKey returns with its verdict. */
export const VALID_KEY_LABELS: Readonly<Record<string, string>> = { plan: "pro", customer: "cus_0042" };

/**
 * CLIENT_DEADLINE_MS is the deadline of the tests' VerifyKey clients: the service's own default deadline for
 * a call that sends none, not the library's 250 ms production default, which a loaded test machine can miss.
 */
export const CLIENT_DEADLINE_MS = DEFAULTS.limits.defaultDeadlineMs;

/** ALLOWED_IP is the only address the ipRestricted key accepts (a documentation address, never a peer). */
export const ALLOWED_IP = "203.0.113.9";
/** FIXTURE_TENANT owns every scenario key. */
export const FIXTURE_TENANT = "shop";

/**
 * useVerifyFixture starts the real service for the calling test file and provisions the scenario keys
 * through its admin API. Read `.current` inside tests or hooks.
 */
export function useVerifyFixture(
  label: string,
  options: { env?: Readonly<Record<string, string>> } = {},
): {
  readonly current: VerifyFixture;
} {
  const service = useRealService(label, options.env === undefined ? {} : { env: options.env });
  let fixture: VerifyFixture | undefined;
  beforeAll(async () => {
    fixture = await provisionFixture(service, options.env?.VERIFY_CALLER_TOKEN);
  });
  return {
    get current(): VerifyFixture {
      if (fixture === undefined) {
        throw new Error("the verify fixture is not ready yet (use it inside tests or hooks)");
      }
      return fixture;
    },
  };
}

async function provisionFixture(service: RealService, callerToken?: string): Promise<VerifyFixture> {
  const root = await service.rootKey();
  await service.tenant(FIXTURE_TENANT);
  const tenantAdmin = await service.admin(root).createKey({
    tenantId: FIXTURE_TENANT,
    name: "shop admin",
    permissions: ["apikeys:admin"],
  });
  const admin = service.admin(tenantAdmin.secret);
  const group = await admin.createGroup({
    tenantId: FIXTURE_TENANT,
    name: "Order readers",
    permissions: [GRANTED_PERMISSION],
  });
  const groupId = group.group?.groupId ?? "";

  const create = async (
    name: string,
    extra: {
      userId?: string;
      groupId?: string;
      ipAllowlist?: string[];
      expireTime?: Date;
      labels?: Record<string, string>;
    } = {},
  ): Promise<FixtureKey> => {
    const { expireTime, ...rest } = extra;
    const response = await admin.createKey({
      tenantId: FIXTURE_TENANT,
      name,
      ...rest,
      ...(expireTime === undefined ? {} : { expireTime: timestampFromDate(expireTime) }),
    });
    const key = response.key;
    if (key === undefined || response.secret === "" || response.secretKey === "") {
      throw new Error(`CreateKey answered without a key or secret for ${name}`);
    }
    return {
      whole: response.secret,
      keyId: key.keyId,
      secretKey: response.secretKey,
      tenantId: key.tenantId,
      name: key.name,
      userId: key.userId === "" ? null : key.userId,
      groupId: key.groupId === "" ? null : key.groupId,
    };
  };

  const valid = await create("valid key", { userId: "user_1", groupId, labels: { ...VALID_KEY_LABELS } });
  const revoked = await create("revoked key", { userId: "user_1", groupId });
  await admin.revokeKey({ keyId: revoked.keyId, reason: "leaked" });
  const expired = await create("expired key", {
    userId: "user_1",
    groupId,
    expireTime: new Date(Date.now() + 2 * 60_000),
  });
  // No injectable clock: age the stored expiry instead of waiting (see the file comment).
  await changeKey(createMongoKeyRepository(service.database.db), expired.keyId, () => ({
    expiresAt: new Date(Date.now() - 60_000),
  }));
  const ipRestricted = await create("ip restricted key", { groupId, ipAllowlist: [ALLOWED_IP] });
  const disabled = await create("disabled key", { userId: "user_1", groupId });
  await admin.disableKey({ keyId: disabled.keyId, reason: "investigating" });

  const keys = { valid, revoked, expired, ipRestricted, disabled };
  await warmUp(service.grpcAddress, keys, callerToken);
  return {
    address: service.grpcAddress,
    keys,
    unknownKey: unknownKeyOf(),
    makeUnavailable: () => service.stop(),
    makeAvailable: async () => {
      await service.start();
      await warmUp(service.grpcAddress, keys, callerToken);
    },
    service,
  };
}

/**
 * warmUp verifies every scenario key (with the caller token, when the service requires one) until the service
 * answers each with a verdict, so the tests meet a warm key cache. A cold lookup that outlasts the service's
 * lookup budget answers UNAVAILABLE, which is right for the service and tested elsewhere, but not what these
 * tests are about.
 */
async function warmUp(address: string, keys: VerifyFixture["keys"], callerToken?: string): Promise<void> {
  const client = createVerifyClient({
    address,
    deadlineMs: CLIENT_DEADLINE_MS,
    ...(callerToken === undefined ? {} : { callerToken }),
  });
  try {
    for (const key of Object.values(keys)) {
      // vi.waitFor, not expect.poll: this runs in a beforeAll hook too.
      await vi.waitFor(
        () => client.verify({ credential: { kind: "key", key: key.whole }, clientIp: ALLOWED_IP }),
        { timeout: DEFAULTS.limits.defaultDeadlineMs, interval: 50 },
      );
    }
  } finally {
    client.close();
  }
}
