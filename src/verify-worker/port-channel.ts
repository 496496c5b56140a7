/**
 * PortChannel: typed calls and notes over one MessagePort, in both directions, between the main thread and
 * the verify worker (src/verify-worker/verify-worker-host.ts and verify-worker-main.ts).
 *
 * - A call gets exactly one result: the value the other side's handler returned, or its error. Errors
 *   cross as a kind and a message only ("unavailable" becomes an UnavailableError again; anything else an
 *   Error), never a stack or a cause, which may hold what the other side must not see.
 * - A note is fire-and-forget (usage batches, log lines, cache invalidations).
 * - Everything travels on one port, so the other side handles messages in the order they were posted: a
 *   lookup's result posted before an invalidation is handled before it, and the other way round. The
 *   verify worker relies on that (see docs/architecture.md, "The verify worker").
 *
 * `dispatch` is public so a side may also drain its port synchronously (receiveMessageOnPort) and hand the
 * messages over in order.
 */
import { UnavailableError } from "../domain/errors.js";

/** PortLike is what the channel needs of a MessagePort, a Worker or a parentPort. */
export interface PortLike {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
}

/** Handlers maps operation names to handlers of one argument. */
// biome-ignore lint/suspicious/noExplicitAny: handler maps are checked per protocol, not here.
export type Handlers = Record<string, (arg: any) => unknown>;

/** CallResult is what a call resolves with: the awaited return type of the handler. */
export type CallResult<H extends Handlers, K extends keyof H> = Awaited<ReturnType<H[K]>>;

/** SerializedError is an error as it crosses the port. */
export interface SerializedError {
  readonly kind: "unavailable" | "error";
  readonly message: string;
}

/** ChannelMessage is one message on the port. */
export type ChannelMessage =
  | { readonly t: "call"; readonly id: number; readonly op: string; readonly arg: unknown }
  | { readonly t: "result"; readonly id: number; readonly value: unknown }
  | { readonly t: "failure"; readonly id: number; readonly error: SerializedError }
  | { readonly t: "note"; readonly op: string; readonly arg: unknown };

/** PortChannelOptions are the handlers of this side. */
export interface PortChannelOptions<InCalls extends Handlers, InNotes extends Handlers> {
  readonly calls: InCalls;
  readonly notes: InNotes;
  /** onHandlerError hears about a note handler that threw (a call handler's error goes to the caller). */
  readonly onHandlerError?: (error: unknown, op: string) => void;
}

/** PortChannel sends this side's calls and notes, and dispatches what arrives. */
export interface PortChannel<OutCalls extends Handlers, OutNotes extends Handlers> {
  /**
   * call asks the other side and resolves with its handler's result. `atResult`, when given, runs
   * synchronously while the result message is dispatched (before any later message is handled) and its
   * return value is what the call resolves with.
   */
  call<K extends keyof OutCalls & string, R = CallResult<OutCalls, K>>(
    op: K,
    arg: Parameters<OutCalls[K]>[0],
    atResult?: (value: CallResult<OutCalls, K>) => R,
  ): Promise<R>;
  /** note tells the other side something; `transfer` moves ArrayBuffers instead of copying them. */
  note<K extends keyof OutNotes & string>(
    op: K,
    arg: Parameters<OutNotes[K]>[0],
    transfer?: readonly ArrayBuffer[],
  ): void;
  /** dispatch handles one message that arrived on the port. */
  dispatch(message: unknown): void;
  /** close fails every pending call with `error`; later calls fail at once. */
  close(error: Error): void;
  /** pending is the number of calls waiting for their result. */
  readonly pending: number;
}

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly atResult: ((value: never) => unknown) | undefined;
}

/** serializeError keeps what may cross: the kind and the message. */
export function serializeError(error: unknown): SerializedError {
  const message = error instanceof Error ? error.message : String(error);
  return { kind: error instanceof UnavailableError ? "unavailable" : "error", message };
}

/** deserializeError rebuilds an error that crossed the port. */
export function deserializeError(error: SerializedError): Error {
  return error.kind === "unavailable" ? new UnavailableError(error.message) : new Error(error.message);
}

/** createPortChannel builds a channel over `port`; feed it every message that arrives through dispatch. */
export function createPortChannel<
  OutCalls extends Handlers,
  OutNotes extends Handlers,
  InCalls extends Handlers,
  InNotes extends Handlers,
>(port: PortLike, options: PortChannelOptions<InCalls, InNotes>): PortChannel<OutCalls, OutNotes> {
  const waiting = new Map<number, PendingCall>();
  let nextId = 1;
  let closedWith: Error | null = null;

  function post(message: ChannelMessage, transfer?: readonly ArrayBuffer[]): void {
    port.postMessage(message, transfer);
  }

  function answer(id: number, run: () => unknown): void {
    let outcome: unknown;
    try {
      outcome = run();
    } catch (error) {
      post({ t: "failure", id, error: serializeError(error) });
      return;
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (value: unknown) => post({ t: "result", id, value }),
        (error: unknown) => post({ t: "failure", id, error: serializeError(error) }),
      );
    } else {
      post({ t: "result", id, value: outcome });
    }
  }

  function settle(id: number, run: (call: PendingCall) => void): void {
    const call = waiting.get(id);
    if (call !== undefined) {
      waiting.delete(id);
      run(call);
    }
  }

  return {
    call(op, arg, atResult) {
      if (closedWith !== null) {
        return Promise.reject(closedWith);
      }
      const id = nextId;
      nextId = nextId === Number.MAX_SAFE_INTEGER ? 1 : nextId + 1;
      return new Promise((resolve, reject) => {
        waiting.set(id, {
          resolve: resolve as (value: unknown) => void,
          reject,
          atResult: atResult as ((value: never) => unknown) | undefined,
        });
        post({ t: "call", id, op, arg });
      });
    },
    note(op, arg, transfer) {
      post({ t: "note", op, arg }, transfer);
    },
    dispatch(raw) {
      const message = raw as ChannelMessage;
      switch (message.t) {
        case "call": {
          const handler = options.calls[message.op];
          answer(message.id, () => {
            if (handler === undefined) {
              throw new Error(`no handler for call "${message.op}"`);
            }
            return handler(message.arg);
          });
          break;
        }
        case "result":
          settle(message.id, (call) => {
            if (call.atResult === undefined) {
              call.resolve(message.value);
              return;
            }
            try {
              call.resolve(call.atResult(message.value as never));
            } catch (error) {
              call.reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
          break;
        case "failure":
          settle(message.id, (call) => call.reject(deserializeError(message.error)));
          break;
        case "note": {
          const handler = options.notes[message.op];
          try {
            if (handler === undefined) {
              throw new Error(`no handler for note "${message.op}"`);
            }
            handler(message.arg);
          } catch (error) {
            options.onHandlerError?.(error, message.op);
          }
          break;
        }
      }
    },
    close(error) {
      closedWith ??= error;
      for (const call of waiting.values()) {
        call.reject(error);
      }
      waiting.clear();
    },
    get pending() {
      return waiting.size;
    },
  };
}
