/**
 * Database operations keep the deadline of the call they serve (src/domain/call-deadline.ts): each one gets
 * the call's remaining time as the driver's `timeoutMS` (client-side operation timeout: server selection,
 * the round trip and retries fit in it, and the server is sent a matching maxTimeMS) and as an abort signal
 * — the driver's timeoutMS does not end a wait for a connection that is still being opened to a hung
 * server, which without the signal lasts the connect and socket timeouts. One started after the deadline is
 * refused at once without reaching the database. Outside a call (background work) operations keep the
 * client's own timeouts.
 */
import type { Collection, Document } from "mongodb";
import { callDeadline } from "../domain/call-deadline.js";
import { DomainError } from "../domain/errors.js";

/**
 * OPTIONS_ARGUMENT is, for each Collection method that runs an operation, the position of its options
 * argument. Methods not listed (index management, names, watch) pass through untouched.
 */
const OPTIONS_ARGUMENT: ReadonlyMap<string | symbol, number> = new Map([
  ["find", 1],
  ["findOne", 1],
  ["countDocuments", 1],
  ["aggregate", 1],
  ["distinct", 2],
  ["insertOne", 1],
  ["insertMany", 1],
  ["bulkWrite", 1],
  ["updateOne", 2],
  ["updateMany", 2],
  ["replaceOne", 2],
  ["deleteOne", 1],
  ["deleteMany", 1],
  ["findOneAndUpdate", 2],
  ["findOneAndReplace", 2],
  ["findOneAndDelete", 1],
]);

/**
 * operationTimeoutMs is the timeoutMS the next operation gets: the call's remaining time, or undefined
 * outside a call. It refuses (UNAVAILABLE; the transport reports the call's DEADLINE_EXCEEDED) once the
 * deadline has passed, so a call that ran out of time writes nothing more.
 */
export function operationTimeoutMs(): number | undefined {
  const deadline = callDeadline();
  if (deadline === undefined) {
    return undefined;
  }
  const remaining = Math.floor(deadline - Date.now());
  if (remaining < 1) {
    throw new DomainError("unavailable", "the call's deadline passed before the database was asked");
  }
  return remaining;
}

/**
 * deadlineBound returns `collection` with every operation bounded by the deadline of the call it runs for
 * (see operationTimeoutMs): the repositories use it instead of passing the deadline to each call site.
 */
export function deadlineBound<T extends Document>(collection: Collection<T>): Collection<T> {
  return new Proxy(collection, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      const position = OPTIONS_ARGUMENT.get(property);
      if (position === undefined || typeof value !== "function") {
        return value;
      }
      return (...args: unknown[]) => {
        const timeoutMS = operationTimeoutMs();
        if (timeoutMS !== undefined) {
          const options = (args[position] ?? {}) as Record<string, unknown>;
          args.length = Math.max(args.length, position + 1);
          args[position] = { ...options, timeoutMS, signal: AbortSignal.timeout(timeoutMS) };
        }
        return Reflect.apply(value, target, args);
      };
    },
  });
}
