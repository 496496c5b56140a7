/**
 * The MongoDB shape of an API key and its mapping to and from the domain record. The document is the
 * storage contract: `_id` is the public key id, instants are BSON dates, absent values are stored as null
 * (never omitted), and only keyed hashes of secrets are ever present.
 */
import type { ApiKeyRecord, KeySecretRecord, Labels } from "../domain/api-key.js";
import { NO_LABELS } from "../domain/labels.js";

/** KEYS_COLLECTION is where keys live. */
export const KEYS_COLLECTION = "keys";

/** KeySecretDocument is one stored secret hash with its display hint. */
export interface KeySecretDocument {
  generation: number;
  hash: string;
  pepperVersion: number;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/**
 * LabelDocument is one label as stored: an array of {k, v} (sorted by k, always written in that field order)
 * rather than a subdocument, because label keys may contain '.', which MongoDB reads as a path; one label
 * equality is an $elemMatch on the array.
 */
export interface LabelDocument {
  k: string;
  v: string;
}

/** labelsToDocument stores labels (sorted by key). */
export function labelsToDocument(labels: Labels): LabelDocument[] {
  return Object.keys(labels)
    .sort()
    .map((k) => ({ k, v: labels[k] as string }));
}

/** labelsFromDocument reads stored labels (absent: none). */
export function labelsFromDocument(labels: readonly LabelDocument[] | undefined): Labels {
  if (labels === undefined || labels.length === 0) {
    return NO_LABELS;
  }
  return Object.fromEntries(labels.map(({ k, v }) => [k, v]));
}

/** KeyDocument is a key as stored in the `keys` collection. */
export interface KeyDocument {
  _id: string;
  tenantId: string;
  name: string;
  /**
   * nameLower is `name` lower-cased by the application, so the name search is a literal substring match
   * that behaves the same on every server (a regex `i` flag folds Unicode differently per implementation).
   */
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

/** keyToDocument maps a domain key to its document. */
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
    secrets: key.secrets.map(secretToDocument),
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
    secrets: (document.secrets ?? []).map(secretFromDocument),
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

function secretToDocument(secret: KeySecretRecord): KeySecretDocument {
  return {
    generation: secret.generation,
    hash: secret.hash,
    pepperVersion: secret.pepperVersion,
    hint: secret.hint,
    createdAt: secret.createdAt,
    expiresAt: secret.expiresAt,
  };
}

function secretFromDocument(secret: KeySecretDocument): KeySecretRecord {
  return {
    generation: secret.generation,
    hash: secret.hash,
    pepperVersion: secret.pepperVersion,
    hint: secret.hint,
    createdAt: secret.createdAt,
    expiresAt: secret.expiresAt ?? null,
  };
}
