/**
 * The one way tests take hold of an error to inspect it: captureError runs a function (or awaits a promise)
 * that must fail and returns what it threw; if it succeeds, the test fails. For a plain "it throws
 * something like …" prefer expect(...).toThrow / .rejects.
 */

/** captureError returns what `run` throws or what the promise (or async function) rejects with. */
export function captureError(run: PromiseLike<unknown> | (() => PromiseLike<unknown>)): Promise<unknown>;
export function captureError(run: () => unknown): unknown;
export function captureError(run: PromiseLike<unknown> | (() => unknown)): unknown {
  const settled = (outcome: unknown): never => {
    throw new Error(`expected a failure, but it succeeded with ${shown(outcome)}`);
  };
  if (typeof run !== "function") {
    return Promise.resolve(run).then(settled, (error: unknown) => error);
  }
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return error;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(settled, (error: unknown) => error);
  }
  return settled(result);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function shown(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, item) => (typeof item === "bigint" ? `${item}n` : item)) ?? "undefined"
    );
  } catch {
    return String(value);
  }
}
