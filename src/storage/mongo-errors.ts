/** Driver errors become domain errors, so no raw driver message ever leaves src/storage. */
import {
  type Collection,
  type Document,
  MongoError,
  MongoServerError,
  type OptionalUnlessRequiredId,
} from "mongodb";
import { DomainError } from "../domain/errors.js";

export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** duplicateAsAlreadyExists turns a unique-index violation into already_exists saying `message`. */
export function duplicateAsAlreadyExists(error: unknown, message: string): unknown {
  return isDuplicateKeyError(error) ? new DomainError("already_exists", message) : error;
}

/** insertNew inserts a document whose unique keys must be new: a clash is already_exists saying `message`. */
export async function insertNew<T extends Document>(
  collection: Collection<T>,
  document: OptionalUnlessRequiredId<T>,
  message: string,
): Promise<void> {
  try {
    await collection.insertOne(document);
  } catch (error) {
    throw duplicateAsAlreadyExists(error, message);
  }
}

/** toStorageError makes a driver failure UNAVAILABLE (the cause kept); other errors pass through unchanged. */
export function toStorageError(error: unknown): unknown {
  // An operation aborted at its call's deadline (operation-deadline.ts) rejects with the signal's reason.
  if (error instanceof MongoError || (error instanceof DOMException && error.name === "TimeoutError")) {
    return new DomainError("unavailable", "the key store is unavailable, try again", { cause: error });
  }
  return error;
}

/** guard runs a storage operation, translating its failure with toStorageError. */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStorageError(error);
  }
}
