import { InvalidArgumentError } from "commander";

/** collectList is a commander option parser for repeatable, comma-separable values ("a,b" --x c). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return [...(previous ?? []), ...items];
}

/** parsePositiveInt is a commander option parser for a whole number >= 1. */
export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a whole number >= 1");
  }
  return Number(value);
}

/**
 * collectLabels is a commander option parser for repeatable "key=value" labels (the value may be empty or
 * contain '='; the server checks both parts). A repeated key keeps its last value.
 */
export function collectLabels(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) {
    throw new InvalidArgumentError('expected key=value, for example "tier=gold"');
  }
  return { ...(previous ?? {}), [value.slice(0, at)]: value.slice(at + 1) };
}
