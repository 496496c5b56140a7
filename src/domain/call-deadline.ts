/**
 * The deadline of the call being served, carried along its asynchronous work, so that every database
 * operation it starts ends by then (the storage layer turns what is left into the driver's timeoutMS) and
 * none starts after it. The transports enter it once per unary call; nothing else needs to pass it on.
 *
 * A background task that a call happened to start (a timer, a retry loop) inherits the call's context; once
 * the call has ended its deadline no longer applies, so such work is never refused for a call long gone.
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

/**
 * callDeadline is the deadline (epoch milliseconds) of the call being served, or undefined outside a call
 * (background work, or a call that has ended).
 */
export function callDeadline(): number | undefined {
  const deadline = current.getStore();
  return deadline === undefined || deadline.ended ? undefined : deadline.at;
}

/**
 * outsideCallDeadline runs `work` free of the current call's deadline: for work shared by many calls (one
 * lookup answering every call that waits for it), which has a time budget of its own.
 */
export function outsideCallDeadline<T>(work: () => T): T {
  return current.exit(work);
}
