/**
 * PortChannel over a real MessageChannel: calls get their handler's result or error (an unavailable error
 * stays one; other errors keep only their message), notes reach their handler, results are handled in
 * order with `atResult` running before any later message, and closing fails what is pending.
 */
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../../src/domain/errors.js";
import { createPortChannel } from "../../../src/verify-worker/port-channel.js";

type ServerCalls = {
  double(value: number): number;
  later(value: string): Promise<string>;
  down(reason: string): never;
  broken(reason: string): never;
};
type ServerNotes = { remember(value: string): void };
// biome-ignore lint/complexity/noBannedTypes: this side answers nothing.
type Nothing = {};

const channels: MessageChannel[] = [];

afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

function connect() {
  const channel = new MessageChannel();
  channels.push(channel);
  const remembered: string[] = [];
  const server = createPortChannel<Nothing, Nothing, ServerCalls, ServerNotes>(channel.port2, {
    calls: {
      double: (value) => value * 2,
      later: async (value) => `later ${value}`,
      down: (reason) => {
        throw new UnavailableError(`down: ${reason}`);
      },
      broken: (reason) => {
        const error = new Error(`broken: ${reason}`);
        (error as Error & { secret?: string }).secret = "must not cross";
        throw error;
      },
    },
    notes: { remember: (value) => remembered.push(value) },
  });
  const client = createPortChannel<ServerCalls, ServerNotes, Nothing, Nothing>(channel.port1, {
    calls: {},
    notes: {},
  });
  channel.port2.on("message", (message: unknown) => server.dispatch(message));
  channel.port1.on("message", (message: unknown) => client.dispatch(message));
  return { client, remembered };
}

describe("createPortChannel", () => {
  it("resolves a call with the handler's value, synchronous or not", async () => {
    const { client } = connect();
    expect(await client.call("double", 21)).toBe(42);
    expect(await client.call("later", "x")).toBe("later x");
    expect(client.pending).toBe(0);
  });

  it("rejects with an UnavailableError when the handler failed with one, with its message only", async () => {
    const { client } = connect();
    const error = await client.call("down", "db").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe("down: db");
  });

  it("rejects with a plain Error carrying nothing but the message for any other failure", async () => {
    const { client } = connect();
    const error = await client.call("broken", "bug").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe("broken: bug");
    expect(Object.keys(error as object)).toEqual([]);
  });

  it("delivers notes in order", async () => {
    const { client, remembered } = connect();
    client.note("remember", "a");
    client.note("remember", "b");
    await client.call("double", 1);
    expect(remembered).toEqual(["a", "b"]);
  });

  it("runs atResult while the result is dispatched, before a later message is handled", async () => {
    const channel = new MessageChannel();
    channels.push(channel);
    const seen: string[] = [];
    const client = createPortChannel<ServerCalls, Nothing, Nothing, ServerNotes>(channel.port1, {
      calls: {},
      notes: { remember: (value) => seen.push(value) },
    });
    // The other side answers the call and posts a note right behind the result.
    channel.port2.on("message", (message: { t: string; id: number }) => {
      channel.port2.postMessage({ t: "result", id: message.id, value: 1 });
      channel.port2.postMessage({ t: "note", op: "remember", arg: "after the result" });
    });
    channel.port1.on("message", (message: unknown) => client.dispatch(message));
    const observed = await client.call("double", 0, (value) => ({ value, seenAtResult: [...seen] }));
    expect(observed).toEqual({ value: 1, seenAtResult: [] });
  });

  it("fails pending and later calls once closed", async () => {
    const channel = new MessageChannel();
    channels.push(channel);
    const client = createPortChannel<ServerCalls, Nothing, Nothing, Nothing>(channel.port1, {
      calls: {},
      notes: {},
    });
    const pending = client.call("double", 1);
    client.close(new UnavailableError("gone"));
    await expect(pending).rejects.toThrow("gone");
    await expect(client.call("double", 2)).rejects.toThrow("gone");
    expect(client.pending).toBe(0);
  });

  it("answers a call for an operation it does not know with an error", async () => {
    const { client } = connect();
    await expect(client.call("missing" as "double", 1)).rejects.toThrow('no handler for call "missing"');
  });
});
