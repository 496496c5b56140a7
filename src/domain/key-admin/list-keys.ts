import { requireOwnUser, resolveTenant } from "../admin-access.js";
import { tenantView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import { DomainError } from "../errors.js";
import type { KeyListing, ListKeysInput } from "../key-admin.js";
import { parseLabelSelector } from "../labels.js";
import { pageTokenScope } from "../page-token.js";
import { existingTenant } from "../tenant-admin.js";
import { validateNameQuery, validatePageSize, validateUserId } from "../validation.js";
import { groupIdOf, type KeyContext } from "./key-context.js";

/** listKeys pages through a tenant's keys; a key holder sees only its own user's live keys. */
export async function listKeys(ctx: KeyContext, actor: Actor, input: ListKeysInput): Promise<KeyListing> {
  requireOwnUser(actor);
  const tenantId = resolveTenant(actor, input.tenantId, { field: "tenant_id", required: false });
  const limit = validatePageSize(input.pageSize, "page_size");
  let userId = validateUserId(input.userId, "user_id");
  if (actor.role === "key_holder") {
    if (userId !== "" && userId !== actor.userId) {
      throw new DomainError("permission_denied", "this key may only list the keys of its own user");
    }
    if (input.showDeleted) {
      throw new DomainError("permission_denied", "deleted keys are listed for admins only");
    }
    userId = actor.userId;
  }
  const groupId = groupIdOf(input.groupId, "group_id");
  const nameQuery = validateNameQuery(input.nameQuery, "name_query");
  const label = parseLabelSelector(input.label ?? "", "label");
  const scope = pageTokenScope(
    "keys",
    tenantId,
    input.status ?? "",
    input.expirationState ?? "",
    userId,
    groupId,
    nameQuery ?? "",
    input.showDeleted ? "deleted" : "",
    label === null ? "" : `${label.key}=${label.value}`,
  );
  const after = input.pageToken === "" ? null : ctx.pageTokens.decode(input.pageToken, scope);
  const now = ctx.clock.now();
  const page = await ctx.keys.list({
    tenantId,
    limit,
    after,
    status: input.status,
    expirationState: input.expirationState,
    userId: userId === "" ? null : userId,
    groupId: groupId === "" ? null : groupId,
    nameContains: nameQuery,
    label,
    includeDeleted: input.showDeleted,
    now,
    expiringSoonWindowMs: ctx.expiringSoonWindowMs,
  });
  const tenant =
    actor.role === "key_holder"
      ? null
      : tenantView(await existingTenant(ctx.tenants, tenantId), ctx.defaultKeyLimit);
  return {
    keys: page.items.map((key) => ctx.view(key, now)),
    nextPageToken: page.nextCursor === null ? "" : ctx.pageTokens.encode(scope, page.nextCursor),
    tenant,
  };
}
