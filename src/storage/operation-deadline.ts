/**
 * Database operations keep the deadline of the call they serve, as the driver's `timeoutMS` and as an abort
 * signal; one started after the deadline is refused (docs/architecture.md, "Deadlines reach MongoDB").
 */
import type { Collection, Document } from "mongodb";
import { callDeadline } from "../domain/call-deadline.js";
import { DomainError } from "../domain/errors.js";

// The position of the options argument of each Collection method that runs an operation; others pass through.
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

/** operationTimeoutMs is the call's remaining time (undefined outside a call); past the deadline it refuses. */
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

/** deadlineBound returns `collection` with every operation bounded by the deadline of the call it serves. */
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
