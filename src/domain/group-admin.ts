/** Authorization group use cases of KeyAdminService: named permission sets of one tenant. */
import { canSeeTenantResource, requireAdmin, resolveTenant } from "./admin-access.js";
import { groupFieldChanges } from "./admin-field-changes.js";
import { updateMaskOf } from "./admin-field-mask.js";
import { type GuardedRequest, runMutation, writeGuarded } from "./admin-mutation.js";
import { type GroupView, groupView } from "./admin-views.js";
import { type Actor, type GroupRecord, type Labels, SUPERUSER_PERMISSION } from "./api-key.js";
import { DomainError, invalidArgument } from "./errors.js";
import { validateEtag } from "./etag.js";
import { newGroupId } from "./ids.js";
import type { KeyAdminDependencies } from "./key-admin.js";
import { NO_LABELS, sameLabels, validateLabels } from "./labels.js";
import { pageTokenScope } from "./page-token.js";
import { existingTenant } from "./tenant-admin.js";
import {
  validateDescription,
  validateGroupId,
  validateName,
  validatePageSize,
  validatePermissions,
} from "./validation.js";

export const GROUP_IN_USE = "GROUP_IN_USE";

export const UPDATABLE_GROUP_FIELDS = ["name", "description", "permissions", "labels"] as const;

export type UpdatableGroupField = (typeof UPDATABLE_GROUP_FIELDS)[number];

export type GroupAdminDependencies = Omit<
  KeyAdminDependencies,
  "keyFormat" | "hasher" | "defaultKeyLimit" | "expiringSoonWindowMs"
>;

export interface CreateGroupInput {
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly string[];
  /** labels are the group's labels (labels.ts); absent = none. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly requestId: string;
}

export interface ListGroupsInput {
  readonly tenantId: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface GroupListing {
  readonly groups: readonly GroupView[];
  /** nextPageToken is "" on the last page. */
  readonly nextPageToken: string;
}

/** UpdateGroupInput: only the masked values are read. */
export interface UpdateGroupInput extends GuardedRequest {
  readonly groupId: string;
  readonly paths: readonly string[];
  readonly values: {
    readonly name: string;
    readonly description: string;
    readonly permissions: readonly string[];
    readonly labels?: Readonly<Record<string, string>>;
  };
}

export interface DeleteGroupInput extends GuardedRequest {
  readonly groupId: string;
}

export interface GroupAdmin {
  createGroup(actor: Actor, input: CreateGroupInput): Promise<GroupView>;
  getGroup(actor: Actor, groupId: string): Promise<GroupView>;
  listGroups(actor: Actor, input: ListGroupsInput): Promise<GroupListing>;
  updateGroup(actor: Actor, input: UpdateGroupInput): Promise<GroupView>;
  deleteGroup(actor: Actor, input: DeleteGroupInput): Promise<void>;
}

