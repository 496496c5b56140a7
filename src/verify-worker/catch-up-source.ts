/**
 * The verify worker's VerificationSource: its KeyCache, behind a check that the main thread has not posted
 * invalidations the worker has yet to handle.
 *
 * The main thread posts each invalidation on the worker's port and then bumps a counter in shared memory
 * (SHARED_SLOTS.invalidationEpoch). Before every key lookup the source compares the counter with the value
 * it last saw; when it moved, it takes the messages waiting on the port at once (receiveMessageOnPort) and
 * hands them, in order, to the channel. So a verification that starts after the main thread posted a
 * notice is decided without the invalidated entry, even while the worker's event loop has not come round
 * to the port yet — and the common case costs one atomic load.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { VerificationSource } from "../domain/key-verifier.js";
import { SHARED_SLOTS } from "./verify-worker-protocol.js";

/** CatchUpSourceOptions are the source to guard and the port's shared counter. */
export interface CatchUpSourceOptions {
  readonly source: VerificationSource;
  /** shared holds SHARED_SLOTS; only invalidationEpoch is read here. */
  readonly shared: Int32Array;
  readonly port: MessagePort;
  /** dispatch handles one message taken from the port (PortChannel.dispatch). */
  readonly dispatch: (message: unknown) => void;
}

/** createCatchUpSource guards `source` (see the module comment). */
export function createCatchUpSource(options: CatchUpSourceOptions): VerificationSource {
  const { source, shared, port, dispatch } = options;
  let seen = Atomics.load(shared, SHARED_SLOTS.invalidationEpoch);
  const catchUp = (): void => {
    const epoch = Atomics.load(shared, SHARED_SLOTS.invalidationEpoch);
    if (epoch === seen) {
      return;
    }
    // Read before draining: a notice posted after this read bumps the counter again.
    seen = epoch;
    for (
      let waiting = receiveMessageOnPort(port);
      waiting !== undefined;
      waiting = receiveMessageOnPort(port)
    ) {
      dispatch(waiting.message);
    }
  };
  return {
    key(keyId) {
      catchUp();
      return source.key(keyId);
    },
    group: (groupId) => source.group(groupId),
  };
}
