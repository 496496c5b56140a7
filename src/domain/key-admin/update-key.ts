import { requireAdmin } from "../admin-access.js";
import { updateMaskOf } from "../admin-field-mask.js";
import { runMutation } from "../admin-mutation.js";
import type { KeyView } from "../admin-views.js";
import type { Actor, ApiKeyRecord, Labels } from "../api-key.js";
import { DomainError, invalidArgument } from "../errors.js";
import { validateEtag } from "../etag.js";
import { normalizeAllowlist } from "../ip-allowlist.js";
import type { KeyUpdateValues, UpdateKeyInput } from "../key-admin.js";
import { sameLabels, validateLabels } from "../labels.js";
import {
  validateDescription,
  validateExpiry,
  validateName,
  validatePermissions,
  validateUserId,
} from "../validation.js";
import {
  grantablePermissions,
  groupIdOf,
  KEY_EXPIRED,
  type KeyContext,
  requireChangeable,
  sameInstant,
} from "./key-context.js";

/** UPDATABLE_KEY_FIELDS are the UpdateKey field-mask paths, in proto field order. */
export const UPDATABLE_KEY_FIELDS = [
  "name",
  "description",
  "user_id",
  "group_id",
  "permissions",
  "ip_allowlist",
  "expire_time",
  "labels",
] as const;

export type UpdatableKeyField = (typeof UPDATABLE_KEY_FIELDS)[number];

interface KeyChanges {
  name?: string;
  description?: string;
  user_id?: string;
  group_id?: string;
  permissions?: string[];
  ip_allowlist?: string[];
  expire_time?: Date;
  labels?: Labels;
}

/** updateKey: expiry only moves earlier, so a secret never outlives what it was issued for (RotateKey). */
export async function updateKey(ctx: KeyContext, actor: Actor, input: UpdateKeyInput): Promise<KeyView> {
  requireAdmin(actor);
  const keyId = ctx.keyIdOf(input.keyId, "key.key_id");
  const paths = updateMaskOf(input.paths, UPDATABLE_KEY_FIELDS, "update_mask");
  const now = ctx.clock.now();
  // Every named field is validated before anything is read; the tenant-dependent checks follow the read.
  const changes = validateChanges(paths, input.values, now);
  const etag = validateEtag(input.etag ?? "", "key.etag");
  return runMutation(ctx, {
    actor,
    operation: "UpdateKey",
    requestId: input.requestId,
    parameters: {
      keyId,
      changes: Object.fromEntries(
        paths.map((path) => {
          const value = changes[path];
          return [path, value instanceof Date ? value.getTime() : value];
        }),
      ),
      etag,
    },
    now,
    async run() {
      const first = await ctx.liveKey(actor, keyId);
      if (changes.permissions !== undefined) {
        grantablePermissions(input.values.permissions, first.tenantId, "key.permissions");
      }
      if (changes.group_id !== undefined) {
        await ctx.requireGroupOf(first.tenantId, changes.group_id, "key.group_id");
      }
      let changed: UpdatableKeyField[] = [];
      const { before, after, written } = await ctx.writeKey(
        actor,
        first,
        (current) => {
          requireChangeable(current);
          const next = applyKeyChanges(current, changes, now);
          changed = changedKeyFields(current, next, paths);
          return changed.length === 0 ? null : { ...next, updatedAt: now, version: current.version + 1 };
        },
        { etag },
      );
      return ctx.changed(
        after,
        now,
        written ? { action: "key_updated", changedFields: changed, before } : null,
      );
    },
    replay: (stored) => ctx.replayKey(actor, stored),
  });
}

function validateChanges(
  paths: readonly UpdatableKeyField[],
  values: KeyUpdateValues,
  now: Date,
): KeyChanges {
  const changes: KeyChanges = {};
  for (const path of paths) {
    switch (path) {
      case "name":
        changes.name = validateName(values.name, "key.name");
        break;
      case "description":
        changes.description = validateDescription(values.description, "key.description");
        break;
      case "user_id":
        changes.user_id = validateUserId(values.userId, "key.user_id");
        break;
      case "group_id":
        changes.group_id = groupIdOf(values.groupId, "key.group_id");
        break;
      case "permissions":
        changes.permissions = validatePermissions(values.permissions, "key.permissions");
        break;
      case "ip_allowlist":
        changes.ip_allowlist = normalizeAllowlist(values.ipAllowlist, "key.ip_allowlist");
        break;
      case "expire_time":
        if (values.expiresAt === null) {
          throw invalidArgument(
            "key.expire_time",
            "cannot be removed by UpdateKey; expiry may only move earlier (extend or remove it with RotateKey)",
          );
        }
        changes.expire_time = validateExpiry(values.expiresAt, now, "key.expire_time");
        break;
      case "labels":
        changes.labels = validateLabels(values.labels ?? {}, "key.labels");
        break;
    }
  }
  return changes;
}

/** applyKeyChanges applies validated UpdateKey values; the expiry may only move earlier. */
function applyKeyChanges(current: ApiKeyRecord, changes: KeyChanges, now: Date): ApiKeyRecord {
  const expiresAt = changes.expire_time;
  if (expiresAt !== undefined && current.expiresAt !== null) {
    if (current.expiresAt.getTime() <= now.getTime()) {
      throw new DomainError(
        "failed_precondition",
        `key ${current.id} has expired; rotate it to change its expiry`,
        {
          reason: KEY_EXPIRED,
        },
      );
    }
    if (expiresAt.getTime() > current.expiresAt.getTime()) {
      throw invalidArgument(
        "key.expire_time",
        `may only move earlier than the current expiry ${current.expiresAt.toISOString()}; extend it with RotateKey, which issues a new secret`,
      );
    }
  }
  return {
    ...current,
    name: changes.name ?? current.name,
    description: changes.description ?? current.description,
    userId: changes.user_id ?? current.userId,
    groupId: changes.group_id ?? current.groupId,
    permissions: changes.permissions ?? current.permissions,
    ipAllowlist: changes.ip_allowlist ?? current.ipAllowlist,
    expiresAt: expiresAt ?? current.expiresAt,
    labels: changes.labels ?? current.labels,
  };
}

/** changedKeyFields lists the mask paths whose values differ between two versions of a key. */
function changedKeyFields(
  before: ApiKeyRecord,
  after: ApiKeyRecord,
  paths: readonly UpdatableKeyField[],
): UpdatableKeyField[] {
  const differs: Record<UpdatableKeyField, () => boolean> = {
    name: () => before.name !== after.name,
    description: () => before.description !== after.description,
    user_id: () => before.userId !== after.userId,
    group_id: () => before.groupId !== after.groupId,
    permissions: () => !sameList(before.permissions, after.permissions),
    ip_allowlist: () => !sameList(before.ipAllowlist, after.ipAllowlist),
    expire_time: () => !sameInstant(before.expiresAt, after.expiresAt),
    labels: () => !sameLabels(before.labels, after.labels),
  };
  return paths.filter((path) => differs[path]());
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
