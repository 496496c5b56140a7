/** The caller's role as GetCaller reports it: the domain's role names mapped to the proto enum. */
import type { Actor } from "../domain/api-key.js";
import { CallerRole } from "../gen/apikeys/v1/key_admin_service_pb.js";

export const callerRoles: Readonly<Record<Actor["role"], CallerRole>> = Object.freeze({
  superuser: CallerRole.SUPERUSER,
  tenant_admin: CallerRole.TENANT_ADMIN,
  key_holder: CallerRole.KEY_HOLDER,
});
