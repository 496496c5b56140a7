import type { Command } from "commander";
import {
  GetTenantResponseSchema,
  UpdateTenantResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { usageError } from "../cli-error.js";
import { tenantDetails } from "../key-presentation.js";
import { parsePositiveInt } from "../option-parsers.js";
import type { ActionRunner } from "./command-helpers.js";

/** registerTenantCommands adds `apikeys tenant get|set-limit`. */
export function registerTenantCommands(program: Command, run: ActionRunner): void {
  const tenant = program.command("tenant").description("show a tenant's key usage, and set its key limit");

  tenant
    .command("get")
    .description('show a tenant\'s key limit and usage ("2/10 keys")')
    .option("--tenant <tenant-id>", "tenant to show (default: your key's tenant)")
    .action(
      run(async (ctx, _args, options: { tenant?: string }) => {
        const response = await ctx
          .connection()
          .keyAdmin.getTenant({ tenantId: options.tenant ?? "" }, ctx.callOptions());
        if (ctx.globals.json === true) {
          ctx.printJson(GetTenantResponseSchema, response);
        } else if (response.tenant !== undefined) {
          ctx.io.out(`${tenantDetails(response.tenant)}\n`);
        }
      }),
    );

  tenant
    .command("set-limit")
    .description("set a tenant's key limit, or --clear it to use the server default (super users only)")
    .argument("[limit]", "the new key limit (1-1000000)", parsePositiveInt)
    .requiredOption("--tenant <tenant-id>", "tenant to change")
    .option("--clear", "remove the tenant's own limit so the server default applies")
    .option(
      "--request-id <id>",
      "idempotency id of this change (default: a new UUID); reuse it to retry safely",
    )
    .action(
      run(async (ctx, args, options: { tenant: string; clear?: boolean; requestId?: string }) => {
        const limit = args[0] as unknown as number | undefined;
        if ((limit === undefined) === (options.clear !== true)) {
          throw usageError("give either a limit or --clear");
        }
        const response = await ctx.connection().keyAdmin.updateTenant(
          {
            tenantId: options.tenant,
            requestId: ctx.requestIdOf(options),
            ...(limit === undefined ? {} : { keyLimit: limit }),
          },
          ctx.callOptions(),
        );
        if (ctx.globals.json === true) {
          ctx.printJson(UpdateTenantResponseSchema, response);
        } else if (response.tenant !== undefined) {
          ctx.io.out(`${tenantDetails(response.tenant)}\n`);
        }
      }),
    );
}
