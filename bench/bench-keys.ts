/**
 * Keys for the benchmark, made by the domain's own key issuing (key format, keyed hash under the server's
 * pepper) for the configuration the benchmarked service runs with, then bulk-inserted: creating 10,000 keys
 * through the API one by one would take longer than the benchmark itself on the in-memory database.
 */
import { randomBytes } from "node:crypto";
import type { ApiKeyRecord, GroupRecord } from "../src/domain/api-key.js";
import { newGroupId } from "../src/domain/ids.js";
import { issueKey, type KeySpec } from "../src/domain/key-admin-issue.js";
import type { KeyRepository, RandomSource, TenantRepository } from "../src/domain/ports.js";
import type { Config } from "../src/server/config.js";
import { keyFormatOf, keyHasherOf } from "../src/server/verification-config.js";

/** BENCH_ENV configures the benchmarked service's keys (a pepper made for this run only). */
export const BENCH_ENV: Readonly<Record<string, string>> = Object.freeze({
  KEY_PREFIX: "ak_bench_",
  KEY_HASH_PEPPER: randomBytes(32).toString("base64"),
  KEY_HASH_PEPPER_VERSION: "1",
});

/** BenchKey is a key's secret forms (bench memory only) and its stored record. */
export interface BenchKey {
  readonly key: string;
  readonly keyId: string;
  readonly secretKey: string;
  readonly record: ApiKeyRecord;
}

export const random: RandomSource = { bytes: (length) => new Uint8Array(randomBytes(length)) };

/** createBenchKeys returns a maker of key records as the service configured by `config` stores them. */
export function createBenchKeys(config: Config) {
  const keyFormat = keyFormatOf(config);
  const hasher = keyHasherOf(config);
  // Issuing against stand-ins: the records are collected here and bulk-inserted by the caller.
  const keys = { insert: async () => undefined } as unknown as KeyRepository;
  const tenants = { reserveKeySlot: async () => true } as unknown as TenantRepository;
  const deps = { keys, tenants, random, keyFormat, hasher, defaultKeyLimit: Number.MAX_SAFE_INTEGER };
  return {
    format: keyFormat,
    async key(spec: Omit<KeySpec, "description" | "createdBy">, now: Date): Promise<BenchKey> {
      const issued = await issueKey(deps, { ...spec, description: "", createdBy: "bench" }, now);
      const { key, keyId, secretKey } = issued.generated;
      return { key, keyId, secretKey, record: issued.record };
    },
    group(name: string, permissions: readonly string[], now: Date): GroupRecord {
      return {
        id: newGroupId(random),
        tenantId: "tenant-0",
        name,
        description: "",
        permissions: [...permissions].sort(),
        labels: {},
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
    },
  };
}
