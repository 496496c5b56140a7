/**
 * Key lifecycle use cases of KeyAdminService: their inputs, answers and ports, and createKeyAdmin, which puts
 * together one module per use case (key-admin/). Every mutation runs through runMutation (admin-mutation.ts).
 * The tenant key limit counts keys that are neither revoked nor deleted (expired ones too, so the count needs
 * no clock); exactly one guarded write moves a key out of the count, and only that write gives the slot back.
 */
import type { BackgroundErrorReporter } from "./admin-mutation.js";
import type { KeyView, TenantView } from "./admin-views.js";
import type { Actor, ExpirationState, KeyStatus } from "./api-key.js";
import { createKey } from "./key-admin/create-key.js";
import { deleteKey } from "./key-admin/delete-key.js";
import { disableKey, enableKey } from "./key-admin/disable-key.js";
import { getKey } from "./key-admin/get-key.js";
import { keyContext } from "./key-admin/key-context.js";
import { listKeys } from "./key-admin/list-keys.js";
import { revokeKey } from "./key-admin/revoke-key.js";
import { rotateKey } from "./key-admin/rotate-key.js";
import { updateKey } from "./key-admin/update-key.js";
import type { KeySpec } from "./key-admin-issue.js";
import type { KeyFormat } from "./key-format.js";
import type { KeyHasher } from "./key-hash.js";
import type { PageTokenCodec } from "./page-token.js";
import type {
  AuditSink,
  Clock,
  GroupRepository,
  IdempotencyStore,
  KeyChangeNotifier,
  KeyRepository,
  RandomSource,
  TenantRepository,
} from "./ports.js";

/** KeyAdminDependencies are the ports and settings the key use cases need. */
export interface KeyAdminDependencies {
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  readonly tenants: TenantRepository;
  readonly idempotency: IdempotencyStore;
  readonly notifier: KeyChangeNotifier;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly pageTokens: PageTokenCodec;
  /** defaultKeyLimit applies to tenants without an override. */
  readonly defaultKeyLimit: number;
  /** expiringSoonWindowMs is the EXPIRING_SOON window (default 7 days). */
  readonly expiringSoonWindowMs: number;
  /** reportError hears about failures after the answer was decided (for logging); defaults to ignoring. */
  readonly reportError?: BackgroundErrorReporter;
}

/**
 * CreateKeyInput is a CreateKey request in domain terms (absent values: "" / [] / null): the key's
 * configuration as issued (less its creator, who is the actor) and the client request id.
 */
export interface CreateKeyInput extends Omit<KeySpec, "createdBy"> {
  readonly requestId: string;
}

/** IssuedSecret is a key's secret in both forms. Secret: returned once, never stored or logged. */
export interface IssuedSecret {
  /** key is the whole key. */
  readonly key: string;
  /** secretKey is the secret part of the two-part credential (access key id = key id). */
  readonly secretKey: string;
}

/** IssuedKey answers CreateKey, RotateKey and Bootstrap. */
export interface IssuedKey {
  readonly key: KeyView;
  /** secret is null on a replayed request_id: the secret was returned by the first call only. */
  readonly secret: IssuedSecret | null;
  readonly secretAlreadyIssued: boolean;
}

/** ListKeysInput is a ListKeys request in domain terms. */
export interface ListKeysInput {
  readonly tenantId: string;
  readonly pageSize: number;
  readonly pageToken: string;
  readonly status: KeyStatus | null;
  readonly expirationState: ExpirationState | null;
  readonly userId: string;
  readonly groupId: string;
  readonly nameQuery: string;
  readonly showDeleted: boolean;
  /** label is a "key=value" label filter; "" or absent = any. */
  readonly label?: string;
}

/** KeyListing is one page of keys. */
export interface KeyListing {
  readonly keys: readonly KeyView[];
  /** nextPageToken is "" on the last page. */
  readonly nextPageToken: string;
  /** tenant is the tenant's usage, for admins; null for key holders. */
  readonly tenant: TenantView | null;
}

/**
 * KeyUpdateValues carries the new values; only the fields named by the mask are read. expiresAt null with
 * "expire_time" in the mask asks to remove the expiry (refused).
 */
export type KeyUpdateValues = Omit<KeySpec, "tenantId" | "createdBy">;

/** UpdateKeyInput is an UpdateKey request in domain terms. */
export interface UpdateKeyInput {
  readonly keyId: string;
  readonly paths: readonly string[];
  readonly values: KeyUpdateValues;
  readonly requestId: string;
  /** etag is the client's etag of the key; "" or absent = no check. */
  readonly etag?: string;
}

/** RotateKeyInput is a RotateKey request in domain terms. */
export interface RotateKeyInput {
  readonly keyId: string;
  /** overlapMs is how long the superseded secret keeps working (0 = stops at once). */
  readonly overlapMs: number;
  /** expiresAt is the key's new expiry, or null to keep the current one. */
  readonly expiresAt: Date | null;
  readonly requestId: string;
  /** etag is the client's etag of the key; "" or absent = no check. */
  readonly etag?: string;
}

/** DeleteKeyInput is a DeleteKey request in domain terms. */
export interface DeleteKeyInput {
  readonly keyId: string;
  readonly requestId: string;
  /** etag is the client's etag of the key; "" or absent = no check. */
  readonly etag?: string;
}

/** RevokeKeyInput is a RevokeKey request in domain terms (DisableKey and EnableKey take the same). */
export interface RevokeKeyInput extends DeleteKeyInput {
  readonly reason: string;
}

/** KeyAdmin is the set of key lifecycle use cases; every method acts for `actor`. */
export interface KeyAdmin {
  createKey(actor: Actor, input: CreateKeyInput): Promise<IssuedKey>;
  getKey(actor: Actor, keyId: string): Promise<KeyView>;
  listKeys(actor: Actor, input: ListKeysInput): Promise<KeyListing>;
  updateKey(actor: Actor, input: UpdateKeyInput): Promise<KeyView>;
  rotateKey(actor: Actor, input: RotateKeyInput): Promise<IssuedKey>;
  revokeKey(actor: Actor, input: RevokeKeyInput): Promise<KeyView>;
  disableKey(actor: Actor, input: RevokeKeyInput): Promise<KeyView>;
  enableKey(actor: Actor, input: DeleteKeyInput): Promise<KeyView>;
  deleteKey(actor: Actor, input: DeleteKeyInput): Promise<KeyView>;
}

/** createKeyAdmin builds the key use cases on `deps` (one module each, under key-admin/). */
export function createKeyAdmin(deps: KeyAdminDependencies): KeyAdmin {
  const ctx = keyContext(deps);
  return {
    createKey: (actor, input) => createKey(ctx, actor, input),
    getKey: (actor, keyId) => getKey(ctx, actor, keyId),
    listKeys: (actor, input) => listKeys(ctx, actor, input),
    updateKey: (actor, input) => updateKey(ctx, actor, input),
    rotateKey: (actor, input) => rotateKey(ctx, actor, input),
    revokeKey: (actor, input) => revokeKey(ctx, actor, input),
    disableKey: (actor, input) => disableKey(ctx, actor, input),
    enableKey: (actor, input) => enableKey(ctx, actor, input),
    deleteKey: (actor, input) => deleteKey(ctx, actor, input),
  };
}
