/**
 * The benchmark's key pool and requests. Seeding is a bench-only step that writes keys straight into the
 * database (the same records the admin API would create: key format, keyed hash with the server's pepper,
 * normalised allowlists), because creating 10,000 keys through the API one by one would take longer than the
 * benchmark itself on the in-memory database. Requests are realistic VerifyKey calls drawn from the pool:
 * every credential form, client IPs, endpoints, required permissions, and a share of refusals.
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { Db } from "mongodb";
import type { GroupRecord } from "../src/domain/api-key.js";
import type { VerificationCode } from "../src/domain/audit-event.js";
import type { KeyFormat } from "../src/domain/key-format.js";
import {
  type VerifyKeyRequest,
  VerifyKeyRequestSchema,
} from "../src/gen/apikeys/v1/key_verify_service_pb.js";
import type { Config } from "../src/server/config.js";
import { createMongoGroupRepository } from "../src/storage/group-repository.js";
import { KEYS_COLLECTION, type KeyDocument, keyToDocument } from "../src/storage/key-document.js";
import { type BenchKey, createBenchKeys, random as cryptoRandom } from "./bench-keys.js";

/** PoolKeyKind says how a pool key is configured. */
export type PoolKeyKind = "plain" | "allowlisted" | "grouped" | "revoked" | "expired";

/** PoolKey is one seeded key with its secret forms (bench memory only). */
export interface PoolKey {
  readonly kind: PoolKeyKind;
  readonly issued: BenchKey;
}

/** KeyPool is the seeded pool, indexed by kind. */
export interface KeyPool {
  readonly all: readonly PoolKey[];
  readonly byKind: Readonly<Record<PoolKeyKind, readonly PoolKey[]>>;
  readonly groups: readonly GroupRecord[];
  /** format is the service's key format (well-formed unknown keys are drawn from it). */
  readonly format: KeyFormat;
}

const GROUP_COUNT = 50;
const SEED_BATCH = 1_000;
const OWN_PERMISSIONS = ["orders:read", "orders:write"];
const GROUP_PERMISSIONS = ["reports:read", "reports:export"];

/** kindAt spreads the kinds over the pool: 58% plain, 20% allowlisted, 20% grouped, 1% revoked, 1% expired. */
function kindAt(index: number): PoolKeyKind {
  const slot = index % 100;
  if (slot < 58) {
    return "plain";
  }
  if (slot < 78) {
    return "allowlisted";
  }
  if (slot < 98) {
    return "grouped";
  }
  return slot === 98 ? "revoked" : "expired";
}

/** seedKeyPool writes `size` keys and the groups they use into `db`. */
export async function seedKeyPool(db: Db, size: number, config: Config): Promise<KeyPool> {
  const make = createBenchKeys(config);
  const groupRepository = createMongoGroupRepository(db);
  const groups: GroupRecord[] = [];
  for (let i = 0; i < GROUP_COUNT; i++) {
    const group = make.group(`bench group ${i}`, GROUP_PERMISSIONS, new Date());
    await groupRepository.insert(group);
    groups.push(group);
  }
  const now = Date.now();
  const all: PoolKey[] = [];
  const collection = db.collection<KeyDocument>(KEYS_COLLECTION);
  for (let start = 0; start < size; start += SEED_BATCH) {
    const batch: PoolKey[] = [];
    for (let i = start; i < Math.min(size, start + SEED_BATCH); i++) {
      const kind = kindAt(i);
      const issued = await make.key(
        {
          tenantId: `tenant-${i % 20}`,
          name: `bench key ${String(i).padStart(5, "0")}`,
          userId: `user-${i % 500}`,
          permissions: OWN_PERMISSIONS,
          ipAllowlist: kind === "allowlisted" ? ["10.0.0.0/8", "2001:db8::/32"] : [],
          groupId: kind === "grouped" ? (groups[i % GROUP_COUNT] as GroupRecord).id : "",
          expiresAt: kind === "expired" ? new Date(now - 60_000) : new Date(now + 365 * 86_400_000),
        },
        new Date(now),
      );
      const record =
        kind === "revoked"
          ? { ...issued.record, revokedAt: new Date(now - 60_000), revokedBy: "bench", revokeReason: "bench" }
          : issued.record;
      batch.push({ kind, issued: { ...issued, record } });
    }
    await collection.insertMany(batch.map((key) => keyToDocument(key.issued.record)));
    all.push(...batch);
  }
  const byKind: Record<PoolKeyKind, PoolKey[]> = {
    plain: [],
    allowlisted: [],
    grouped: [],
    revoked: [],
    expired: [],
  };
  for (const key of all) {
    byKind[key.kind].push(key);
  }
  return { all, byKind, groups, format: make.format };
}

/** RequestKind names a kind of VerifyKey call the load is made of. */
export type RequestKind =
  | "bearer"
  | "raw"
  | "access-key"
  | "allowlisted"
  | "group-permission"
  | "ipv6-allowlisted"
  | "insufficient"
  | "not-found"
  | "ip-not-allowed"
  | "revoked"
  | "expired";

