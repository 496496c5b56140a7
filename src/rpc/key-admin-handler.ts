/**
 * KeyAdminService implementation for both transports: authenticate the caller from the call metadata, map
 * the request to a use case, map the answer back. Rules live in the use cases (src/domain/*-admin.ts);
 * errors travel as domain errors to the one error table (error-boundary.ts).
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AdminAuthenticator } from "../domain/admin-access.js";
import type { Actor } from "../domain/api-key.js";
import type { Bootstrapper } from "../domain/bootstrap.js";
import { invalidArgument } from "../domain/errors.js";
import type { GroupAdmin } from "../domain/group-admin.js";
import type { DeleteKeyInput, KeyAdmin } from "../domain/key-admin.js";
import type { TenantAdmin } from "../domain/tenant-admin.js";
import type { UsageStatsReader } from "../domain/usage-stats.js";
import type { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import type { Key } from "../gen/apikeys/v1/key_pb.js";
import { authenticateAdminCall, peerIpOf } from "./admin-caller.js";
import { callerRoles } from "./caller-role.js";
import { kPeerAddress, kRequestId } from "./context-keys.js";
import {
  dateOf,
  expirationStateFilterOf,
  groupMessageOf,
  issuedKeyFields,
  keyMessageOf,
  keyStatusFilterOf,
  millisecondsOf,
  tenantMessageOf,
} from "./key-mappers.js";

/** KeyAdminHandlerDependencies are the use cases the handler calls. */
export interface KeyAdminHandlerDependencies {
  readonly access: AdminAuthenticator;
  readonly keys: KeyAdmin;
  readonly groups: GroupAdmin;
  readonly tenants: TenantAdmin;
  readonly bootstrapper: Bootstrapper;
  /** usageStats gives GetKey and ListKeys each key's verifications of the last 24 hours. */
  readonly usageStats: Pick<UsageStatsReader, "requestsLast24h">;
}

