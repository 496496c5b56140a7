/**
 * Record builders for the storage tests: valid domain records with overridable fields.
 */
import { randomBytes } from "node:crypto";
import type { ApiKeyRecord, GroupRecord } from "../../../src/domain/api-key.js";

/** T0 is a fixed instant the tests count from. */
export const T0 = new Date("2030-01-01T00:00:00.000Z");

/** at gives T0 plus `ms`. */
export function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}

/** uniqueId makes an id no other test uses. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString("hex")}`;
}

/** keyRecord builds an active key of `tenantId` with the given overrides. */
export function keyRecord(overrides: Partial<ApiKeyRecord> & { tenantId: string }): ApiKeyRecord {
  const id = overrides.id ?? uniqueId("ak_test");
  return {
    id,
    name: `key ${id}`,
    description: "",
    userId: "",
    groupId: "",
    permissions: [],
    ipAllowlist: [],
    secrets: [
      {
        generation: 1,
        hash: randomBytes(32).toString("base64url"),
        pepperVersion: 1,
        hint: `${id}_Ab3x…`,
        createdAt: T0,
        expiresAt: null,
      },
    ],
    createdAt: T0,
    createdBy: "tester",
    updatedAt: T0,
    expiresAt: null,
    revokedAt: null,
    revokedBy: "",
    revokeReason: "",
    deletedAt: null,
    lastUsedAt: null,
    labels: {},
    disabledAt: null,
    disabledBy: "",
    disableReason: "",
    version: 1,
    ...overrides,
  };
}

/** groupRecord builds a group of `tenantId` with the given overrides. */
export function groupRecord(overrides: Partial<GroupRecord> & { tenantId: string }): GroupRecord {
  return {
    id: uniqueId("grp"),
    name: uniqueId("group"),
    description: "",
    permissions: ["read"],
    labels: {},
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...overrides,
  };
}
