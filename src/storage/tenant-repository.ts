/**
 * TenantRepository on MongoDB: one document per tenant with its key-limit override and the exact count of key
 * slots in use; a reservation is one conditional update, so concurrent creates never exceed the limit. A
 * tenant exists once its document has createdAt (older documents, made by a first reservation, get it from
 * registerHolders).
 */
import type { Db, Filter } from "mongodb";
import type { TenantRecord } from "../domain/api-key.js";
import { DomainError } from "../domain/errors.js";
import type { TenantRepository } from "../domain/ports.js";
import { GROUPS_COLLECTION } from "./group-repository.js";
import type { IndexDeclaration } from "./indexes.js";
import { KEYS_COLLECTION } from "./key-document.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";
import { assertNextVersion, cursorString, decodeCursor, keysetPage } from "./page-cursor.js";

export const TENANTS_COLLECTION = "tenants";

/** TenantDocument is a tenant as stored; keyLimit is absent (or null) when the server default applies. */
export interface TenantDocument {
  _id: string;
  keyLimit?: number | null;
  usedKeys: number;
  /** displayName, createdAt, updatedAt, version: absent until the tenant exists (see the module comment). */
  displayName?: string;
  createdAt?: Date;
  updatedAt?: Date;
  version?: number;
  /**
   * slotChanges counts every write of usedKeys (absent: none yet), so the counter repair can tell a counter
   * that stood still from one that moved away and back (src/storage/key-count-store.ts).
   */
  slotChanges?: number;
}

// Every tenant query is by `_id`.
export const tenantIndexes: readonly IndexDeclaration[] = [];

// A reservation retries only when the document changed between its read and its update: a handful is plenty.
const MAX_RESERVE_ATTEMPTS = 16;

