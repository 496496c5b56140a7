/**
 * AuditTimers: the one-shot timers the audit sink and the stream follower schedule, injected so tests can
 * drive time by hand.
 */

/** AuditTimerHandle is whatever setTimeout returned; only ever passed back to clearTimeout. */
export type AuditTimerHandle = unknown;

/** AuditTimers schedules and cancels one-shot callbacks. */
export interface AuditTimers {
  setTimeout(callback: () => void, delayMs: number): AuditTimerHandle;
  clearTimeout(handle: AuditTimerHandle): void;
}

/**
 * systemAuditTimers are Node's timers, unref'd: a pending audit flush or poll never keeps the process alive
 * (shutdown flushes explicitly instead).
 */
export const systemAuditTimers: AuditTimers = {
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, delayMs);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
