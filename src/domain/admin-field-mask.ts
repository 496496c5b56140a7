/** Field masks of the Update RPCs; paths are proto field names and an empty mask is refused. */
import { invalidArgument } from "./errors.js";

/** updateMaskOf validates field-mask paths against `allowed` and returns them in its order, deduplicated. */
export function updateMaskOf<T extends string>(
  paths: readonly string[],
  allowed: readonly T[],
  field: string,
): T[] {
  if (paths.length === 0) {
    throw invalidArgument(field, `must name at least one field to change: ${allowed.join(", ")}`);
  }
  const named = new Set<string>();
  paths.forEach((path, i) => {
    if (path === "") {
      throw invalidArgument(`${field}.paths[${i}]`, "is empty");
    }
    if (!(allowed as readonly string[]).includes(path)) {
      throw invalidArgument(
        `${field}.paths[${i}]`,
        `${JSON.stringify(path.slice(0, 60))} is not a field that can be changed; expected one of ${allowed.join(", ")}`,
      );
    }
    named.add(path);
  });
  return allowed.filter((path) => named.has(path));
}
