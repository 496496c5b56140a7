import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
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
import { type ActionRunner, fetchPages, printNextPageHint } from "./command-helpers.js";

const REQUEST_ID_HELP = "idempotency id of this change (default: a new UUID); reuse it to retry safely";

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
    .option("--request-id <id>", REQUEST_ID_HELP)
    .action(
      run(
        async (
          ctx,
          _args,
          options: { tenant: string; displayName?: string; limit?: number; requestId?: string },
        ) => {
          const response = await ctx.connection().keyAdmin.createTenant(
            {
              tenantId: options.tenant,
              displayName: options.displayName ?? "",
              requestId: ctx.requestIdOf(options),
              ...(options.limit === undefined ? {} : { keyLimit: options.limit }),
            },
            ctx.callOptions(),
          );
          printTenant(ctx, CreateTenantResponseSchema, response, "Created tenant ");
        },
      ),
    );

  tenant
    .command("list")
    .description("list the tenants by id (super users only)")
    .option("--limit <n>", "tenants per page (server default 50)", parsePositiveInt)
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "fetch every page")
    .action(
      run(async (ctx, _args, options: { limit?: number; pageToken?: string; all?: boolean }) => {
        const { items: tenants, nextPageToken } = await fetchPages<Tenant>(options, async (pageToken) => {
          const page = await ctx
            .connection()
            .keyAdmin.listTenants({ pageSize: options.limit ?? 0, pageToken }, ctx.callOptions());
          return { items: page.tenants, nextPageToken: page.nextPageToken };
        });
        if (ctx.globals.json === true) {
          ctx.printJson(
            ListTenantsResponseSchema,
            create(ListTenantsResponseSchema, { tenants, nextPageToken }),
          );
          return;
        }
        ctx.io.out(tenants.length === 0 ? "No tenants.\n" : `${tenantsTable(tenants)}\n`);
        printNextPageHint(ctx, nextPageToken, "tenants");
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
    .option("--request-id <id>", REQUEST_ID_HELP)
    .action(
      run(
        async (
          ctx,
          _args,
          options: {
            tenant: string;
            displayName?: string;
            limit?: number;
            clearLimit?: boolean;
            etag?: string;
            requestId?: string;
          },
        ) => {
          if (options.limit !== undefined && options.clearLimit === true) {
            throw usageError("use either --limit or --clear-limit, not both");
          }
          const paths = [
            ...(options.displayName === undefined ? [] : ["display_name"]),
            ...(options.limit === undefined && options.clearLimit !== true ? [] : ["key_limit"]),
          ];
          if (paths.length === 0) {
            throw usageError("nothing to update: give --display-name, --limit or --clear-limit");
          }
          const response = await ctx.connection().keyAdmin.updateTenant(
            {
              tenantId: options.tenant,
              displayName: options.displayName ?? "",
              updateMask: create(FieldMaskSchema, { paths }),
              etag: options.etag ?? "",
              requestId: ctx.requestIdOf(options),
              ...(options.limit === undefined ? {} : { keyLimit: options.limit }),
            },
            ctx.callOptions(),
          );
          printTenant(ctx, UpdateTenantResponseSchema, response);
        },
      ),
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
        printTenant(ctx, UpdateTenantResponseSchema, response);
      }),
    );
}

/** printTenant prints an answer carrying a tenant: as JSON, or as the tenant's details after `heading`. */
function printTenant<Desc extends DescMessage>(
  ctx: CommandContext,
  schema: Desc,
  response: MessageShape<Desc> & { readonly tenant?: Tenant | undefined },
  heading = "",
): void {
  if (ctx.globals.json === true) {
    ctx.printJson(schema, response);
  } else if (response.tenant !== undefined) {
    ctx.io.out(`${heading}${tenantDetails(response.tenant)}\n`);
  }
}