/** BenchRequest is one request body and the verdict it must get. */
export interface BenchRequest {
  readonly kind: RequestKind;
  readonly expected: VerificationCode;
  readonly keyId: string;
  readonly message: VerifyKeyRequest;
}

/** Random is a source of uniform numbers in [0, 1) (seeded, so a run is reproducible). */
export type Random = () => number;

/** seededRandom returns a small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)] as T;
}

const ENDPOINTS = [
  "GET /api/orders",
  "POST /api/orders",
  "GET /api/products",
  "DELETE /api/carts",
  "GET /api/reports",
];

function endpoint(random: Random): string {
  return `${pick(ENDPOINTS, random)}/${Math.floor(random() * 100_000)}`;
}

function publicIp(random: Random): string {
  return `203.0.113.${1 + Math.floor(random() * 254)}`;
}

function privateIp(random: Random): string {
  return `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
}

/** drawRequest builds one request of `kind` from a random pool key. */
export function drawRequest(pool: KeyPool, kind: RequestKind, random: Random): BenchRequest {
  const plain = () => pick(pool.byKind.plain, random).issued;
  const build = (
    issued: BenchKey | null,
    expected: VerificationCode,
    fields: MessageInitShape<typeof VerifyKeyRequestSchema>,
  ): BenchRequest => ({
    kind,
    expected,
    keyId: issued?.keyId ?? "",
    message: create(VerifyKeyRequestSchema, { endpoint: endpoint(random), ...fields }),
  });
  switch (kind) {
    case "bearer": {
      const key = plain();
      return build(key, "valid", {
        credential: { case: "authorization", value: `Bearer ${key.key}` },
        clientIp: publicIp(random),
        requiredPermissions: ["orders:read"],
      });
    }
    case "raw": {
      const key = plain();
      return build(key, "valid", { credential: { case: "key", value: key.key }, clientIp: publicIp(random) });
    }
    case "access-key": {
      const key = plain();
      return build(key, "valid", {
        credential: { case: "accessKey", value: { accessKeyId: key.keyId, secretKey: key.secretKey } },
        clientIp: publicIp(random),
        requiredPermissions: ["orders:write"],
      });
    }
    case "allowlisted": {
      const key = pick(pool.byKind.allowlisted, random).issued;
      return build(key, "valid", {
        credential: { case: "key", value: key.key },
        clientIp: privateIp(random),
        requiredPermissions: ["orders:read"],
      });
    }
    case "ipv6-allowlisted": {
      const key = pick(pool.byKind.allowlisted, random).issued;
      return build(key, "valid", {
        credential: { case: "authorization", value: `ApiKey ${key.key}` },
        clientIp: `2001:db8:${Math.floor(random() * 65_535).toString(16)}::${Math.floor(random() * 65_535).toString(16)}`,
      });
    }
    case "group-permission": {
      const key = pick(pool.byKind.grouped, random).issued;
      return build(key, "valid", {
        credential: { case: "authorization", value: `Bearer ${key.key}` },
        clientIp: publicIp(random),
        requiredPermissions: ["orders:read", "reports:read"],
      });
    }
    case "insufficient": {
      const key = plain();
      return build(key, "insufficient_permissions", {
        credential: { case: "key", value: key.key },
        clientIp: publicIp(random),
        requiredPermissions: ["reports:export"],
      });
    }
    case "not-found":
      return build(null, "not_found", {
        credential: { case: "key", value: pool.format.generate(cryptoRandom).key },
        clientIp: publicIp(random),
      });
    case "ip-not-allowed": {
      const key = pick(pool.byKind.allowlisted, random).issued;
      return build(key, "ip_not_allowed", {
        credential: { case: "key", value: key.key },
        clientIp: publicIp(random),
      });
    }
    case "revoked": {
      const key = pick(pool.byKind.revoked, random).issued;
      return build(key, "revoked", {
        credential: { case: "key", value: key.key },
        clientIp: publicIp(random),
      });
    }
    case "expired": {
      const key = pick(pool.byKind.expired, random).issued;
      return build(key, "expired", {
        credential: { case: "authorization", value: `Bearer ${key.key}` },
        clientIp: publicIp(random),
      });
    }
  }
}

/** VALID_KINDS are the request kinds that verify (most of the load). */
export const VALID_KINDS: readonly RequestKind[] = [
  "bearer",
  "raw",
  "access-key",
  "allowlisted",
  "group-permission",
  "ipv6-allowlisted",
];

/** REFUSED_KINDS are the refusals mixed into the load (one process of each round). */
export const REFUSED_KINDS: readonly RequestKind[] = [
  "not-found",
  "ip-not-allowed",
  "insufficient",
  "revoked",
  "expired",
];

/** grpcFrame wraps a serialized request in the gRPC length-prefixed message frame (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** requestFrame is a BenchRequest's body as h2load posts it. */
export function requestFrame(request: BenchRequest): Buffer {
  return grpcFrame(toBinary(VerifyKeyRequestSchema, request.message));
}
