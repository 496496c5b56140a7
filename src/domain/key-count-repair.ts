/**
 * Repairing the tenant key counters. A tenant's limit is enforced by a counter reserved before a key is
 * inserted and released by the write that revokes or deletes it; without transactions a crash between the
 * two writes leaves it one off for good. The repair recounts the keys that hold a slot and corrects the
 * counter, and never undoes a change another replica is making meanwhile:
 *
 * - a counter that disagrees with the count is corrected only when the same disagreement — same counter,
 *   same number of reservations and releases so far, same count — was seen at least `settleMs` earlier
 *   (longer than any call may run). Every create or revoke that was in flight at the first sighting has
 *   ended by then, and any that started since moved the change count or the key count, so what is left is
 *   drift and nothing else;
 * - the correction is a compare-and-set on that counter and change count: a reservation or release between
 *   the recount and the write makes it miss, and the tenant is looked at again on a later run;
 * - every correction is one admin audit event by the system actor, so a repaired counter is never silent.
 *
 * A run looks at a bounded number of tenants and resumes where it stopped, so its cost does not grow with
 * the number of tenants; running it again when nothing drifted changes nothing.
 */
import { recordAdminEvent } from "./admin-audit.js";
import { valueChanges } from "./admin-field-changes.js";
import { type Actor, type ApiKeyRecord, SYSTEM_TENANT } from "./api-key.js";
import type { AuditSink, Clock } from "./ports.js";

/**
 * holdsKeySlot is what counts against a tenant's key limit: a key that is neither revoked nor deleted.
 * Expired keys count until revoked or deleted, so the count needs no clock.
 */
export function holdsKeySlot(key: Pick<ApiKeyRecord, "revokedAt" | "deletedAt">): boolean {
  return key.revokedAt === null && key.deletedAt === null;
}

/** KEY_COUNT_REPAIR_ACTOR is who the audit events of a correction name: the system's counter repair. */
export const KEY_COUNT_REPAIR_ACTOR: Actor = Object.freeze({
  keyId: "system",
  tenantId: SYSTEM_TENANT,
  userId: "key-count-repair",
  role: "superuser",
});

/** TenantKeyCounter is a tenant's stored key counter. */
export interface TenantKeyCounter {
  readonly tenantId: string;
  /** usedKeys is the counter the limit is enforced with. */
  readonly usedKeys: number;
  /** changes counts every reservation, release and correction of the counter (it only grows). */
  readonly changes: number;
}

/** KeyCountStore is what the repair reads and writes (src/storage implements it). */
export interface KeyCountStore {
  /** counters returns up to `limit` tenants' counters with ids after `after` (null: from the first), by id. */
  counters(after: string | null, limit: number): Promise<TenantKeyCounter[]>;
  /** countSlotHolders counts the tenant's keys that hold a slot (see holdsKeySlot). */
  countSlotHolders(tenantId: string): Promise<number>;
  /**
   * correct sets the counter to `usedKeys` only if it still is `counter` (same usedKeys, same changes);
   * false when anything changed it meanwhile.
   */
  correct(counter: TenantKeyCounter, usedKeys: number): Promise<boolean>;
}

/** KeyCountRepairDependencies are the repair's ports and settings. */
export interface KeyCountRepairDependencies {
  readonly store: KeyCountStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** settleMs is how long a disagreement must stand before it is corrected: longer than any call runs. */
  readonly settleMs: number;
  /** tenantsPerRun bounds the work of one run. */
  readonly tenantsPerRun: number;
  /** corrected hears about each correction (for the log). */
  readonly corrected?: (tenantId: string, from: number, to: number) => void;
}

/** KeyCountRepairRun says what one run did. */
export interface KeyCountRepairRun {
  readonly checked: number;
  readonly corrected: number;
  /** waiting counts the disagreements seen and not corrected yet (not settled, or changed meanwhile). */
  readonly waiting: number;
}

/** KeyCountRepair recounts the counters, a bounded slice of tenants per run. */
export interface KeyCountRepair {
  run(): Promise<KeyCountRepairRun>;
}

/** Sighting is a disagreement as first seen. */
interface Sighting {
  readonly usedKeys: number;
  readonly changes: number;
  readonly holders: number;
  readonly at: number;
}

/** createKeyCountRepair builds the repair on `deps`. */
export function createKeyCountRepair(deps: KeyCountRepairDependencies): KeyCountRepair {
  // Disagreements seen on earlier runs, by tenant; bounded, since a tenant leaves on its next visit.
  const sightings = new Map<string, Sighting>();
  const maxSightings = deps.tenantsPerRun * 16;
  let after: string | null = null;

  return {
    async run() {
      const counters = await deps.store.counters(after, deps.tenantsPerRun);
      after = counters.length < deps.tenantsPerRun ? null : (counters.at(-1)?.tenantId ?? null);
      let corrected = 0;
      for (const counter of counters) {
        const holders = await deps.store.countSlotHolders(counter.tenantId);
        const seen = sightings.get(counter.tenantId);
        sightings.delete(counter.tenantId);
        if (holders === counter.usedKeys) {
          continue;
        }
        const now = deps.clock.now();
        const standing =
          seen !== undefined &&
          seen.usedKeys === counter.usedKeys &&
          seen.changes === counter.changes &&
          seen.holders === holders;
        if (
          standing &&
          now.getTime() - seen.at >= deps.settleMs &&
          (await deps.store.correct(counter, holders))
        ) {
          corrected += 1;
          await recordAdminEvent(deps.audit, KEY_COUNT_REPAIR_ACTOR, "tenant_updated", now, {
            tenantId: counter.tenantId,
            changedFields: ["used_keys"],
            changes: valueChanges([["used_keys", counter.usedKeys, holders]]),
            requestId: null,
          });
          deps.corrected?.(counter.tenantId, counter.usedKeys, holders);
          continue;
        }
        // The first sighting is kept while it still stands, so it can settle; anything that moved starts over.
        if (sightings.size < maxSightings) {
          const at = now.getTime();
          sightings.set(
            counter.tenantId,
            standing ? seen : { usedKeys: counter.usedKeys, changes: counter.changes, holders, at },
          );
        }
      }
      return { checked: counters.length, corrected, waiting: sightings.size };
    },
  };
}
