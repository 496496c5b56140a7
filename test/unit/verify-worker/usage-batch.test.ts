/**
 * Usage batches: what the encoder packs the decoder reads back unchanged, across batches that share the
 * tables and across a table reset, for identified and unidentified keys alike; a batch that refers to a
 * table entry the decoder never received is an error, never a wrong event.
 */
import { describe, expect, it } from "vitest";
import type { VerificationCode } from "../../../src/domain/audit-event.js";
import type { VerifiedKeyDetails } from "../../../src/domain/verifiable-key.js";
import {
  createUsageBatchDecoder,
  createUsageBatchEncoder,
  type UsageBatch,
} from "../../../src/verify-worker/usage-batch.js";

interface Row {
  readonly at: number;
  readonly tenantId: string;
  readonly keyId: string;
  readonly endpoint: string;
  readonly clientIp: string;
  readonly code: VerificationCode;
  readonly httpStatus: number;
}

function details(keyId: string, tenantId: string): VerifiedKeyDetails {
  return Object.freeze({ keyId, tenantId, name: "", userId: "", groupId: "", expiresAt: null });
}

const acme = details("ak_acme1", "acme");
const globex = details("ak_globex1", "globex");

const events: ReadonlyArray<[number, VerifiedKeyDetails | null, string, string, VerificationCode, number]> = [
  [1_700_000_000_001, acme, "GET /a", "10.0.0.1", "valid", 200],
  [1_700_000_000_002, globex, "POST /b", "2001:db8::1", "ip_not_allowed", 403],
  [1_700_000_000_003, null, "", "", "not_found", 401],
  [1_700_000_000_004, acme, "GET /a", "10.0.0.1", "revoked", 401],
  [1_700_000_000_005, acme, "DELETE /c", "10.0.0.2", "insufficient_permissions", 403],
  [1_700_000_000_006, globex, "GET /a", "10.0.0.1", "expired", 401],
];

function expected(index: number): Row {
  const [at, key, endpoint, clientIp, code, httpStatus] = events[
    index % events.length
  ] as (typeof events)[number];
  return {
    at,
    tenantId: key?.tenantId ?? "",
    keyId: key?.keyId ?? "",
    endpoint,
    clientIp,
    code,
    httpStatus,
  };
}

function decodeAll(batches: readonly UsageBatch[]): Row[] {
  const decoder = createUsageBatchDecoder();
  const rows: Row[] = [];
  for (const batch of batches) {
    decoder.decode(batch, (at, tenantId, keyId, endpoint, clientIp, code, httpStatus) => {
      rows.push({ at: at.getTime(), tenantId, keyId, endpoint, clientIp, code, httpStatus });
    });
  }
  return rows;
}

describe("usage batches", () => {
  it.each([
    ["one batch", 100, 1_000, 6, false],
    ["several batches sharing the tables", 4, 1_000, 23, false],
    ["tables reset between batches", 3, 2, 40, true],
  ])("round-trip every field: %s", (_name, capacity, maxEntries, count, resets) => {
    const encoder = createUsageBatchEncoder(capacity, maxEntries);
    const batches: UsageBatch[] = [];
    for (let i = 0; i < count; i++) {
      const [at, key, endpoint, clientIp, code, httpStatus] = events[
        i % events.length
      ] as (typeof events)[number];
      if (encoder.add(new Date(at), key, endpoint, clientIp, code, httpStatus) === capacity) {
        batches.push((encoder.take() as { batch: UsageBatch }).batch);
      }
    }
    const rest = encoder.take();
    if (rest !== null) {
      batches.push(rest.batch);
    }
    expect(encoder.take()).toBeNull();
    expect(batches.reduce((sum, batch) => sum + batch.count, 0)).toBe(count);
    expect(batches.some((batch) => batch.reset)).toBe(resets);
    expect(decodeAll(batches)).toEqual(Array.from({ length: count }, (_, i) => expected(i)));
  });

  it("sends a repeated key or string once, not with every event", () => {
    const encoder = createUsageBatchEncoder(100, 1_000);
    for (let i = 0; i < 50; i++) {
      encoder.add(new Date(0), acme, "GET /a", "10.0.0.1", "valid", 200);
    }
    const batch = (encoder.take() as { batch: UsageBatch }).batch;
    expect(batch.keys).toEqual(["acme", "ak_acme1"]);
    expect(batch.strings).toEqual(["GET /a", "10.0.0.1"]);
  });

  it("refuses a batch that refers to a table entry it never received", () => {
    const encoder = createUsageBatchEncoder(10, 1_000);
    encoder.add(new Date(0), acme, "GET /a", "10.0.0.1", "valid", 200);
    encoder.take();
    encoder.add(new Date(0), acme, "GET /a", "10.0.0.1", "valid", 200);
    const second = (encoder.take() as { batch: UsageBatch }).batch;
    // The decoder missed the first batch, which carried the entries the second refers to.
    expect(() => decodeAll([second])).toThrow(/beyond its table/);
  });
});
