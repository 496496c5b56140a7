/**
 * Open-stream slots: how many audit streams a process serves at once, in total and per caller (the key id); a
 * stream beyond either is refused with resource_exhausted naming the limit, with an ErrorInfo reason.
 */
import { STREAM_LIMIT_PER_CALLER_REASON, STREAM_LIMIT_PER_PROCESS_REASON } from "../domain/audit-stream.js";
import { DomainError } from "../domain/errors.js";

export interface AuditStreamSlots {
  /**
   * acquire takes a slot for a stream of `caller` (undefined: counted against the process limit only) and
   * returns the function that gives it back (idempotent); it throws resource_exhausted beyond a limit.
   */
  acquire(caller: string | undefined): () => void;
}

export interface AuditStreamLimits {
  readonly maxStreams: number;
  readonly maxStreamsPerCaller: number;
}

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
  };
}
