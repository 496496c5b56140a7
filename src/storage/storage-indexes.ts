/** The key store's indexes for ensureIndexes at start (the audit store declares its own). */
import { changeFeedIndexes } from "./change-feed.js";
import { groupIndexes } from "./group-repository.js";
import { idempotencyIndexes } from "./idempotency-store.js";
import type { IndexDeclaration } from "./indexes.js";
import { keyCountIndexes } from "./key-count-store.js";
import { keyIndexes } from "./key-repository.js";
import { tenantIndexes } from "./tenant-repository.js";

export const allStorageIndexes: readonly IndexDeclaration[] = [
  ...keyIndexes,
  ...keyCountIndexes,
  ...groupIndexes,
  ...tenantIndexes,
  ...idempotencyIndexes,
  ...changeFeedIndexes,
];
