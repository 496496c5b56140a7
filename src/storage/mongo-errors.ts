/**
 * Translation of driver errors into domain errors, so no raw driver message ever leaves src/storage.
 */
import { MongoError, MongoServerError } from "mongodb";
import { DomainError } from "../domain/errors.js";

/** DUPLICATE_KEY is MongoDB's error code for a unique-index violation. */
export const DUPLICATE_KEY = 11000;

/** isDuplicateKeyError tells whether `error` is a unique-index violation. */
export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * toStorageError turns anything the driver threw into a domain error: an unavailable error (the database
 * could not answer: network, selection timeout, server errors, an operation aborted at its deadline)
 * carrying the driver error as its cause.
 * Errors that are already domain errors, or programming errors (TypeError...), pass through unchanged.
 */
export function toStorageError(error: unknown): unknown {
  // An operation aborted at its call's deadline (operation-deadline.ts) rejects with the signal's reason.
  if (error instanceof MongoError || (error instanceof DOMException && error.name === "TimeoutError")) {
    return new DomainError("unavailable", "the key store is unavailable, try again", { cause: error });
  }
  return error;
}

/** guard runs a storage operation and translates its failure with toStorageError. */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStorageError(error);
  }
}
