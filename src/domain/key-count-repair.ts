/**
 * Repairing the tenant key counters: a disagreement is corrected only once it has stood unchanged for longer
 * than any call may run, with a compare-and-set, and recorded as an admin event (docs/architecture.md).
 */
import { recordAdminEvent } from "./admin-audit.js";
import { valueChanges } from "./admin-field-changes.js";
import { type Actor, type ApiKeyRecord, SYSTEM_TENANT } from "./api-key.js";
import type { AuditSink, Clock } from "./ports.js";

/** holdsKeySlot: a key counts against the limit until revoked or deleted (expired too: no clock needed). */
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

export interface TenantKeyCounter {
  readonly tenantId: string;
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
  /** correct sets the counter to `usedKeys` only if it still is `counter`; false when anything changed. */
  correct(counter: TenantKeyCounter, usedKeys: number): Promise<boolean>;
}

export interface KeyCountRepairDependencies {
  readonly store: KeyCountStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** settleMs is how long a disagreement must stand before it is corrected: longer than any call runs. */
  readonly settleMs: number;
  readonly tenantsPerRun: number;
  readonly corrected?: (tenantId: string, from: number, to: number) => void;
}

export interface KeyCountRepairRun {
  readonly checked: number;
  readonly corrected: number;
  /** waiting counts the disagreements seen and not corrected yet (not settled, or changed meanwhile). */
  readonly waiting: number;
}

export interface KeyCountRepair {
  run(): Promise<KeyCountRepairRun>;
}

interface Sighting {
  readonly usedKeys: number;
  readonly changes: number;
  readonly holders: number;
  readonly at: number;
}

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
