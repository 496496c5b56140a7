/** Domain records, mapped to and from proto messages and MongoDB documents at the edges; absent is null. */

/** KeySecretRecord is one secret of a key: its keyed hash and a display hint, never the secret itself. */
export interface KeySecretRecord {
  /** generation is 1 for the secret issued at creation and grows by one per rotation. */
  readonly generation: number;
  /** hash is the HMAC-SHA-256 of the whole key under the server pepper, base64url (see key-hash.ts). */
  readonly hash: string;
  /** pepperVersion names the pepper the hash was made with, so peppers can be rotated. */
  readonly pepperVersion: number;
  /** hint is the non-secret display hint, for example "ak_live_7gQ2kX9pLm3RtY8w_Ab3x…". */
  readonly hint: string;
  readonly createdAt: Date;
  /** expiresAt ends a superseded secret's rotation overlap; null for the current secret. */
  readonly expiresAt: Date | null;
}

/** Labels are a key's or group's free string metadata (labels.ts); {} when there are none. */
export type Labels = Readonly<Record<string, string>>;

/** ApiKeyRecord is an API key as stored: configuration, lifecycle and secret hashes. */
export interface ApiKeyRecord {
  /** id is the public key id, for example "ak_live_7gQ2kX9pLm3RtY8w". */
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  // userId and groupId are "" when none.
  readonly userId: string;
  readonly groupId: string;
  /** permissions are the key's own permissions, sorted and deduplicated. */
  readonly permissions: readonly string[];
  /** ipAllowlist holds canonical CIDRs, sorted and deduplicated; empty means any address. */
  readonly ipAllowlist: readonly string[];
  /** secrets that currently verify: the current one last, superseded ones (in overlap) before it. */
  readonly secrets: readonly KeySecretRecord[];
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly updatedAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string;
  readonly revokeReason: string;
  readonly deletedAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly labels: Labels;
  /** disabledAt is when the key was disabled (it does not verify until enabled); null when enabled. */
  readonly disabledAt: Date | null;
  readonly disabledBy: string;
  readonly disableReason: string;
  /** createRequestId is the client request id the key was created with; absent when none (request-fence.ts). */
  readonly createRequestId?: string;
  /** rotateRequestId is the client request id of the key's last rotation; absent or "" when none. */
  readonly rotateRequestId?: string;
  /** version grows by one with every change; guarded updates compare it (optimistic concurrency). */
  readonly version: number;
}

/** KeySettings are what an admin sets on a key besides its labels and expiry. */
export type KeySettings = Pick<
  ApiKeyRecord,
  "tenantId" | "name" | "description" | "userId" | "groupId" | "permissions" | "ipAllowlist"
>;

/** keySettingsOf copies a key's settings (its lists too) out of anything that carries them. */
export function keySettingsOf(key: KeySettings) {
  return {
    tenantId: key.tenantId,
    name: key.name,
    description: key.description,
    userId: key.userId,
    groupId: key.groupId,
    permissions: [...key.permissions],
    ipAllowlist: [...key.ipAllowlist],
  };
}

/** GroupRecord is an authorization group: a named permission set of one tenant. */
export interface GroupRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly string[];
  readonly labels: Labels;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** TenantRecord is a tenant: its display name, key-limit state and configuration version. */
export interface TenantRecord {
  readonly id: string;
  /** keyLimit is the per-tenant override; null means the server default applies. */
  readonly keyLimit: number | null;
  /** usedKeys counts the tenant's keys that are neither revoked nor deleted. */
  readonly usedKeys: number;
  /** displayName names the tenant for humans; "" when none. */
  readonly displayName: string;
  // A tenant that does not exist has null times and version 0.
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
  /** version counts configuration changes (display name, key limit), never usedKeys. */
  readonly version: number;
}

export type KeyStatus = "active" | "expired" | "revoked" | "disabled";

export type ExpirationState = "valid" | "expiring_soon" | "expired";

/** keyStatusAt derives a key's status at `now`; revocation wins over disabling, which wins over expiry. */
export function keyStatusAt(
  key: Pick<ApiKeyRecord, "revokedAt" | "expiresAt" | "disabledAt">,
  now: Date,
): KeyStatus {
  if (key.revokedAt !== null) {
    return "revoked";
  }
  if (key.disabledAt !== null) {
    return "disabled";
  }
  if (key.expiresAt !== null && now.getTime() >= key.expiresAt.getTime()) {
    return "expired";
  }
  return "active";
}

export function expirationStateAt(
  key: Pick<ApiKeyRecord, "expiresAt">,
  now: Date,
  expiringSoonWindowMs: number,
): ExpirationState {
  if (key.expiresAt === null) {
    return "valid";
  }
  const left = key.expiresAt.getTime() - now.getTime();
  if (left <= 0) {
    return "expired";
  }
  return left <= expiringSoonWindowMs ? "expiring_soon" : "valid";
}

/** Actor is who performs an admin operation, resolved from the caller's credential. */
export interface Actor {
  /** keyId of the authenticating key, or "bootstrap". */
  readonly keyId: string;
  readonly tenantId: string;
  readonly userId: string;
  /** role is what the caller may do: everything, its own tenant, or only read its own user's keys. */
  readonly role: "superuser" | "tenant_admin" | "key_holder";
  /** callId (the call's log request id) goes into admin events without a client request id, for matching. */
  readonly callId?: string;
}

/** Permission names that give a key admin rights over this service. */
export const ADMIN_PERMISSION = "apikeys:admin";
/** SUPERUSER_PERMISSION gives rights over every tenant. */
export const SUPERUSER_PERMISSION = "apikeys:superuser";
/** SYSTEM_TENANT owns the bootstrap super-user keys; tenant ids from requests can never take this form. */
export const SYSTEM_TENANT = "_system";
