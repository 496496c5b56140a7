/**
 * Open-stream slots: how many audit streams one process serves at once, in total and per caller (the
 * authenticated key id). A stream takes its slot before it reads anything and gives it back when it ends,
 * however it ends; a stream beyond either limit is refused with resource_exhausted naming the limit and
 * its value, with an ErrorInfo reason the client can match.
 */
import { STREAM_LIMIT_PER_CALLER_REASON, STREAM_LIMIT_PER_PROCESS_REASON } from "../domain/audit-stream.js";
import { DomainError } from "../domain/errors.js";

/** AuditStreamSlots counts open streams against the two limits. */
export interface AuditStreamSlots {
  /**
   * acquire takes a slot for a stream of `caller` (undefined: counted against the process limit only) and
   * returns the function that gives it back (idempotent); it throws resource_exhausted beyond a limit.
   */
  acquire(caller: string | undefined): () => void;
  /** open counts the slots taken. */
  open(): number;
}

/** AuditStreamLimits are the two limits. */
export interface AuditStreamLimits {
  /** maxStreams bounds the open streams of the process. */
  readonly maxStreams: number;
  /** maxStreamsPerCaller bounds the open streams of one authenticated key. */
  readonly maxStreamsPerCaller: number;
}

/** createAuditStreamSlots builds the counter for `limits` (both at least 1). */
export function createAuditStreamSlots(limits: AuditStreamLimits): AuditStreamSlots {
  const { maxStreams, maxStreamsPerCaller } = limits;
  if (!(maxStreams >= 1) || !(maxStreamsPerCaller >= 1)) {
    throw new RangeError("audit stream limits must be at least 1");
  }
  let open = 0;
  const perCaller = new Map<string, number>();

  return {
    acquire(caller) {
      const callerOpen = caller === undefined ? 0 : (perCaller.get(caller) ?? 0);
      // The caller's own limit first: it is the one a caller can do something about.
      if (caller !== undefined && callerOpen >= maxStreamsPerCaller) {
        throw new DomainError(
          "resource_exhausted",
          `this key already has ${callerOpen} audit streams open on this replica, the per-caller limit (AUDIT_STREAMS_PER_CALLER_MAX=${maxStreamsPerCaller}); close one before opening another`,
          { reason: STREAM_LIMIT_PER_CALLER_REASON },
        );
      }
      if (open >= maxStreams) {
        throw new DomainError(
          "resource_exhausted",
          `this replica already serves ${open} audit streams, the per-process limit (AUDIT_STREAMS_MAX=${maxStreams}); retry later or on another replica`,
          { reason: STREAM_LIMIT_PER_PROCESS_REASON },
        );
      }
      open += 1;
      if (caller !== undefined) {
        perCaller.set(caller, callerOpen + 1);
      }
      let released = false;
      return () => {
        if (released) {
          return;
        }
        released = true;
        open -= 1;
        if (caller !== undefined) {
          const left = (perCaller.get(caller) ?? 1) - 1;
          if (left === 0) {
            perCaller.delete(caller);
          } else {
            perCaller.set(caller, left);
          }
        }
      };
    },
    open: () => open,
  };
}
