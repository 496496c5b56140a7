/** KeyAdminService for both transports: authenticate, map the request to a use case, map the answer back. */
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminAuthenticator } from "../domain/admin-access.js";
import { keySettingsOf } from "../domain/api-key.js";
import type { Bootstrapper } from "../domain/bootstrap.js";
import { invalidArgument } from "../domain/errors.js";
import type { GroupAdmin } from "../domain/group-admin.js";
import type { KeyAdmin } from "../domain/key-admin.js";
import type { TenantAdmin } from "../domain/tenant-admin.js";
import type { UsageStatsReader } from "../domain/usage-stats.js";
import type { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import type { Key } from "../gen/apikeys/v1/key_pb.js";
import { asAdminCaller, peerIpOf } from "./admin-caller.js";
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

export interface KeyAdminHandlerDependencies {
  readonly access: AdminAuthenticator;
  readonly keys: KeyAdmin;
  readonly groups: GroupAdmin;
  readonly tenants: TenantAdmin;
  readonly bootstrapper: Bootstrapper;
  /** usageStats gives GetKey and ListKeys each key's verifications of the last 24 hours. */
  readonly usageStats: Pick<UsageStatsReader, "requestsLast24h">;
}

export function createKeyAdminHandler(
  deps: KeyAdminHandlerDependencies,
): ServiceImpl<typeof KeyAdminService> {
  const { keys, groups, tenants } = deps;
  const asActor = asAdminCaller(deps.access);

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

    createKey: asActor(async (actor, request) => {
      const issued = await keys.createKey(actor, {
        ...keySettingsOf(request),
        expiresAt: dateOf(request.expireTime, "expire_time"),
        labels: request.labels,
        requestId: request.requestId,
      });
      return issuedKeyFields(issued);
    }),

    getKey: asActor(async (actor, request) => {
      const [key] = await withRequestsLast24h([keyMessageOf(await keys.getKey(actor, request.keyId))]);
      return { key };
    }),

    listKeys: asActor(async (actor, request) => {
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
    }),

    updateKey: asActor(async (actor, request) => {
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
    }),

    rotateKey: asActor(async (actor, request) => {
      const issued = await keys.rotateKey(actor, {
        keyId: request.keyId,
        overlapMs: millisecondsOf(request.overlap, "overlap"),
        expiresAt: dateOf(request.expireTime, "expire_time"),
        requestId: request.requestId,
        etag: request.etag,
      });
      return issuedKeyFields(issued);
    }),

    // Requests whose fields are the use case's input, name for name, are passed as they are.
    revokeKey: asActor(async (actor, request) => ({
      key: keyMessageOf(await keys.revokeKey(actor, request)),
    })),

    disableKey: asActor(async (actor, request) => ({
      key: keyMessageOf(await keys.disableKey(actor, request)),
    })),

    enableKey: asActor(async (actor, request) => ({
      key: keyMessageOf(await keys.enableKey(actor, request)),
    })),

    deleteKey: asActor(async (actor, request) => ({
      key: keyMessageOf(await keys.deleteKey(actor, request)),
    })),

    createGroup: asActor(async (actor, request) => ({
      group: groupMessageOf(await groups.createGroup(actor, request)),
    })),

    getGroup: asActor(async (actor, request) => ({
      group: groupMessageOf(await groups.getGroup(actor, request.groupId)),
    })),

    listGroups: asActor(async (actor, request) => {
      const listing = await groups.listGroups(actor, request);
      return { groups: listing.groups.map(groupMessageOf), nextPageToken: listing.nextPageToken };
    }),

    updateGroup: asActor(async (actor, request) => {
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
    }),

    deleteGroup: asActor(async (actor, request) => {
      await groups.deleteGroup(actor, request);
      return {};
    }),

    createTenant: asActor(async (actor, request) => {
      const tenant = await tenants.createTenant(actor, {
        tenantId: request.tenantId,
        displayName: request.displayName,
        keyLimit: request.keyLimit ?? null,
        requestId: request.requestId,
      });
      return { tenant: tenantMessageOf(tenant) };
    }),

    listTenants: asActor(async (actor, request) => {
      const listing = await tenants.listTenants(actor, request);
      return { tenants: listing.tenants.map(tenantMessageOf), nextPageToken: listing.nextPageToken };
    }),

    getTenant: asActor(async (actor, request) => ({
      tenant: tenantMessageOf(await tenants.getTenant(actor, request.tenantId)),
    })),

    updateTenant: asActor(async (actor, request) => {
      const tenant = await tenants.updateTenant(actor, {
        tenantId: request.tenantId,
        keyLimit: request.keyLimit ?? null,
        displayName: request.displayName,
        paths: request.updateMask === undefined ? null : request.updateMask.paths,
        requestId: request.requestId,
        etag: request.etag,
      });
      return { tenant: tenantMessageOf(tenant) };
    }),

    getCaller: asActor(async (actor, _request) => ({
      keyId: actor.keyId,
      tenantId: actor.tenantId,
      userId: actor.userId,
      role: callerRoles[actor.role],
    })),
  };
}
