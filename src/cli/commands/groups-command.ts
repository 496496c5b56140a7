import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { type Command, Option } from "commander";
import {
  CreateGroupResponseSchema,
  DeleteGroupResponseSchema,
  GetGroupResponseSchema,
  ListGroupsResponseSchema,
  UpdateGroupResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { type Group, GroupSchema } from "../../gen/apikeys/v1/key_pb.js";
import { usageError } from "../cli-error.js";
import { groupDetails, groupsTable } from "../key-presentation.js";
import { collectLabels, collectList, parsePositiveInt } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import { type ActionRunner, fetchPages, printNextPageHint } from "./command-helpers.js";

const requestIdOption = (): Option =>
  new Option(
    "--request-id <id>",
    "idempotency id of this change (default: a new UUID); reuse it to retry safely",
  );

/** registerGroupsCommands adds `apikeys groups create|list|get|update|delete` (authorization groups). */
export function registerGroupsCommands(program: Command, run: ActionRunner): void {
  const groups = program
    .command("groups")
    .description("manage authorization groups: named permission sets that keys can belong to");

  groups
    .command("create")
    .description("create an authorization group")
    .requiredOption("--tenant <tenant-id>", "tenant that owns the group")
    .requiredOption("--name <name>", "name, unique within the tenant")
    .option("--description <text>", "what the group is for")
    .option("--permission <permission>", "permission granted to the group's keys (repeatable)", collectList)
    .option("--label <key=value>", "label of the group (repeatable)", collectLabels)
    .addOption(requestIdOption())
    .action(
      run(
        async (
          ctx,
          _args,
          options: {
            tenant: string;
            name: string;
            description?: string;
            permission?: string[];
            label?: Record<string, string>;
            requestId?: string;
          },
        ) => {
          const response = await ctx.connection().keyAdmin.createGroup(
            {
              tenantId: options.tenant,
              name: options.name,
              description: options.description ?? "",
              permissions: options.permission ?? [],
              labels: options.label ?? {},
              requestId: ctx.requestIdOf(options),
            },
            ctx.callOptions(),
          );
          if (ctx.globals.json === true) {
            ctx.printJson(CreateGroupResponseSchema, response);
          } else if (response.group !== undefined) {
            ctx.io.out(
              `Created group ${terminalText(response.group.groupId)}.\n${groupDetails(response.group)}\n`,
            );
          }
        },
      ),
    );

  groups
    .command("list")
    .description("list a tenant's groups by name")
    .option("--tenant <tenant-id>", "tenant to list (default: your key's tenant)")
    .option("--limit <n>", "groups per page (server default 50)", parsePositiveInt)
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "fetch every page")
    .action(
      run(
        async (
          ctx,
          _args,
          options: { tenant?: string; limit?: number; pageToken?: string; all?: boolean },
        ) => {
          const { items, nextPageToken } = await fetchPages<Group>(options, async (pageToken) => {
            const page = await ctx
              .connection()
              .keyAdmin.listGroups(
                { tenantId: options.tenant ?? "", pageSize: options.limit ?? 0, pageToken },
                ctx.callOptions(),
              );
            return { items: page.groups, nextPageToken: page.nextPageToken };
          });
          if (ctx.globals.json === true) {
            ctx.printJson(
              ListGroupsResponseSchema,
              create(ListGroupsResponseSchema, { groups: items, nextPageToken }),
            );
            return;
          }
          ctx.io.out(items.length === 0 ? "No groups.\n" : `${groupsTable(items)}\n`);
          printNextPageHint(ctx, nextPageToken, "groups");
        },
      ),
    );

  groups
    .command("get")
    .description("show one group")
    .argument("<group-id>", "id of the group")
    .action(
      run(async (ctx, [groupId]) => {
        const response = await ctx
          .connection()
          .keyAdmin.getGroup({ groupId: groupId ?? "" }, ctx.callOptions());
        if (ctx.globals.json === true) {
          ctx.printJson(GetGroupResponseSchema, response);
        } else if (response.group !== undefined) {
          ctx.io.out(`${groupDetails(response.group)}\n`);
        }
      }),
    );

  groups
    .command("update")
    .description(
      "change a group's name, description or permissions (its keys get them at their next verification)",
    )
    .argument("<group-id>", "id of the group")
    .option("--name <name>", "new name")
    .option("--description <text>", "new description")
    .option("--permission <permission>", "replace the permissions (repeatable)", collectList)
    .option("--clear-permissions", "remove every permission")
    .option("--label <key=value>", "replace the labels (repeatable)", collectLabels)
    .option("--clear-labels", "remove every label")
    .option("--etag <etag>", "change only if the group still has this etag (from `groups get`)")
    .addOption(requestIdOption())
    .action(
      run(
        async (
          ctx,
          [groupId],
          options: {
            name?: string;
            description?: string;
            permission?: string[];
            clearPermissions?: boolean;
            label?: Record<string, string>;
            clearLabels?: boolean;
            etag?: string;
            requestId?: string;
          },
        ) => {
          const group = create(GroupSchema, { groupId: groupId ?? "" });
          const paths: string[] = [];
          if (options.name !== undefined) {
            group.name = options.name;
            paths.push("name");
          }
          if (options.description !== undefined) {
            group.description = options.description;
            paths.push("description");
          }
          if (options.permission !== undefined && options.clearPermissions === true) {
            throw usageError("use either --permission or --clear-permissions, not both");
          }
          if (options.permission !== undefined || options.clearPermissions === true) {
            group.permissions = options.permission ?? [];
            paths.push("permissions");
          }
          if (options.label !== undefined && options.clearLabels === true) {
            throw usageError("use either --label or --clear-labels, not both");
          }
          if (options.label !== undefined || options.clearLabels === true) {
            group.labels = options.label ?? {};
            paths.push("labels");
          }
          if (paths.length === 0) {
            throw usageError(
              "nothing to update: give --name, --description, --permission, --label or a --clear-… option",
            );
          }
          group.etag = options.etag ?? "";
          const response = await ctx
            .connection()
            .keyAdmin.updateGroup(
              { group, updateMask: create(FieldMaskSchema, { paths }), requestId: ctx.requestIdOf(options) },
              ctx.callOptions(),
            );
          if (ctx.globals.json === true) {
            ctx.printJson(UpdateGroupResponseSchema, response);
          } else if (response.group !== undefined) {
            ctx.io.out(
              `Updated ${paths.join(", ")} of group ${terminalText(response.group.groupId)}.\n${groupDetails(response.group)}\n`,
            );
          }
        },
      ),
    );

  groups
    .command("delete")
    .description("delete a group (refused while keys still use it)")
    .argument("<group-id>", "id of the group")
    .option("--etag <etag>", "delete only if the group still has this etag (from `groups get`)")
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [groupId], options: { etag?: string; requestId?: string }) => {
        const id = groupId ?? "";
        const requestId = ctx.requestIdOf(options);
        await ctx.confirm(`delete group ${id}`, async () => {
          const response = await ctx.connection().keyAdmin.getGroup({ groupId: id }, ctx.callOptions());
          return `Delete the authorization group "${terminalText(response.group?.name)}" (${id})?`;
        });
        const response = await ctx
          .connection()
          .keyAdmin.deleteGroup({ groupId: id, requestId, etag: options.etag ?? "" }, ctx.callOptions());
        if (ctx.globals.json === true) {
          ctx.printJson(DeleteGroupResponseSchema, response);
        } else {
          ctx.io.out(`Deleted group ${terminalText(id)}.\n`);
        }
      }),
    );
}