export function createMongoTenantRepository(db: Db): TenantRepository {
  const tenants = deadlineBound(db.collection<TenantDocument>(TENANTS_COLLECTION));

  const exists: Filter<TenantDocument> = { createdAt: { $exists: true } };

  return {
    get: (tenantId) =>
      guard(async () => tenantFromDocument(tenantId, await tenants.findOne({ _id: tenantId }))),

    create: (tenant) =>
      guard(async () => {
        const fields = {
          displayName: tenant.displayName,
          keyLimit: tenant.keyLimit,
          createdAt: tenant.createdAt,
          updatedAt: tenant.createdAt,
          version: 1,
        };
        // A document without createdAt (counted keys from before tenants existed on purpose) is taken over.
        const result = await tenants
          .updateOne(
            { _id: tenant.id, createdAt: { $exists: false } },
            { $set: fields, $setOnInsert: { usedKeys: 0 } },
            { upsert: true },
          )
          .catch((error: unknown) => {
            if (isDuplicateKeyError(error)) {
              return null;
            }
            throw error;
          });
        if (result === null || (result.modifiedCount === 0 && result.upsertedCount === 0)) {
          throw new DomainError("already_exists", `tenant ${JSON.stringify(tenant.id)} already exists`);
        }
        return tenantFromDocument(tenant.id, await tenants.findOne({ _id: tenant.id }));
      }),

    list: (limit, after) =>
      guard(() => {
        const filter: Filter<TenantDocument> =
          after === null ? exists : { ...exists, _id: { $gt: cursorString(decodeCursor(after), "i") } };
        return keysetPage(
          limit,
          (n) => tenants.find(filter).sort({ _id: 1 }).limit(n).toArray(),
          (document) => tenantFromDocument(document._id, document),
          (last) => ({ i: last.id }),
        );
      }),

    replace: (next, expectedVersion) =>
      guard(async () => {
        assertNextVersion(next.version, expectedVersion);
        if (next.updatedAt === null) {
          throw new RangeError("replace must write an update time");
        }
        const set = { displayName: next.displayName, updatedAt: next.updatedAt, version: next.version };
        const result = await tenants.updateOne(
          { _id: next.id, ...exists, version: expectedVersion },
          next.keyLimit === null
            ? { $set: set, $unset: { keyLimit: "" as const } }
            : { $set: { ...set, keyLimit: next.keyLimit } },
        );
        return result.matchedCount === 1;
      }),

    registerHolders: (now) =>
      guard(async () => {
        const registered = new Set<string>();
        const fields = { displayName: "", createdAt: now, updatedAt: now, version: 1 };
        // Documents the first reservations created (they hold the exact count already).
        const legacy = await tenants
          .find({ createdAt: { $exists: false } }, { projection: { _id: 1 } })
          .toArray();
        for (const { _id } of legacy) {
          const result = await tenants.updateOne({ _id, createdAt: { $exists: false } }, { $set: fields });
          if (result.modifiedCount === 1) {
            registered.add(_id);
          }
        }
        // Tenants that hold keys or groups but have no document at all.
        const holders = new Set<string>([
          ...((await db.collection(KEYS_COLLECTION).distinct("tenantId")) as string[]),
          ...((await db.collection(GROUPS_COLLECTION).distinct("tenantId")) as string[]),
        ]);
        for (const tenantId of holders) {
          if (typeof tenantId !== "string" || (await tenants.findOne({ _id: tenantId })) !== null) {
            continue;
          }
          const usedKeys = await db
            .collection(KEYS_COLLECTION)
            .countDocuments({ tenantId, revokedAt: null, deletedAt: null });
          try {
            await tenants.insertOne({ _id: tenantId, usedKeys, ...fields });
            registered.add(tenantId);
          } catch (error) {
            // Another replica registered it at the same time.
            if (!isDuplicateKeyError(error)) {
              throw error;
            }
          }
        }
        return [...registered].sort();
      }),

    reserveKeySlot: (tenantId, defaultLimit) =>
      guard(async () => {
        for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt += 1) {
          const current = await tenants.findOne({ _id: tenantId });
          if (current === null) {
            throw new DomainError("not_found", `tenant ${JSON.stringify(tenantId)} not found`);
          }
          const keyLimit = current.keyLimit ?? null;
          const limit = keyLimit ?? defaultLimit;
          if (current.usedKeys >= limit) {
            return false;
          }
          // The filter repeats the limit it was computed from (keyLimit), so a concurrent limit change makes
          // the update miss instead of counting against a stale limit; `usedKeys < limit` is the atomic
          // check-and-increment.
          const result = await tenants.updateOne(
            { _id: tenantId, keyLimit, usedKeys: { $lt: limit } },
            { $inc: { usedKeys: 1, slotChanges: 1 } },
          );
          if (result.modifiedCount === 1) {
            return true;
          }
        }
        throw new DomainError("aborted", "the tenant's key count changed concurrently, try again");
      }),

    releaseKeySlot: (tenantId) =>
      guard(async () => {
        await tenants.updateOne(
          { _id: tenantId, usedKeys: { $gt: 0 } },
          { $inc: { usedKeys: -1, slotChanges: 1 } },
        );
      }),

    setKeyLimit: (tenantId, keyLimit) =>
      guard(async () => {
        const update =
          keyLimit === null
            ? { $unset: { keyLimit: "" as const }, $setOnInsert: { usedKeys: 0 } }
            : { $set: { keyLimit }, $setOnInsert: { usedKeys: 0 } };
        // Two first-ever writes for one tenant can both try to insert; the loser simply applies again.
        for (let attempt = 0; ; attempt += 1) {
          try {
            const document = await tenants.findOneAndUpdate({ _id: tenantId }, update, {
              upsert: true,
              returnDocument: "after",
            });
            return tenantFromDocument(tenantId, document);
          } catch (error) {
            if (!isDuplicateKeyError(error) || attempt >= 1) {
              throw error;
            }
          }
        }
      }),
  };
}

function tenantFromDocument(tenantId: string, document: TenantDocument | null): TenantRecord {
  const createdAt = document?.createdAt ?? null;
  return {
    id: tenantId,
    keyLimit: document?.keyLimit ?? null,
    usedKeys: document?.usedKeys ?? 0,
    displayName: document?.displayName ?? "",
    createdAt,
    updatedAt: createdAt === null ? null : (document?.updatedAt ?? createdAt),
    version: createdAt === null ? 0 : (document?.version ?? 1),
  };
}
