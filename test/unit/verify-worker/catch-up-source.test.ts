/**
 * The verify worker's catch-up: a notice the main thread posted before bumping the shared counter is
 * handled before the next key lookup, even when the event loop has not run since (everything here is
 * synchronous), and nothing is taken from the port while the counter stands still.
 */
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import type { VerificationSource } from "../../../src/domain/key-verifier.js";
import { createCatchUpSource } from "../../../src/verify-worker/catch-up-source.js";
import { SHARED_BYTES, SHARED_SLOTS } from "../../../src/verify-worker/verify-worker-protocol.js";

const channels: MessageChannel[] = [];

afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

function setup() {
  const channel = new MessageChannel();
  channels.push(channel);
  const shared = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
  const invalidated = new Set<string>();
  const handled: unknown[] = [];
  const cache: VerificationSource = {
    key: (keyId) => (invalidated.has(keyId) ? null : ({ keyId } as never)),
    group: () => ({ permissions: [] }),
  };
  const source = createCatchUpSource({
    source: cache,
    shared,
    port: channel.port1,
    dispatch: (message) => {
      handled.push(message);
      invalidated.add(String(message));
    },
  });
  const post = (keyId: string) => {
    channel.port2.postMessage(keyId);
    Atomics.add(shared, SHARED_SLOTS.invalidationEpoch, 1);
  };
  return { source, post, handled, channel };
}

describe("createCatchUpSource", () => {
  it("handles a posted invalidation before the next lookup, without yielding to the event loop", () => {
    const { source, post, handled } = setup();
    expect(source.key("ak_a")).not.toBeNull();
    post("ak_a");
    expect(source.key("ak_a")).toBeNull();
    expect(handled).toEqual(["ak_a"]);
  });

  it("handles every waiting message, in the order they were posted", () => {
    const { source, post, handled } = setup();
    post("ak_1");
    post("ak_2");
    post("ak_3");
    source.key("ak_other");
    expect(handled).toEqual(["ak_1", "ak_2", "ak_3"]);
  });

  it("takes nothing from the port while the counter has not moved", () => {
    const { source, channel, handled } = setup();
    channel.port2.postMessage("not signalled");
    expect(source.key("ak_b")).not.toBeNull();
    expect(handled).toEqual([]);
  });
});
