/** KeyRepository on MongoDB: every write is one guarded single-document operation (no transactions). */
import type { Db, Filter } from "mongodb";
import type { KeyListQuery, KeyRepository } from "../domain/ports.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import {
  KEYS_COLLECTION,
  type KeyDocument,
  keyFromDocument,
  keyToDocument,
  lowerName,
} from "./key-document.js";
import { guard, insertNew } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";
import { assertNextVersion, cursorString, cursorTime, decodeCursor, keysetPage } from "./page-cursor.js";

export const keyIndexes: readonly IndexDeclaration[] = indexesOf(KEYS_COLLECTION, [
  {
    key: { tenantId: 1, createdAt: -1, _id: -1 },
    options: { name: "keys_tenant_created" },
    why: "list a tenant's keys newest first with a (createdAt, _id) keyset cursor",
  },
  {
    key: { tenantId: 1, userId: 1, createdAt: -1, _id: -1 },
    options: { name: "keys_tenant_user_created" },
    why: "list the keys of one associated user (user filter, key holders' own view) newest first",
  },
  {
    key: { tenantId: 1, groupId: 1, createdAt: -1, _id: -1 },
    options: { name: "keys_tenant_group_created" },
    why: "count a group's keys before deleting it, and list keys filtered by group newest first",
  },
  {
    key: { tenantId: 1, "labels.k": 1, "labels.v": 1 },
    options: { name: "keys_tenant_label" },
    why: "list the keys carrying one label (an $elemMatch on the {k, v} elements)",
  },
  {
    key: { tenantId: 1, permissions: 1 },
    options: { name: "keys_tenant_permissions" },
    why: "find whether a tenant still has an active key holding a given permission",
  },
]);

export function createMongoKeyRepository(db: Db): KeyRepository {
  const keys = deadlineBound(db.collection<KeyDocument>(KEYS_COLLECTION));

  return {
    insert: (key) => guard(() => insertNew(keys, keyToDocument(key), "a key with this id already exists")),

    findById: (id) =>
      guard(async () => {
        const document = await keys.findOne({ _id: id });
        return document === null ? null : keyFromDocument(document);
      }),

    list: (query) =>
      guard(() =>
        keysetPage(
          query.limit,
          (n) => keys.find(listFilter(query)).sort({ createdAt: -1, _id: -1 }).limit(n).toArray(),
          keyFromDocument,
          (last) => ({ t: last.createdAt.getTime(), i: last.id }),
        ),
      ),

    replace: (next, expectedVersion) =>
      guard(async () => {
        assertNextVersion(next.version, expectedVersion);
        // lastUsedAt is left out: it only moves forward through recordLastUsed, and a read-modify-write
        // here must not carry an older value back over a newer one written meanwhile.
        const { _id, lastUsedAt: _lastUsedAt, ...fields } = keyToDocument(next);
        const result = await keys.updateOne({ _id, version: expectedVersion }, { $set: fields });
        return result.matchedCount === 1;
      }),

    countByGroup: (tenantId, groupId) =>
      guard(() => keys.countDocuments({ tenantId, groupId, deletedAt: null })),

    hasAnyWithPermission: (tenantId, permission) =>
      guard(async () => {
        const found = await keys.findOne({ tenantId, permissions: permission }, { projection: { _id: 1 } });
        return found !== null;
      }),

    recordLastUsed: (entries) =>
      guard(async () => {
        const latest = new Map<string, Date>();
        for (const { id, at } of entries) {
          const seen = latest.get(id);
          if (seen === undefined || seen.getTime() < at.getTime()) {
            latest.set(id, at);
          }
        }
        if (latest.size === 0) {
          return;
        }
        // A guarded $set instead of $max (which not every MongoDB-wire server has): the filter only
        // matches when the stored value is older, so concurrent writers can only move it forward.
        await keys.bulkWrite(
          [...latest].map(([id, at]) => ({
            updateOne: {
              filter: { _id: id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: at } }] },
              update: { $set: { lastUsedAt: at } },
            },
          })),
          { ordered: false },
        );
      }),
  };
}

/** listFilter translates a KeyListQuery into one filter; every user value is compared, never interpreted. */
function listFilter(query: KeyListQuery): Filter<KeyDocument> {
  const now = query.now;
  const soon = new Date(now.getTime() + query.expiringSoonWindowMs);
  const clauses: Filter<KeyDocument>[] = [{ tenantId: query.tenantId }];
  if (!query.includeDeleted) {
    clauses.push({ deletedAt: null });
  }
  // `disabledAt: null` also matches keys stored before keys could be disabled (no such field).
  switch (query.status) {
    case "active":
      clauses.push({
        revokedAt: null,
        disabledAt: null,
        $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
      });
      break;
    case "expired":
      clauses.push({ revokedAt: null, disabledAt: null, expiresAt: { $lte: now } });
      break;
    case "revoked":
      clauses.push({ revokedAt: { $ne: null } });
      break;
    case "disabled":
      clauses.push({ revokedAt: null, disabledAt: { $ne: null } });
      break;
    case null:
      break;
  }
  switch (query.expirationState) {
    case "valid":
      clauses.push({ $or: [{ expiresAt: null }, { expiresAt: { $gt: soon } }] });
      break;
    case "expiring_soon":
      clauses.push({ expiresAt: { $gt: now, $lte: soon } });
      break;
    case "expired":
      clauses.push({ expiresAt: { $lte: now } });
      break;
    case null:
      break;
  }
  if (query.userId !== null) {
    clauses.push({ userId: query.userId });
  }
  if (query.groupId !== null) {
    clauses.push({ groupId: query.groupId });
  }
  if (query.label !== undefined && query.label !== null) {
    clauses.push({ labels: { $elemMatch: { k: query.label.key, v: query.label.value } } });
  }
  if (query.nameContains !== null && query.nameContains !== "") {
    clauses.push({ nameLower: { $regex: literalPattern(lowerName(query.nameContains)) } });
  }
  if (query.after !== null) {
    const position = decodeCursor(query.after);
    const createdAt = cursorTime(position, "t");
    const id = cursorString(position, "i");
    // The $lte bound lets the planner seek the index; the $or picks the items strictly after the cursor.
    clauses.push({
      createdAt: { $lte: createdAt },
      $or: [{ createdAt: { $lt: createdAt } }, { _id: { $lt: id } }],
    });
  }
  return { $and: clauses };
}

/**
 * literalPattern escapes `text` for a regex: ASCII punctuation gets a backslash (PCRE and Java both read it as
 * the character itself), control characters become \x{..}; so `.*` is only ever a substring to find.
 */
export function literalPattern(text: string): string {
  return text.replace(/[^A-Za-z0-9 \u0080-\uffff]/g, (character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\x{${code.toString(16)}}` : `\\${character}`;
  });
}
