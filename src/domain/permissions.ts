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

/**
 * missingPermissions lists the `required` permissions that `effective` lacks, deduplicated, in the order of
 * `required`; empty when every one is granted. Matching is exact: there are no wildcards, so a permission
 * can never grant more than its own name.
 */
export function missingPermissions(effective: readonly string[], required: readonly string[]): string[] {
  if (required.length === 0) {
    return [];
  }
  const granted = new Set(effective);
  const missing: string[] = [];
  for (const permission of required) {
    if (!granted.has(permission) && !missing.includes(permission)) {
      missing.push(permission);
    }
  }
  return missing;
}
