/**
 * GroupRepository on MongoDB: authorization groups, unique by (tenant, lower-cased name) through a unique
 * index, so a name clash is decided by the database even between concurrent writers, and "Admins" and
 * "admins" cannot coexist (people read them as one group).
 */
import type { Db, Filter } from "mongodb";
import type { GroupRecord } from "../domain/api-key.js";
import { DomainError } from "../domain/errors.js";
import type { GroupRepository, Page } from "../domain/ports.js";
import type { IndexDeclaration } from "./indexes.js";
import { type LabelDocument, labelsFromDocument, labelsToDocument, lowerName } from "./key-document.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";
import { assertPageLimit, cursorString, decodeCursor, encodeCursor } from "./page-cursor.js";

/** GROUPS_COLLECTION is where authorization groups live. */
export const GROUPS_COLLECTION = "groups";

/** GroupDocument is a group as stored: `_id` is the group id, instants are BSON dates. */
export interface GroupDocument {
  _id: string;
  tenantId: string;
  name: string;
  /** nameLower is `name` lower-cased (the same folding as key names): the unique, listing-order field. */
  nameLower: string;
  description: string;
  permissions: string[];
  /** labels as keys store them (key-document.ts); absent on groups stored before labels existed. */
  labels?: LabelDocument[];
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

/** groupIndexes are the indexes the group queries below rely on. */
export const groupIndexes: readonly IndexDeclaration[] = [
  {
    collection: GROUPS_COLLECTION,
    key: { tenantId: 1, nameLower: 1 },
    options: { name: "groups_tenant_name_lower_unique", unique: true },
    why: "group names are unique per tenant ignoring case, and a tenant's groups are listed by name with a keyset cursor",
  },
];

/** createMongoGroupRepository gives the GroupRepository backed by the `groups` collection of `db`. */
export function createMongoGroupRepository(db: Db): GroupRepository {
  const groups = deadlineBound(db.collection<GroupDocument>(GROUPS_COLLECTION));

  return {
    insert: (group) =>
      guard(async () => {
        try {
          await groups.insertOne(groupToDocument(group));
        } catch (error) {
          throw translateDuplicate(error);
        }
      }),

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
      guard(async (): Promise<Page<GroupRecord>> => {
        assertPageLimit(limit);
        const filter: Filter<GroupDocument> = { tenantId };
        if (after !== null) {
          // Lower-cased names are unique per tenant, so they alone are a total order for the keyset.
          filter.nameLower = { $gt: cursorString(decodeCursor(after), "n") };
        }
        const documents = await groups
          .find(filter)
          .sort({ nameLower: 1 })
          .limit(limit + 1)
          .toArray();
        const items = documents.slice(0, limit).map(groupFromDocument);
        const last = items.at(-1);
        const nextCursor =
          documents.length > limit && last !== undefined ? encodeCursor({ n: lowerName(last.name) }) : null;
        return { items, nextCursor };
      }),

    replace: (next, expectedVersion) =>
      guard(async () => {
        if (next.version !== expectedVersion + 1) {
          throw new RangeError(`replace must write version ${expectedVersion + 1}, got ${next.version}`);
        }
        const { _id, ...fields } = groupToDocument(next);
        try {
          const result = await groups.updateOne({ _id, version: expectedVersion }, { $set: fields });
          return result.matchedCount === 1;
        } catch (error) {
          throw translateDuplicate(error);
        }
      }),

    delete: (id, expectedVersion) =>
      guard(async () => {
        const result = await groups.deleteOne({ _id: id, version: expectedVersion });
        return result.deletedCount === 1;
      }),
  };
}

function translateDuplicate(error: unknown): unknown {
  return isDuplicateKeyError(error)
    ? new DomainError("already_exists", "a group with this name already exists in the tenant")
    : error;
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
