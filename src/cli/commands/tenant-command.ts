import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  CreateTenantResponseSchema,
  GetTenantResponseSchema,
  ListTenantsResponseSchema,
  UpdateTenantResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import type { Tenant } from "../../gen/apikeys/v1/key_pb.js";
import { usageError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { tenantDetails, tenantsTable } from "../key-presentation.js";
import { parsePositiveInt } from "../option-parsers.js";
import {
  type ActionRunner,
  changedFields,
  printAnswer,
  requestIdOption,
  valueOrCleared,
} from "./command-helpers.js";
import { addPagingOptions, fetchPages, type PagingOptions, printPage } from "./paged-listing.js";

/** TenantOptions are the options of `tenant create` and `tenant update`. */
interface TenantOptions {
  tenant: string;
  displayName?: string;
  limit?: number;
  clearLimit?: boolean;
  etag?: string;
  requestId?: string;
}

/** registerTenantCommands adds `apikeys tenant create|list|get|update|set-limit`. */
export function registerTenantCommands(program: Command, run: ActionRunner): void {
  const tenant = program
    .command("tenant")
    .description("create and list tenants (keys and groups live in tenants), show usage, set limits");

  tenant
    .command("create")
    .description("create a tenant, so keys and groups can be created in it (super users only)")
    .requiredOption("--tenant <tenant-id>", "id of the new tenant")
    .option("--display-name <name>", "name for humans")
    .option("--limit <n>", "key limit (default: the server default)", parsePositiveInt)
    .addOption(requestIdOption())
    .action(
      run(async (ctx, _args, options: TenantOptions) => {
        const response = await ctx
          .connection()
          .keyAdmin.createTenant(tenantFields(ctx, options), ctx.callOptions());
        printTenant(ctx, CreateTenantResponseSchema, response, "Created tenant ");
      }),
    );

  addPagingOptions(
    tenant.command("list").description("list the tenants by id (super users only)"),
    "tenants",
  ).action(
    run(async (ctx, _args, options: PagingOptions) => {
      const page = await fetchPages(
        options,
        (request) => ctx.connection().keyAdmin.listTenants(request, ctx.callOptions()),
        "tenants",
      );
      printPage(ctx, ListTenantsResponseSchema, page, page.tenants, tenantsTable, "tenants");
    }),
  );

  tenant
    .command("update")
    .description("change a tenant's display name and key limit (super users only)")
    .requiredOption("--tenant <tenant-id>", "tenant to change")
    .option("--display-name <name>", "new display name ('' clears it)")
    .option("--limit <n>", "new key limit (1-1000000)", parsePositiveInt)
    .option("--clear-limit", "remove the tenant's own limit so the server default applies")
    .option("--etag <etag>", "change only if the tenant still has this etag (from `tenant get`)")
    .addOption(requestIdOption())
    .action(
      run(async (ctx, _args, options: TenantOptions) => {
        const { updateMask } = changedFields(
          {
            displayName: options.displayName,
            keyLimit: valueOrCleared(options.limit, options.clearLimit, null, ["--limit", "--clear-limit"]),
          },
          "--display-name, --limit or --clear-limit",
        );
        const response = await ctx.connection().keyAdmin.updateTenant(
          {
            ...tenantFields(ctx, options),
            updateMask,
            etag: options.etag ?? "",
          },
          ctx.callOptions(),
        );
        printTenant(ctx, UpdateTenantResponseSchema, response);
      }),
    );

  tenant
    .command("get")
    .description('show a tenant\'s key limit and usage ("2/10 keys")')
    .option("--tenant <tenant-id>", "tenant to show (default: your key's tenant)")
    .action(
      run(async (ctx, _args, options: { tenant?: string }) => {
        const response = await ctx
          .connection()
          .keyAdmin.getTenant({ tenantId: options.tenant ?? "" }, ctx.callOptions());
        printTenant(ctx, GetTenantResponseSchema, response);
      }),
    );

  tenant
    .command("set-limit")
    .description("set a tenant's key limit, or --clear it to use the server default (super users only)")
    .argument("[limit]", "the new key limit (1-1000000)", parsePositiveInt)
    .requiredOption("--tenant <tenant-id>", "tenant to change")
    .option("--clear", "remove the tenant's own limit so the server default applies")
    .addOption(requestIdOption())
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
        printTenant(ctx, UpdateTenantResponseSchema, response);
      }),
    );
}

/** tenantFields are what `tenant create` and `tenant update` send of the same options. */
function tenantFields(ctx: CommandContext, options: TenantOptions) {
  return {
    tenantId: options.tenant,
    displayName: options.displayName ?? "",
    requestId: ctx.requestIdOf(options),
    ...(options.limit === undefined ? {} : { keyLimit: options.limit }),
  };
}

/** printTenant prints an answer carrying a tenant: as JSON, or as the tenant's details after `heading`. */
function printTenant<Desc extends DescMessage>(
  ctx: CommandContext,
  schema: Desc,
  response: MessageShape<Desc> & { readonly tenant?: Tenant | undefined },
  heading = "",
): void {
  printAnswer(ctx, schema, response, () => response.tenant && `${heading}${tenantDetails(response.tenant)}`);
}
