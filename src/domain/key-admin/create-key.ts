import { requireAdmin, resolveTenant } from "../admin-access.js";
import { keyFieldChanges } from "../admin-field-changes.js";
import { runMutation } from "../admin-mutation.js";
import type { Actor } from "../api-key.js";
import { validateFields } from "../errors.js";
import { normalizeAllowlist } from "../ip-allowlist.js";
import type { CreateKeyInput, IssuedKey } from "../key-admin.js";
import { issueKey, issueKeyForRequest, type KeySpec } from "../key-admin-issue.js";
import { validateLabels } from "../labels.js";
import { requestEventId } from "../request-fence.js";
import { existingTenant } from "../tenant-admin.js";
import { validateDescription, validateExpiry, validateName, validateUserId } from "../validation.js";
import { grantablePermissions, groupIdOf, type KeyContext } from "./key-context.js";

/** createKey issues a new key in a tenant (admins); the secret is in the answer of the first call only. */
export async function createKey(ctx: KeyContext, actor: Actor, input: CreateKeyInput): Promise<IssuedKey> {
  requireAdmin(actor);
  const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: true });
  const now = ctx.clock.now();
  const spec: KeySpec = {
    tenantId,
    ...validateFields({
      name: () => validateName(input.name, "name"),
      description: () => validateDescription(input.description, "description"),
      userId: () => validateUserId(input.userId, "user_id"),
      groupId: () => groupIdOf(input.groupId, "group_id"),
      permissions: () => grantablePermissions(input.permissions, tenantId, "permissions"),
      ipAllowlist: () => normalizeAllowlist(input.ipAllowlist, "ip_allowlist"),
      expiresAt: () =>
        input.expiresAt === null ? null : validateExpiry(input.expiresAt, now, "expire_time"),
      labels: () => validateLabels(input.labels ?? {}, "labels"),
    }),
    createdBy: actor.keyId,
  };
  const { createdBy: _createdBy, ...parameters } = spec;
  return runMutation<IssuedKey>(ctx, {
    actor,
    operation: "CreateKey",
    requestId: input.requestId,
    parameters: { ...parameters, expiresAt: spec.expiresAt?.getTime() ?? null },
    now,
    async run(requestId) {
      await existingTenant(ctx.tenants, tenantId);
      await ctx.requireGroupOf(tenantId, spec.groupId, "group_id");
      // With a request id the key id is derived from it, so a late write of an earlier attempt and this one
      // make one key (request-fence.ts); the earlier attempt's stored key had no announcement yet.
      const { record, generated, earlier } =
        requestId === null
          ? { ...(await issueKey(ctx, spec, now)), earlier: false }
          : await issueKeyForRequest(ctx, spec, now, requestId);
      if (earlier) {
        await ctx.notifier.keyChanged(record.id);
      }
      return {
        value: {
          key: ctx.view(record, now),
          secret: { key: generated.key, secretKey: generated.secretKey },
          secretAlreadyIssued: false,
        },
        stored: record.id,
        audit: {
          action: "key_created",
          target: {
            tenantId,
            keyId: record.id,
            groupId: record.groupId,
            changedFields: setFieldsOf(spec),
            changes: keyFieldChanges(null, record, setFieldsOf(spec)),
            // Every attempt of one request records the creation under one event id: stored once.
            ...(requestId === null
              ? {}
              : { eventId: requestEventId([tenantId, requestId, record.id, "key_created"]) }),
          },
        },
      };
    },
    replay: async (keyId) => ({
      key: await ctx.replayKey(actor, keyId),
      secret: null,
      secretAlreadyIssued: true,
    }),
  });
}

/** setFieldsOf names the optional fields a CreateKey request set, for the audit event. */
function setFieldsOf(spec: KeySpec): string[] {
  const set: [string, boolean][] = [
    ["description", spec.description !== ""],
    ["user_id", spec.userId !== ""],
    ["group_id", spec.groupId !== ""],
    ["permissions", spec.permissions.length > 0],
    ["ip_allowlist", spec.ipAllowlist.length > 0],
    ["expire_time", spec.expiresAt !== null],
    ["labels", Object.keys(spec.labels ?? {}).length > 0],
  ];
  return ["name", ...set.filter(([, isSet]) => isSet).map(([field]) => field)];
}
