/**
 * The deadline of the call being served, carried along its asynchronous work so that its database operations
 * end by then; work outliving the call is not bound by it (docs/architecture.md, "Deadlines reach MongoDB").
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** CallDeadline is one call's deadline (epoch milliseconds) and whether the call is still being served. */
interface CallDeadline {
  readonly at: number;
  ended: boolean;
}

const current = new AsyncLocalStorage<CallDeadline>();

/** withCallDeadline runs `serve` (one call) under the deadline `at` (epoch milliseconds). */
export async function withCallDeadline<T>(at: number, serve: () => Promise<T>): Promise<T> {
  const deadline: CallDeadline = { at, ended: false };
  try {
    return await current.run(deadline, serve);
  } finally {
    deadline.ended = true;
  }
}

/** callDeadline is the served call's deadline (epoch ms); undefined outside a call or after it ended. */
export function callDeadline(): number | undefined {
  const deadline = current.getStore();
  return deadline === undefined || deadline.ended ? undefined : deadline.at;
}

/** outsideCallDeadline runs work shared by many calls (one lookup for all waiters) free of the deadline. */
export function outsideCallDeadline<T>(work: () => T): T {
  return current.exit(work);
}
