import { requireOwnUser } from "../admin-access.js";
import type { KeyView } from "../admin-views.js";
import type { Actor } from "../api-key.js";
import type { KeyContext } from "./key-context.js";

/** getKey reads one key the actor may see (key holders: their own user's keys). */
export async function getKey(ctx: KeyContext, actor: Actor, keyId: string): Promise<KeyView> {
  requireOwnUser(actor);
  const id = ctx.keyIdOf(keyId, "key_id");
  return ctx.view(await ctx.visibleKey(actor, id), ctx.clock.now());
}