/** createKeyAdminHandler builds the KeyAdminService implementation served by both transports. */
export function createKeyAdminHandler(
  deps: KeyAdminHandlerDependencies,
): ServiceImpl<typeof KeyAdminService> {
  const { keys, groups, tenants } = deps;
  const actorOf = (context: HandlerContext): Promise<Actor> => authenticateAdminCall(deps.access, context);

  /** withRequestsLast24h sets each key's requests_last_24h, one statistics read per tenant. */
  async function withRequestsLast24h(messages: Key[]): Promise<Key[]> {
    const byTenant = new Map<string, Key[]>();
    for (const message of messages) {
      byTenant.set(message.tenantId, [...(byTenant.get(message.tenantId) ?? []), message]);
    }
    for (const [tenantId, tenantKeys] of byTenant) {
      const counts = await deps.usageStats.requestsLast24h(
        tenantId,
        tenantKeys.map((message) => message.keyId),
      );
      for (const message of tenantKeys) {
        message.requestsLast24h = BigInt(counts.get(message.keyId) ?? 0);
      }
    }
    return messages;
  }

  return {
    async bootstrap(request, context) {
      const issued = await deps.bootstrapper.bootstrap({
        token: request.bootstrapToken,
        name: request.name,
        peer: peerIpOf(context.values.get(kPeerAddress)),
        callId: context.values.get(kRequestId),
      });
      const { key, secret } = issuedKeyFields(issued);
      return { key, secret };
    },

    async createKey(request, context) {
      const actor = await actorOf(context);
      const issued = await keys.createKey(actor, {
        tenantId: request.tenantId,
        name: request.name,
        description: request.description,
        userId: request.userId,
        groupId: request.groupId,
        permissions: request.permissions,
        ipAllowlist: request.ipAllowlist,
        expiresAt: dateOf(request.expireTime, "expire_time"),
        labels: request.labels,
        requestId: request.requestId,
      });
      return issuedKeyFields(issued);
    },

    async getKey(request, context) {
      const actor = await actorOf(context);
      const [key] = await withRequestsLast24h([keyMessageOf(await keys.getKey(actor, request.keyId))]);
      return { key };
    },

    async listKeys(request, context) {
      const actor = await actorOf(context);
      const listing = await keys.listKeys(actor, {
        tenantId: request.tenantId,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
        status: keyStatusFilterOf(request.status),
        expirationState: expirationStateFilterOf(request.expirationState),
        userId: request.userId,
        groupId: request.groupId,
        nameQuery: request.nameQuery,
        showDeleted: request.showDeleted,
        label: request.label,
      });
      return {
        keys: await withRequestsLast24h(listing.keys.map(keyMessageOf)),
        nextPageToken: listing.nextPageToken,
        tenant: listing.tenant === null ? undefined : tenantMessageOf(listing.tenant),
      };
    },

    async updateKey(request, context) {
      const actor = await actorOf(context);
      const key = request.key;
      if (key === undefined) {
        throw invalidArgument("key", "is required (with key_id and the fields named in update_mask)");
      }
      const updated = await keys.updateKey(actor, {
        keyId: key.keyId,
        paths: request.updateMask?.paths ?? [],
        values: {
          name: key.name,
          description: key.description,
          userId: key.userId,
          groupId: key.groupId,
          permissions: key.permissions,
          ipAllowlist: key.ipAllowlist,
          expiresAt: dateOf(key.expireTime, "key.expire_time"),
          labels: key.labels,
        },
        requestId: request.requestId,
        etag: key.etag,
      });
      return { key: keyMessageOf(updated) };
    },

    async rotateKey(request, context) {
      const actor = await actorOf(context);
      const issued = await keys.rotateKey(actor, {
        keyId: request.keyId,
        overlapMs: millisecondsOf(request.overlap, "overlap"),
        expiresAt: dateOf(request.expireTime, "expire_time"),
        requestId: request.requestId,
        etag: request.etag,
      });
      return issuedKeyFields(issued);
    },

    async revokeKey(request, context) {
      const actor = await actorOf(context);
      const input = { ...keyChangeOf(request), reason: request.reason };
      return { key: keyMessageOf(await keys.revokeKey(actor, input)) };
    },

    async disableKey(request, context) {
      const actor = await actorOf(context);
      const input = { ...keyChangeOf(request), reason: request.reason };
      return { key: keyMessageOf(await keys.disableKey(actor, input)) };
    },

    async enableKey(request, context) {
      const actor = await actorOf(context);
      return { key: keyMessageOf(await keys.enableKey(actor, keyChangeOf(request))) };
    },

    async deleteKey(request, context) {
      const actor = await actorOf(context);
      return { key: keyMessageOf(await keys.deleteKey(actor, keyChangeOf(request))) };
    },

    async createGroup(request, context) {
      const actor = await actorOf(context);
      const group = await groups.createGroup(actor, {
        tenantId: request.tenantId,
        name: request.name,
        description: request.description,
        permissions: request.permissions,
        labels: request.labels,
        requestId: request.requestId,
      });
      return { group: groupMessageOf(group) };
    },

    async getGroup(request, context) {
      const actor = await actorOf(context);
      return { group: groupMessageOf(await groups.getGroup(actor, request.groupId)) };
    },

    async listGroups(request, context) {
      const actor = await actorOf(context);
      const listing = await groups.listGroups(actor, {
        tenantId: request.tenantId,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { groups: listing.groups.map(groupMessageOf), nextPageToken: listing.nextPageToken };
    },

    async updateGroup(request, context) {
      const actor = await actorOf(context);
      const group = request.group;
      if (group === undefined) {
        throw invalidArgument("group", "is required (with group_id and the fields named in update_mask)");
      }
      const updated = await groups.updateGroup(actor, {
        groupId: group.groupId,
        paths: request.updateMask?.paths ?? [],
        values: {
          name: group.name,
          description: group.description,
          permissions: group.permissions,
          labels: group.labels,
        },
        requestId: request.requestId,
        etag: group.etag,
      });
      return { group: groupMessageOf(updated) };
    },

    async deleteGroup(request, context) {
      const actor = await actorOf(context);
      await groups.deleteGroup(actor, {
        groupId: request.groupId,
        requestId: request.requestId,
        etag: request.etag,
      });
      return {};
    },

    async createTenant(request, context) {
      const actor = await actorOf(context);
      const tenant = await tenants.createTenant(actor, {
        tenantId: request.tenantId,
        displayName: request.displayName,
        keyLimit: request.keyLimit ?? null,
        requestId: request.requestId,
      });
      return { tenant: tenantMessageOf(tenant) };
    },

    async listTenants(request, context) {
      const actor = await actorOf(context);
      const listing = await tenants.listTenants(actor, {
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { tenants: listing.tenants.map(tenantMessageOf), nextPageToken: listing.nextPageToken };
    },

    async getTenant(request, context) {
      const actor = await actorOf(context);
      return { tenant: tenantMessageOf(await tenants.getTenant(actor, request.tenantId)) };
    },

    async updateTenant(request, context) {
      const actor = await actorOf(context);
      const tenant = await tenants.updateTenant(actor, {
        tenantId: request.tenantId,
        keyLimit: request.keyLimit ?? null,
        displayName: request.displayName,
        paths: request.updateMask === undefined ? null : request.updateMask.paths,
        requestId: request.requestId,
        etag: request.etag,
      });
      return { tenant: tenantMessageOf(tenant) };
    },

    async getCaller(_request, context) {
      const actor = await actorOf(context);
      return {
        keyId: actor.keyId,
        tenantId: actor.tenantId,
        userId: actor.userId,
        role: callerRoles[actor.role],
      };
    },
  };
}

/** keyChangeOf maps what every one-key change request sends: the key, the request id and the etag. */
function keyChangeOf(request: {
  readonly keyId: string;
  readonly requestId: string;
  readonly etag: string;
}): DeleteKeyInput {
  return { keyId: request.keyId, requestId: request.requestId, etag: request.etag };
}