export function createGroupAdmin(deps: GroupAdminDependencies): GroupAdmin {
  const { groups, clock } = deps;

  const visibleGroup = async (actor: Actor, groupId: string): Promise<GroupRecord> => {
    const group = await groups.findById(groupId);
    if (group === null || !canSeeTenantResource(actor, group.tenantId)) {
      throw new DomainError("not_found", `group ${groupId} not found`);
    }
    return group;
  };

  const withCount = async (group: GroupRecord): Promise<GroupView> =>
    groupView(group, await deps.keys.countByGroup(group.tenantId, group.id));

  // A replayed request answers with the group as it is now.
  const replayGroup = (actor: Actor) => async (groupId: string) =>
    withCount(await visibleGroup(actor, groupId));

  return {
    async createGroup(actor, input) {
      requireAdmin(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: true });
      const name = validateName(input.name, "name");
      const description = validateDescription(input.description, "description");
      const permissions = groupPermissions(input.permissions, "permissions");
      const labels = validateLabels(input.labels ?? NO_LABELS, "labels");
      const now = clock.now();
      return runMutation(deps, {
        actor,
        operation: "CreateGroup",
        requestId: input.requestId,
        parameters: { tenantId, name, description, permissions, labels },
        now,
        async run() {
          await existingTenant(deps.tenants, tenantId);
          const group: GroupRecord = {
            id: newGroupId(deps.random),
            tenantId,
            name,
            description,
            permissions,
            labels,
            createdAt: now,
            updatedAt: now,
            version: 1,
          };
          await groups.insert(group);
          const changedFields = [
            "name",
            "description",
            "permissions",
            ...(labels === NO_LABELS ? [] : ["labels"]),
          ];
          return {
            value: groupView(group, 0),
            stored: group.id,
            audit: {
              action: "group_created",
              target: {
                tenantId,
                groupId: group.id,
                changes: groupFieldChanges(null, group, changedFields),
                changedFields,
              },
            },
          };
        },
        replay: replayGroup(actor),
      });
    },

    async getGroup(actor, groupId) {
      requireAdmin(actor);
      return withCount(await visibleGroup(actor, validateGroupId(groupId, "group_id")));
    },

    async listGroups(actor, input) {
      requireAdmin(actor);
      const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: false });
      const limit = validatePageSize(input.pageSize, "page_size");
      const scope = pageTokenScope("groups", tenantId);
      const after = input.pageToken === "" ? null : deps.pageTokens.decode(input.pageToken, scope);
      await existingTenant(deps.tenants, tenantId);
      const page = await groups.list(tenantId, limit, after);
      return {
        groups: await Promise.all(page.items.map(withCount)),
        nextPageToken: page.nextCursor === null ? "" : deps.pageTokens.encode(scope, page.nextCursor),
      };
    },

    async updateGroup(actor, input) {
      requireAdmin(actor);
      const groupId = validateGroupId(input.groupId, "group.group_id");
      const paths = updateMaskOf(input.paths, UPDATABLE_GROUP_FIELDS, "update_mask");
      const changes: { name?: string; description?: string; permissions?: string[]; labels?: Labels } = {};
      for (const path of paths) {
        switch (path) {
          case "name":
            changes.name = validateName(input.values.name, "group.name");
            break;
          case "description":
            changes.description = validateDescription(input.values.description, "group.description");
            break;
          case "permissions":
            changes.permissions = groupPermissions(input.values.permissions, "group.permissions");
            break;
          case "labels":
            changes.labels = validateLabels(input.values.labels ?? NO_LABELS, "group.labels");
            break;
        }
      }
      const etag = validateEtag(input.etag ?? "", "group.etag");
      const now = clock.now();
      return runMutation(deps, {
        actor,
        operation: "UpdateGroup",
        requestId: input.requestId,
        parameters: { groupId, changes, etag },
        now,
        async run() {
          let changed: UpdatableGroupField[] = [];
          const { before, after, written } = await writeGuarded(await visibleGroup(actor, groupId), {
            what: "group",
            etag,
            reload: () => visibleGroup(actor, groupId),
            change: (current) => {
              const next = { ...current, ...changes, updatedAt: now, version: current.version + 1 };
              changed = UPDATABLE_GROUP_FIELDS.filter((field) => differs(current[field], next[field]));
              return changed.length === 0 ? null : next;
            },
            write: (next, version) => groups.replace(next, version),
          });
          // Also when nothing changed: a retry after a failed notification must still reach every replica.
          await deps.notifier.groupChanged(groupId);
          return {
            value: await withCount(after),
            stored: groupId,
            audit: written
              ? {
                  action: "group_updated",
                  target: {
                    tenantId: after.tenantId,
                    groupId,
                    changedFields: changed,
                    changes: groupFieldChanges(before, after, changed),
                  },
                }
              : null,
          };
        },
        replay: replayGroup(actor),
      });
    },

    async deleteGroup(actor, input) {
      requireAdmin(actor);
      const groupId = validateGroupId(input.groupId, "group_id");
      const etag = validateEtag(input.etag ?? "", "etag");
      const now = clock.now();
      await runMutation(deps, {
        actor,
        operation: "DeleteGroup",
        requestId: input.requestId,
        parameters: { groupId, etag },
        now,
        async run() {
          const { before } = await writeGuarded(await visibleGroup(actor, groupId), {
            what: "group",
            etag,
            reload: () => visibleGroup(actor, groupId),
            change: async (current) => {
              const used = await deps.keys.countByGroup(current.tenantId, groupId);
              if (used > 0) {
                throw new DomainError(
                  "failed_precondition",
                  `group ${groupId} is still used by ${used} key${used === 1 ? "" : "s"}; move those keys to another group or delete them first`,
                  { reason: GROUP_IN_USE },
                );
              }
              return current;
            },
            write: (_current, version) => groups.delete(groupId, version),
          });
          await deps.notifier.groupChanged(groupId);
          return {
            value: undefined,
            stored: groupId,
            audit: { action: "group_deleted", target: { tenantId: before.tenantId, groupId } },
          };
        },
        replay: async () => undefined,
      });
    },
  };
}

/** groupPermissions validates a group's permissions; the super-user permission is never a group's. */
function groupPermissions(values: readonly string[], field: string): string[] {
  const permissions = validatePermissions(values, field);
  const index = values.indexOf(SUPERUSER_PERMISSION);
  if (index !== -1) {
    throw invalidArgument(
      `${field}[${index}]`,
      `${JSON.stringify(SUPERUSER_PERMISSION)} cannot be granted through a group; it belongs to system-tenant keys only`,
    );
  }
  return permissions;
}

function differs(a: string | readonly string[] | Labels, b: string | readonly string[] | Labels): boolean {
  if (typeof a === "string" || typeof b === "string") {
    return a !== b;
  }
  if (!Array.isArray(a) || !Array.isArray(b)) {
    return !sameLabels(a as Labels, b as Labels);
  }
  return a.length !== b.length || a.some((value, i) => value !== b[i]);
}
