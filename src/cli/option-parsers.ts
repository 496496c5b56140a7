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

/** parseNonNegativeInt is a commander option parser for a whole number >= 0. */
export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a whole number >= 0");
  }
  return Number(value);
}
