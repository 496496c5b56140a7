/**
 * Effective permissions: what a key may do at verification time. A key grants its own permissions plus its
 * group's current ones, so editing a group changes what its keys may do at their next verification.
 */

/**
 * effectivePermissions is the union of a key's own permissions and its group's (null when the key has no
 * group, or its group is gone), sorted and deduplicated.
 */
export function effectivePermissions(
  own: readonly string[],
  groupPermissions: readonly string[] | null,
): string[] {
  if (groupPermissions === null || groupPermissions.length === 0) {
    return [...new Set(own)].sort();
  }
  return [...new Set([...own, ...groupPermissions])].sort();
}

const NONE_MISSING: readonly string[] = Object.freeze([]);

/** isGranted finds `permission` in `effective` (sorted, no duplicates) by binary search. */
function isGranted(effective: readonly string[], permission: string): boolean {
  let low = 0;
  let high = effective.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const candidate = effective[middle] as string;
    if (candidate === permission) {
      return true;
    }
    if (candidate < permission) {
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return false;
}

/**
 * missingPermissions lists the `required` permissions that `effective` (sorted and deduplicated, as
 * effectivePermissions returns it) lacks, deduplicated, in the order of `required`; empty when every one is
 * granted. Matching is exact: there are no wildcards, so a permission can never grant more than its own name.
 * It runs on every VerifyKey call that requires permissions, so it searches the sorted list instead of
 * building a set, and a call that lacks nothing allocates nothing.
 */
export function missingPermissions(
  effective: readonly string[],
  required: readonly string[],
): readonly string[] {
  let missing: string[] | null = null;
  for (const permission of required) {
    if (!isGranted(effective, permission)) {
      if (missing === null) {
        missing = [permission];
      } else if (!missing.includes(permission)) {
        missing.push(permission);
      }
    }
  }
  return missing ?? NONE_MISSING;
}
