/** Key lifecycle use cases of KeyAdminService: inputs and answers; one module per use case in key-admin/. */
import type { BackgroundErrorReporter, GuardedRequest } from "./admin-mutation.js";
import type { KeyView, TenantView } from "./admin-views.js";
import type { ExpirationState, KeyStatus } from "./api-key.js";
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

/** CreateKeyInput: absent values are "" / [] / null; the creator is the actor. */
export interface CreateKeyInput extends Omit<KeySpec, "createdBy"> {
  readonly requestId: string;
}

/** IssuedSecret is a key's secret in both forms. Secret: returned once, never stored or logged. */
export interface IssuedSecret {
  readonly key: string;
  readonly secretKey: string;
}

export interface IssuedKey {
  readonly key: KeyView;
  /** secret is null on a replayed request_id: the secret was returned by the first call only. */
  readonly secret: IssuedSecret | null;
  readonly secretAlreadyIssued: boolean;
}

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

export interface KeyListing {
  readonly keys: readonly KeyView[];
  /** nextPageToken is "" on the last page. */
  readonly nextPageToken: string;
  /** tenant is the tenant's usage, for admins; null for key holders. */
  readonly tenant: TenantView | null;
}

/** KeyUpdateValues: only masked fields are read; a null expiresAt asks to remove the expiry (refused). */
export type KeyUpdateValues = Omit<KeySpec, "tenantId" | "createdBy">;

export interface UpdateKeyInput extends GuardedRequest {
  readonly keyId: string;
  readonly paths: readonly string[];
  readonly values: KeyUpdateValues;
}

export interface RotateKeyInput extends GuardedRequest {
  readonly keyId: string;
  /** overlapMs is how long the superseded secret keeps working (0 = stops at once). */
  readonly overlapMs: number;
  /** expiresAt is the key's new expiry, or null to keep the current one. */
  readonly expiresAt: Date | null;
}

export interface DeleteKeyInput extends GuardedRequest {
  readonly keyId: string;
}

/** RevokeKeyInput is also what DisableKey and EnableKey take. */
export interface RevokeKeyInput extends DeleteKeyInput {
  readonly reason: string;
}

export type KeyAdmin = ReturnType<typeof createKeyAdmin>;

/** createKeyAdmin builds the key use cases on `deps`, one module each under key-admin/. */
export function createKeyAdmin(deps: KeyAdminDependencies) {
  const ctx = keyContext(deps);
  return {
    createKey: createKey.bind(null, ctx),
    getKey: getKey.bind(null, ctx),
    listKeys: listKeys.bind(null, ctx),
    updateKey: updateKey.bind(null, ctx),
    rotateKey: rotateKey.bind(null, ctx),
    revokeKey: revokeKey.bind(null, ctx),
    disableKey: disableKey.bind(null, ctx),
    enableKey: enableKey.bind(null, ctx),
    deleteKey: deleteKey.bind(null, ctx),
  };
}
