/**
 * ControlledStore: an AuditEventStore whose appends stay pending until the test settles them, recording
 * what was persisted (atomically, like the real store's all-or-nothing view of one batch).
 */
import type { NewAuditEvent } from "../../../src/domain/audit-event.js";
import type { AuditEventStore } from "../../../src/domain/ports.js";

/** PendingAppend is one append call waiting for the test's verdict. */
export interface PendingAppend {
  readonly batch: readonly NewAuditEvent[];
  succeed(): void;
  fail(error?: unknown): void;
}

/** ControlledStore is the fake plus its controls. */
export interface ControlledStore extends AuditEventStore {
  readonly pending: PendingAppend[];
  /** persisted lists every event id stored, in order (duplicates would show up here). */
  readonly persisted: string[];
  readonly calls: number[];
  /** throwNext makes the next append throw synchronously instead of returning a promise. */
  throwNext(): void;
}

/** createControlledStore makes an empty ControlledStore. */
export function createControlledStore(): ControlledStore {
  const pending: PendingAppend[] = [];
  const persisted: string[] = [];
  const calls: number[] = [];
  let throwNext = false;
  return {
    pending,
    persisted,
    calls,
    throwNext() {
      throwNext = true;
    },
    append(batch) {
      calls.push(batch.length);
      if (throwNext) {
        throwNext = false;
        throw new Error("synchronous store failure");
      }
      return new Promise<void>((resolve, reject) => {
        const entry: PendingAppend = {
          batch: [...batch],
          succeed() {
            pending.splice(pending.indexOf(entry), 1);
            persisted.push(...batch.map((event) => event.id));
            resolve();
          },
          fail(error = new Error("store unavailable")) {
            pending.splice(pending.indexOf(entry), 1);
            reject(error);
          },
        };
        pending.push(entry);
      });
    },
    after: async () => [],
  };
}
