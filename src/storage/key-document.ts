/**
 * The MongoDB shape of an API key: `_id` is the key id, instants are BSON dates, absent values are stored as
 * null (never omitted), and only keyed hashes of secrets are ever present.
 */
import type { ApiKeyRecord, KeySecretRecord, Labels } from "../domain/api-key.js";
import { NO_LABELS } from "../domain/labels.js";

export const KEYS_COLLECTION = "keys";

export interface KeySecretDocument {
  generation: number;
  hash: string;
  pepperVersion: number;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** Labels are stored as {k, v} sorted by k, not a subdocument: a label key may hold '.', a path to MongoDB. */
export interface LabelDocument {
  k: string;
  v: string;
}

export function labelsToDocument(labels: Labels): LabelDocument[] {
  return Object.keys(labels)
    .sort()
    .map((k) => ({ k, v: labels[k] as string }));
}

export function labelsFromDocument(labels: readonly LabelDocument[] | undefined): Labels {
  if (labels === undefined || labels.length === 0) {
    return NO_LABELS;
  }
  return Object.fromEntries(labels.map(({ k, v }) => [k, v]));
}

export interface KeyDocument {
  _id: string;
  tenantId: string;
  name: string;
  /** nameLower makes the name search a literal match on every server (a regex `i` flag folds Unicode differently). */
  nameLower: string;
  description: string;
  userId: string;
  groupId: string;
  permissions: string[];
  ipAllowlist: string[];
  secrets: KeySecretDocument[];
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string;
  revokeReason: string;
  deletedAt: Date | null;
  lastUsedAt: Date | null;
  /** labels: absent on keys stored before labels existed. */
  labels?: LabelDocument[];
  /** disabledAt, disabledBy, disableReason: absent on keys stored before keys could be disabled. */
  disabledAt?: Date | null;
  disabledBy?: string;
  disableReason?: string;
  /** createRequestId, rotateRequestId: the request ids that fence a late write (domain/request-fence.ts). */
  createRequestId?: string;
  rotateRequestId?: string;
  version: number;
}

/** lowerName is the one case folding used for names, both when storing and when searching. */
export function lowerName(name: string): string {
  return name.toLowerCase();
}

export function keyToDocument(key: ApiKeyRecord): KeyDocument {
  return {
    _id: key.id,
    tenantId: key.tenantId,
    name: key.name,
    nameLower: lowerName(key.name),
    description: key.description,
    userId: key.userId,
    groupId: key.groupId,
    permissions: [...key.permissions],
    ipAllowlist: [...key.ipAllowlist],
    secrets: key.secrets.map(secretFields),
    createdAt: key.createdAt,
    createdBy: key.createdBy,
    updatedAt: key.updatedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    revokedBy: key.revokedBy,
    revokeReason: key.revokeReason,
    deletedAt: key.deletedAt,
    lastUsedAt: key.lastUsedAt,
    labels: labelsToDocument(key.labels),
    disabledAt: key.disabledAt,
    disabledBy: key.disabledBy,
    disableReason: key.disableReason,
    ...(key.createRequestId === undefined ? {} : { createRequestId: key.createRequestId }),
    ...(key.rotateRequestId === undefined ? {} : { rotateRequestId: key.rotateRequestId }),
    version: key.version,
  };
}

/** keyFromDocument maps a stored document back to the domain record (missing values read as null/""). */
export function keyFromDocument(document: KeyDocument): ApiKeyRecord {
  return {
    id: document._id,
    tenantId: document.tenantId,
    name: document.name,
    description: document.description ?? "",
    userId: document.userId ?? "",
    groupId: document.groupId ?? "",
    permissions: [...(document.permissions ?? [])],
    ipAllowlist: [...(document.ipAllowlist ?? [])],
    secrets: (document.secrets ?? []).map(secretFields),
    createdAt: document.createdAt,
    createdBy: document.createdBy ?? "",
    updatedAt: document.updatedAt,
    expiresAt: document.expiresAt ?? null,
    revokedAt: document.revokedAt ?? null,
    revokedBy: document.revokedBy ?? "",
    revokeReason: document.revokeReason ?? "",
    deletedAt: document.deletedAt ?? null,
    lastUsedAt: document.lastUsedAt ?? null,
    labels: labelsFromDocument(document.labels),
    disabledAt: document.disabledAt ?? null,
    disabledBy: document.disabledBy ?? "",
    disableReason: document.disableReason ?? "",
    ...(document.createRequestId === undefined ? {} : { createRequestId: document.createRequestId }),
    ...(document.rotateRequestId === undefined ? {} : { rotateRequestId: document.rotateRequestId }),
    version: document.version,
  };
}

/** secretFields copies exactly a secret's stored fields, whatever else the object carries, either way. */
function secretFields(secret: KeySecretRecord | KeySecretDocument): KeySecretRecord {
  return {
    generation: secret.generation,
    hash: secret.hash,
    pepperVersion: secret.pepperVersion,
    hint: secret.hint,
    createdAt: secret.createdAt,
    expiresAt: secret.expiresAt ?? null,
  };
}
