import { create } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../src/domain/admin-views.js";
import { ExpirationState, KeyStatus } from "../../src/gen/apikeys/v1/key_pb.js";
import { peerIpOf } from "../../src/rpc/admin-caller.js";
import {
  dateOf,
  expirationStateFilterOf,
  keyMessageOf,
  keyStatusFilterOf,
  millisecondsOf,
} from "../../src/rpc/key-mappers.js";

describe("peerIpOf", () => {
  it.each<[string, string | null]>([
    ["127.0.0.1:50123", "127.0.0.1"],
    ["[::1]:50123", "::1"],
    ["[::ffff:127.0.0.1]:4000", "::ffff:127.0.0.1"],
    ["::ffff:127.0.0.1:4000", "::ffff:127.0.0.1"],
    ["::1:4000", "::1"],
    ["10.0.0.1", "10.0.0.1"],
    ["unknown", null],
    ["", null],
  ])("%s → %s", (peer, ip) => {
    expect(peerIpOf(peer)).toBe(ip);
  });
});

describe("request timestamps and durations", () => {
  const timestamp = (seconds: bigint, nanos: number) => create(TimestampSchema, { seconds, nanos });
  it("maps an unset timestamp to null and a valid one to its instant", () => {
    expect(dateOf(undefined, "expire_time")).toBeNull();
    expect(dateOf(timestamp(1_900_000_000n, 5_000_000), "expire_time")).toEqual(new Date(1_900_000_000_005));
  });

  it.each<[string, bigint, number]>([
    ["seconds 1e15", 1_000_000_000_000_000n, 0],
    ["year 10000", 253_402_300_800n, 0],
    ["before year 1", -62_135_596_801n, 0],
    ["negative nanos", 1_900_000_000n, -1],
    ["nanos of a whole second", 1_900_000_000n, 1_000_000_000],
  ])("refuses %s naming the field", (_name, seconds, nanos) => {
    const call = () => dateOf(timestamp(seconds, nanos), "key.expire_time");
    expect(call).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
    expect(call).toThrow(/^key\.expire_time:/);
  });

  it.each<[string, bigint, number, number | null]>([
    ["unset", 0n, 0, 0],
    ["one hour", 3600n, 0, 3_600_000],
    ["fractions", 1n, 500_000_000, 1500],
    ["mixed signs", 1n, -1, null],
    ["beyond 10,000 years", 315_576_000_001n, 0, null],
  ])("duration %s", (_name, seconds, nanos, ms) => {
    const call = () => millisecondsOf(create(DurationSchema, { seconds, nanos }), "overlap");
    if (ms === null) {
      expect(call).toThrow(/^overlap:/);
    } else {
      expect(call()).toBe(ms);
    }
  });
});

describe("list filters", () => {
  it.each<[KeyStatus, string | null]>([
    [KeyStatus.UNSPECIFIED, null],
    [KeyStatus.ACTIVE, "active"],
    [KeyStatus.EXPIRED, "expired"],
    [KeyStatus.REVOKED, "revoked"],
  ])("status %s", (status, expected) => {
    expect(keyStatusFilterOf(status)).toBe(expected);
  });

  it.each<[ExpirationState, string | null]>([
    [ExpirationState.UNSPECIFIED, null],
    [ExpirationState.VALID, "valid"],
    [ExpirationState.EXPIRING_SOON, "expiring_soon"],
    [ExpirationState.EXPIRED, "expired"],
  ])("expiration state %s", (state, expected) => {
    expect(expirationStateFilterOf(state)).toBe(expected);
  });

  it("refuses enum numbers the proto does not define (open enums let them through)", () => {
    expect(() => keyStatusFilterOf(7 as KeyStatus)).toThrow(/^status:/);
    expect(() => expirationStateFilterOf(-1 as ExpirationState)).toThrow(/^expiration_state:/);
  });
});

describe("keyMessageOf", () => {
  it("maps every field, leaving absent instants unset", () => {
    const at = new Date("2031-01-01T00:00:00.000Z");
    const view: KeyView = {
      id: "ak_test_0123456789abcdef",
      tenantId: "acme",
      name: "n",
      description: "d",
      userId: "u",
      groupId: "grp_0123456789abcdef",
      permissions: ["a:b"],
      ipAllowlist: ["10.0.0.0/8"],
      status: "revoked",
      expirationState: "expiring_soon",
      displayHint: "ak_test_0123456789abcdef_Ab3x…",
      createdAt: at,
      createdBy: "bootstrap",
      updatedAt: at,
      lastUsedAt: null,
      expiresAt: at,
      revokedAt: at,
      revokedBy: "ak_test_admin",
      revokeReason: "leak",
      secrets: [{ generation: 2, hint: "h", createdAt: at, expiresAt: null }],
      deletedAt: null,
      labels: { tier: "gold" },
      disabledAt: null,
      disabledBy: "",
      disableReason: "",
      etag: "etag-1",
    };
    const message = keyMessageOf(view);
    expect(message).toMatchObject({
      keyId: view.id,
      status: KeyStatus.REVOKED,
      expirationState: ExpirationState.EXPIRING_SOON,
      revokedBy: "ak_test_admin",
      secrets: [{ generation: 2, displayHint: "h" }],
    });
    expect(message.lastUsedTime).toBeUndefined();
    expect(message.deleteTime).toBeUndefined();
    expect(message.secrets[0]?.expireTime).toBeUndefined();
    expect(message.expireTime?.seconds).toBe(BigInt(at.getTime() / 1000));
  });
});
