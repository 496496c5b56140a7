/**
 * VerifyFixture is everything the adapter tests need from "a VerifyKey service": an address, one key per
 * scenario, and a way to make the service unreachable. Today it is backed by the scripted grpc-js double
 * (verify-double.ts); for the end-to-end phase, provide the same shape from the real service (start it on
 * port 0, bootstrap, create the scenario keys through KeyAdminService) and the adapter tests run unchanged.
 */
import { type DoubleKey, startVerifyDouble, wholeKey } from "./verify-double.js";

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
  address: string;
  keys: {
    /** valid is active, unrestricted, with permission GRANTED_PERMISSION. */
    valid: FixtureKey;
    revoked: FixtureKey;
    expired: FixtureKey;
    /** ipRestricted only works from ALLOWED_IP. */
    ipRestricted: FixtureKey;
  };
  /** unknownKey has the right shape but was never issued. */
  unknownKey: string;
  /** makeUnavailable stops the service; makeAvailable brings it back on the same address. */
  makeUnavailable(): Promise<void>;
  makeAvailable(): Promise<void>;
  close(): Promise<void>;
}

/** GRANTED_PERMISSION is held by the valid key; MISSING_PERMISSION by no key. */
export const GRANTED_PERMISSION = "orders:read";
export const MISSING_PERMISSION = "orders:write";
/** ALLOWED_IP is the only address the ipRestricted key accepts (a documentation address, never a peer). */
export const ALLOWED_IP = "203.0.113.9";

function doubleKey(id: string, overrides: Partial<DoubleKey> = {}): DoubleKey {
  return {
    keyId: `ak_test_${id.padEnd(16, "0")}`,
    secretKey: `S3cr3t${id}AbCdEfGhIjKlMnOpQrStUvWx`,
    tenantId: "acme",
    name: `${id} key`,
    userId: "user_1",
    groupId: "grp_ops",
    permissions: [GRANTED_PERMISSION],
    state: "active",
    ipAllowlist: [],
    ...overrides,
  };
}

function fixtureKey(key: DoubleKey): FixtureKey {
  return {
    whole: wholeKey(key),
    keyId: key.keyId,
    secretKey: key.secretKey,
    tenantId: key.tenantId,
    name: key.name,
    userId: key.userId === "" ? null : key.userId,
    groupId: key.groupId === "" ? null : key.groupId,
  };
}

/** startVerifyFixture starts the scripted double with the scenario keys. */
export async function startVerifyFixture(): Promise<VerifyFixture> {
  const keys = {
    valid: doubleKey("valid"),
    revoked: doubleKey("revoked", { state: "revoked" }),
    expired: doubleKey("expired", { state: "expired", expireTime: new Date("2024-01-01T00:00:00Z") }),
    ipRestricted: doubleKey("iprestricted", { ipAllowlist: [ALLOWED_IP], userId: "", groupId: "" }),
  };
  const double = await startVerifyDouble(Object.values(keys));
  return {
    address: double.address,
    keys: {
      valid: fixtureKey(keys.valid),
      revoked: fixtureKey(keys.revoked),
      expired: fixtureKey(keys.expired),
      ipRestricted: fixtureKey(keys.ipRestricted),
    },
    unknownKey: wholeKey(doubleKey("neverissued")),
    makeUnavailable: () => double.stop(),
    makeAvailable: () => double.start(),
    close: () => double.stop(),
  };
}
