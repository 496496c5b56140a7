import { ConnectError } from "@connectrpc/connect";

/**
 * reportAfter passes a response stream through and calls `report` once when it ends: with the error it
 * failed with, or undefined when it completed (or the reader stopped early).
 */
export async function* reportAfter<T>(
  messages: AsyncIterable<T>,
  report: (error: ConnectError | undefined) => void,
): AsyncGenerator<T> {
  let error: ConnectError | undefined;
  try {
    yield* messages;
  } catch (thrown) {
    error = ConnectError.from(thrown);
    throw thrown;
  } finally {
    report(error);
  }
}
