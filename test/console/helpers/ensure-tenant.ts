/**
 * ensureTenant makes sure a tenant exists before keys are created in it. Where the API has CreateTenant
 * (tenants then exist only once a super user created them), it creates the tenant and accepts ALREADY_EXISTS;
 * where it has none, tenants come into being with their first key and there is nothing to do.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";

type CreateTenant = (request: { tenantId: string }, options: unknown) => Promise<unknown>;

/** `client` is a KeyAdminService client; `options` its second argument (call options or test auth). */
export async function ensureTenant(client: object, tenantId: string, options: unknown): Promise<void> {
  if (!("createTenant" in KeyAdminService.method)) {
    return;
  }
  const create = (client as { createTenant?: CreateTenant }).createTenant;
  if (create === undefined) {
    throw new Error("the client has no createTenant although the API has CreateTenant");
  }
  try {
    await create.call(client, { tenantId }, options);
  } catch (error) {
    const code = error instanceof ConnectError ? error.code : (error as { code?: number }).code;
    if (code !== Code.AlreadyExists) {
      throw error;
    }
  }
}
