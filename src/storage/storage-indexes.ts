/**
 * The indexes of the key store: what the composition root passes to ensureIndexes at start. Audit storage
 * declares its own list next to its queries; the composition root concatenates both.
 */
import { changeFeedIndexes } from "./change-feed.js";
import { groupIndexes } from "./group-repository.js";
import { idempotencyIndexes } from "./idempotency-store.js";
import type { IndexDeclaration } from "./indexes.js";
import { keyCountIndexes } from "./key-count-store.js";
import { keyIndexes } from "./key-repository.js";
import { tenantIndexes } from "./tenant-repository.js";

/**
 * allStorageIndexes lists the indexes of keys (the counter repair's included), groups, tenants, idempotency
 * records and change notices.
 */
export const allStorageIndexes: readonly IndexDeclaration[] = [
  ...keyIndexes,
  ...keyCountIndexes,
  ...groupIndexes,
  ...tenantIndexes,
  ...idempotencyIndexes,
  ...changeFeedIndexes,
];
