/**
 * createdTenant names a fresh tenant for a test over a real server, created through the API when the service
 * has CreateTenant (tenants then exist on purpose before their keys).
 */
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { uniqueTenant } from "./admin-fixture.js";
import type { AdminApi } from "./admin-server.js";

export async function createdTenant(api: AdminApi, superuserKey: string, label = "t"): Promise<string> {
  const tenantId = uniqueTenant(label);
  if ("createTenant" in KeyAdminService.method) {
    const methods = api as unknown as Record<string, (request: unknown, auth: unknown) => Promise<unknown>>;
    await methods.createTenant?.({ tenantId }, { key: superuserKey });
  }
  return tenantId;
}
