/**
 * GroupRepository on MongoDB: names are unique per tenant ignoring case through a unique index, so the
 * database decides a clash even between concurrent writers ("Admins" and "admins" read as one group).
 */
import type { Db, Filter } from "mongodb";
import type { GroupRecord } from "../domain/api-key.js";
import type { GroupRepository } from "../domain/ports.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { type LabelDocument, labelsFromDocument, labelsToDocument, lowerName } from "./key-document.js";
import { duplicateAsAlreadyExists, guard, insertNew } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";
import { assertNextVersion, cursorString, decodeCursor, keysetPage } from "./page-cursor.js";

export const GROUPS_COLLECTION = "groups";
const NAME_TAKEN = "a group with this name already exists in the tenant";

export interface GroupDocument {
  _id: string;
  tenantId: string;
  name: string;
  nameLower: string;
  description: string;
  permissions: string[];
  labels?: LabelDocument[];
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export const groupIndexes: readonly IndexDeclaration[] = indexesOf(GROUPS_COLLECTION, [
  {
    key: { tenantId: 1, nameLower: 1 },
    options: { name: "groups_tenant_name_lower_unique", unique: true },
    why: "group names are unique per tenant ignoring case, and a tenant's groups are listed by name with a keyset cursor",
  },
]);

export function createMongoGroupRepository(db: Db): GroupRepository {
  const groups = deadlineBound(db.collection<GroupDocument>(GROUPS_COLLECTION));

  return {
    insert: (group) => guard(() => insertNew(groups, groupToDocument(group), NAME_TAKEN)),

    findById: (id) =>
      guard(async () => {
        const document = await groups.findOne({ _id: id });
        return document === null ? null : groupFromDocument(document);
      }),

    findByIds: (ids) =>
      guard(async () => {
        const unique = [...new Set(ids)];
        if (unique.length === 0) {
          return [];
        }
        const documents = await groups.find({ _id: { $in: unique } }).toArray();
        return documents.map(groupFromDocument);
      }),

    list: (tenantId, limit, after) =>
      guard(() => {
        const filter: Filter<GroupDocument> = { tenantId };
        if (after !== null) {
          // Lower-cased names are unique per tenant, so they alone are a total order for the keyset.
          filter.nameLower = { $gt: cursorString(decodeCursor(after), "n") };
        }
        return keysetPage(
          limit,
          (n) => groups.find(filter).sort({ nameLower: 1 }).limit(n).toArray(),
          groupFromDocument,
          (last) => ({ n: lowerName(last.name) }),
        );
      }),

    replace: (next, expectedVersion) =>
      guard(async () => {
        assertNextVersion(next.version, expectedVersion);
        const { _id, ...fields } = groupToDocument(next);
        try {
          const result = await groups.updateOne({ _id, version: expectedVersion }, { $set: fields });
          return result.matchedCount === 1;
        } catch (error) {
          throw duplicateAsAlreadyExists(error, NAME_TAKEN);
        }
      }),

    delete: (id, expectedVersion) =>
      guard(async () => {
        const result = await groups.deleteOne({ _id: id, version: expectedVersion });
        return result.deletedCount === 1;
      }),
  };
}

function groupToDocument(group: GroupRecord): GroupDocument {
  return {
    _id: group.id,
    tenantId: group.tenantId,
    name: group.name,
    nameLower: lowerName(group.name),
    description: group.description,
    permissions: [...group.permissions],
    labels: labelsToDocument(group.labels),
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
    version: group.version,
  };
}

function groupFromDocument(document: GroupDocument): GroupRecord {
  return {
    id: document._id,
    tenantId: document.tenantId,
    name: document.name,
    description: document.description ?? "",
    permissions: [...(document.permissions ?? [])],
    labels: labelsFromDocument(document.labels),
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
    version: document.version,
  };
}
