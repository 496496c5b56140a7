/** KeyCountStore on MongoDB: tenants' key counters and the count of keys holding a slot, for the counter repair. */
import type { Db, Filter } from "mongodb";
import type { KeyCountStore } from "../domain/key-count-repair.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { KEYS_COLLECTION, type KeyDocument } from "./key-document.js";
import { guard } from "./mongo-errors.js";
import { TENANTS_COLLECTION, type TenantDocument } from "./tenant-repository.js";

/** keyCountIndexes: the recount is one count over an index that holds every field it filters on. */
export const keyCountIndexes: readonly IndexDeclaration[] = indexesOf(KEYS_COLLECTION, [
  {
    key: { tenantId: 1, revokedAt: 1, deletedAt: 1 },
    options: { name: "keys_tenant_slot_holders" },
    why: "count the keys of a tenant that hold a slot of its key limit (the counter repair)",
  },
]);

export function createMongoKeyCountStore(db: Db): KeyCountStore {
  const tenants = db.collection<TenantDocument>(TENANTS_COLLECTION);
  const keys = db.collection<KeyDocument>(KEYS_COLLECTION);

  return {
    counters: (after, limit) =>
      guard(async () => {
        const documents = await tenants
          .find(after === null ? {} : { _id: { $gt: after } }, {
            projection: { usedKeys: 1, slotChanges: 1 },
          })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray();
        return documents.map((document) => ({
          tenantId: document._id,
          usedKeys: document.usedKeys ?? 0,
          changes: document.slotChanges ?? 0,
        }));
      }),

    // The filter is holdsKeySlot (src/domain/key-count-repair.ts) in query form: neither revoked nor deleted.
    countSlotHolders: (tenantId) =>
      guard(() => keys.countDocuments({ tenantId, revokedAt: null, deletedAt: null })),

    correct: (counter, usedKeys) =>
      guard(async () => {
        // A document written before slotChanges existed has none: a change count of 0 matches its absence.
        const unchanged: Filter<TenantDocument> =
          counter.changes === 0
            ? { $or: [{ slotChanges: 0 }, { slotChanges: { $exists: false } }] }
            : { slotChanges: counter.changes };
        const result = await tenants.updateOne(
          { _id: counter.tenantId, usedKeys: counter.usedKeys, ...unchanged },
          { $set: { usedKeys }, $inc: { slotChanges: 1 } },
        );
        return result.modifiedCount === 1;
      }),
  };
}
