/**
 * The tenant key counter repair (src/domain/key-count-repair.ts) on the MongoDB store, run at start and every
 * KEY_COUNT_REPAIR_INTERVAL_MS, its corrections logged and emitted as admin events into the audit sink.
 */
import { createKeyCountRepair } from "../domain/key-count-repair.js";
import type { AuditSink } from "../domain/ports.js";
import { type KeyCountReconciler, startKeyCountReconciler } from "../storage/key-count-reconciler.js";
import { createMongoKeyCountStore, keyCountIndexes } from "../storage/key-count-store.js";
import type { WireDeps, Wired } from "./wire-services.js";

/** TENANTS_PER_RUN bounds one run: a thousand counts, then the next run goes on from there. */
const TENANTS_PER_RUN = 1_000;

export function wireKeyCountRepair(deps: WireDeps & { readonly audit: AuditSink }): Wired {
  const { config } = deps;
  const log = deps.logger.child({ component: "key-count-repair" });
  const repair = createKeyCountRepair({
    store: createMongoKeyCountStore(deps.db),
    audit: deps.audit,
    clock: { now: () => new Date() },
    // Longer than any call may run: a unary call ends by its deadline, and its last database operation
    // within one socket timeout of it.
    settleMs: config.limits.maxDeadlineMs + config.mongo.socketTimeoutMs,
    tenantsPerRun: TENANTS_PER_RUN,
    corrected: (tenantId, from, to) =>
      log.warn({ tenantId, from, to }, "corrected a tenant key counter that disagreed with its keys"),
  });
  let task: KeyCountReconciler | undefined;
  return {
    indexes: keyCountIndexes,
    startHooks: [
      {
        name: "key-count-repair",
        start: () => {
          task = startKeyCountReconciler({
            repair,
            intervalMs: config.keyCountRepairIntervalMs,
            failed: (error) => log.warn({ err: error }, "key counter repair run failed; next run retries"),
          });
        },
      },
    ],
    closeHooks: [{ name: "key-count-repair", close: () => task?.stop() }],
  };
}
