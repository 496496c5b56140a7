/**
 * TenantRepository on MongoDB: one small document per tenant holding its key-limit override and the
 * exact number of key slots in use. Slot reservation is one conditional update on that document, which
 * the server applies atomically, so concurrent creates can never exceed the limit.
 */
import type { Db } from "mongodb";
import type { TenantRecord } from "../domain/api-key.js";
import { DomainError } from "../domain/errors.js";
import type { TenantRepository } from "../domain/ports.js";
import type { IndexDeclaration } from "./indexes.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";

/** TENANTS_COLLECTION is where tenant limit documents live. */
export const TENANTS_COLLECTION = "tenants";

/** TenantDocument is a tenant as stored; keyLimit is absent (or null) when the server default applies. */
export interface TenantDocument {
  _id: string;
  keyLimit?: number | null;
  usedKeys: number;
  /**
   * slotChanges counts every write of usedKeys (absent: none yet), so the counter repair can tell a counter
   * that stood still from one that moved away and back (src/storage/key-count-store.ts).
   */
  slotChanges?: number;
}

/** tenantIndexes is empty: every tenant query is by `_id`. */
export const tenantIndexes: readonly IndexDeclaration[] = [];

/**
 * MAX_RESERVE_ATTEMPTS bounds the retries of reserveKeySlot. A retry happens only when the document changed
 * between the read and the conditional update (first creation raced, limit edited, slots moved), so a
 * handful is plenty; past it the caller gets an aborted error and may retry.
 */
const MAX_RESERVE_ATTEMPTS = 16;

/** createMongoTenantRepository gives the TenantRepository backed by the `tenants` collection of `db`. */
export function createMongoTenantRepository(db: Db): TenantRepository {
  const tenants = deadlineBound(db.collection<TenantDocument>(TENANTS_COLLECTION));

  return {
    get: (tenantId) =>
      guard(async () => tenantFromDocument(tenantId, await tenants.findOne({ _id: tenantId }))),

    reserveKeySlot: (tenantId, defaultLimit) =>
      guard(async () => {
        for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt += 1) {
          const current = await tenants.findOne({ _id: tenantId });
          const keyLimit = current?.keyLimit ?? null;
          const limit = keyLimit ?? defaultLimit;
          if ((current?.usedKeys ?? 0) >= limit) {
            return false;
          }
          // The filter repeats the limit it was computed from (keyLimit), so a concurrent setKeyLimit makes
          // the update miss instead of counting against a stale limit; `usedKeys < limit` is the atomic
          // check-and-increment. For a tenant never seen, the upsert creates the document with usedKeys 1;
          // if a concurrent call created it first, the insert collides on _id and we read again.
          try {
            const result = await tenants.updateOne(
              { _id: tenantId, keyLimit, usedKeys: { $lt: limit } },
              { $inc: { usedKeys: 1, slotChanges: 1 } },
              { upsert: current === null },
            );
            if (result.modifiedCount === 1 || result.upsertedCount === 1) {
              return true;
            }
          } catch (error) {
            if (!isDuplicateKeyError(error)) {
              throw error;
            }
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
  return {
    id: tenantId,
    keyLimit: document?.keyLimit ?? null,
    usedKeys: document?.usedKeys ?? 0,
  };
}
