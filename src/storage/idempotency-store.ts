/**
 * IdempotencyStore on MongoDB: a request id is claimed by inserting `_id` = (scope, request id), so the unique
 * index picks the one of many concurrent retries that runs; taking over an expired or abandoned claim is a
 * compare-and-set on `rev`.
 */
import type { Db } from "mongodb";
import { callDeadline } from "../domain/call-deadline.js";
import type { IdempotencyClaim, IdempotencyStore } from "../domain/ports.js";
import { REQUEST_ID_RETENTION_MS } from "../domain/request-fence.js";
import { type IndexDeclaration, indexesOf } from "./indexes.js";
import { guard, isDuplicateKeyError } from "./mongo-errors.js";
import { deadlineBound } from "./operation-deadline.js";

export const IDEMPOTENCY_COLLECTION = "idempotency";

export interface IdempotencyDocument {
  _id: string;
  scope: string;
  requestId: string;
  fingerprint: string;
  state: "pending" | "done";
  result: string | null;
  createdAt: Date;
  /** expiresAt ends the record's life (createdAt + retention); past it the request id is free again. */
  expiresAt: Date;
  /** leaseUntil is when a pending claim is presumed dead (its process crashed) and may be taken over. */
  leaseUntil: Date | null;
  rev: number;
}

export interface IdempotencyStoreOptions {
  /** retentionMs is how long a request id is remembered; default 24 hours. */
  readonly retentionMs?: number;
  /** leaseMs is how long a pending claim blocks others before it may be taken over; default 30 s. */
  readonly leaseMs?: number;
}

// The domain's retention, which also bounds how old an earlier attempt's write may be for a retry to complete it.
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = REQUEST_ID_RETENTION_MS;
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;
// claim() compares expiresAt with `now` itself, so the semantics never depend on the TTL monitor.
export const idempotencyIndexes: readonly IndexDeclaration[] = indexesOf(IDEMPOTENCY_COLLECTION, [
  {
    key: { expiresAt: 1 },
    options: { name: "idempotency_expires_ttl", expireAfterSeconds: 0 },
    why: "let the server delete request ids after their retention (TTL)",
  },
]);

/** idempotencyId derives the document id: the scope's length first, so no (scope, id) pair can collide. */
export function idempotencyId(scope: string, requestId: string): string {
  return `${scope.length}:${scope}:${requestId}`;
}

// How long a claim outlives its call's deadline: time for a write sent just before it to arrive.
const LEASE_AFTER_DEADLINE_MS = 1_000;
const MAX_CLAIM_ATTEMPTS = 8;

export function createMongoIdempotencyStore(db: Db, options: IdempotencyStoreOptions = {}): IdempotencyStore {
  const records = deadlineBound(db.collection<IdempotencyDocument>(IDEMPOTENCY_COLLECTION));
  const retentionMs = options.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;

  // A claim is held no longer than its call may run: past the call's deadline its owner writes nothing more
  // (operation-deadline.ts), so a retry after a timeout need not wait out the whole lease.
  const leaseEnd = (now: Date) => {
    const deadline = callDeadline();
    const lease = now.getTime() + leaseMs;
    return new Date(deadline === undefined ? lease : Math.min(lease, deadline + LEASE_AFTER_DEADLINE_MS));
  };
  const fresh = (now: Date) => ({
    state: "pending" as const,
    result: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + retentionMs),
    leaseUntil: leaseEnd(now),
  });

  return {
    claim: (scope, requestId, fingerprint, now) =>
      guard(async (): Promise<IdempotencyClaim> => {
        const _id = idempotencyId(scope, requestId);
        for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
          try {
            await records.insertOne({ _id, scope, requestId, fingerprint, rev: 0, ...fresh(now) });
            return { state: "claimed" };
          } catch (error) {
            if (!isDuplicateKeyError(error)) {
              throw error;
            }
          }
          const existing = await records.findOne({ _id });
          if (existing === null) {
            continue; // abandoned or expired between our insert and read: try the insert again
          }
          const expired = existing.expiresAt.getTime() <= now.getTime();
          if (!expired && existing.fingerprint !== fingerprint) {
            return { state: "mismatch" };
          }
          if (!expired && existing.state === "done") {
            return { state: "completed", result: existing.result ?? "" };
          }
          const leaseOver = existing.leaseUntil !== null && existing.leaseUntil.getTime() <= now.getTime();
          if (!expired && !leaseOver) {
            return { state: "in_progress" };
          }
          // Expired, or a pending claim whose owner is presumed dead: take it over if nobody else did.
          const takeover = await records.updateOne(
            { _id, rev: existing.rev },
            { $set: { fingerprint, rev: existing.rev + 1, ...fresh(now) } },
          );
          if (takeover.modifiedCount === 1) {
            return { state: "claimed" };
          }
        }
        return { state: "in_progress" };
      }),

    complete: (scope, requestId, result) =>
      guard(async () => {
        await records.updateOne(
          { _id: idempotencyId(scope, requestId), state: "pending" },
          { $set: { state: "done", result, leaseUntil: null } },
        );
      }),

    abandon: (scope, requestId) =>
      guard(async () => {
        await records.deleteOne({ _id: idempotencyId(scope, requestId), state: "pending" });
      }),
  };
}
