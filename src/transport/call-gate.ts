/**
 * The call gate both transports share for graceful shutdown: it counts in-flight calls, refuses new ones
 * once draining starts, and tells long-lived streams to end.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** SHUTTING_DOWN_MESSAGE is what a call refused or ended by shutdown is told (with UNAVAILABLE). */
export const SHUTTING_DOWN_MESSAGE = "server is shutting down";

export interface CallGate {
  /** draining is true once shutdown began: new calls (except health) are refused with UNAVAILABLE. */
  readonly draining: boolean;
  readonly inFlight: number;
  /**
   * drainSignal aborts, with an UNAVAILABLE ConnectError, when draining begins. Streaming calls link their
   * handler signal to it: a stream has no natural end, so it is ended rather than waited for.
   */
  readonly drainSignal: AbortSignal;
  enter(): void;
  leave(): void;
  /** beginDrain starts draining (idempotent). */
  beginDrain(): void;
  /** whenIdle resolves true once no call is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
}

export function createCallGate(): CallGate {
  const drainController = new AbortController();
  let inFlight = 0;
  let draining = false;
  const idleWaiters = new Set<() => void>();
  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    drainSignal: drainController.signal,
    enter() {
      inFlight++;
    },
    leave() {
      inFlight--;
      if (inFlight === 0 && idleWaiters.size > 0) {
        for (const wake of idleWaiters) {
          wake();
        }
      }
    },
    beginDrain() {
      if (!draining) {
        draining = true;
        drainController.abort(new ConnectError(SHUTTING_DOWN_MESSAGE, Code.Unavailable));
      }
    },
    whenIdle(timeoutMs) {
      if (inFlight === 0) {
        return Promise.resolve(true);
      }
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        idleWaiters.add(wake);
      });
    },
  };
}
