import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  CreateGroupResponseSchema,
  DeleteGroupResponseSchema,
  GetGroupResponseSchema,
  ListGroupsResponseSchema,
  UpdateGroupResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { GroupSchema } from "../../gen/apikeys/v1/key_pb.js";
import { groupDetails, groupsTable } from "../key-presentation.js";
import { collectList } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import {
  type ActionRunner,
  changedFields,
  labelOption,
  printAnswer,
  requestIdOption,
  valueOrCleared,
} from "./command-helpers.js";
import { addPagingOptions, fetchPages, type PagingOptions, printPage } from "./paged-listing.js";

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
    .addOption(labelOption("label of the group"))
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
          printAnswer(
            ctx,
            CreateGroupResponseSchema,
            response,
            () =>
              response.group &&
              `Created group ${terminalText(response.group.groupId)}.\n${groupDetails(response.group)}`,
          );
        },
      ),
    );

  addPagingOptions(
    groups
      .command("list")
      .description("list a tenant's groups by name")
      .option("--tenant <tenant-id>", "tenant to list (default: your key's tenant)"),
    "groups",
  ).action(
    run(async (ctx, _args, options: PagingOptions & { tenant?: string }) => {
      const page = await fetchPages(
        options,
        (request) =>
          ctx
            .connection()
            .keyAdmin.listGroups({ tenantId: options.tenant ?? "", ...request }, ctx.callOptions()),
        "groups",
      );
      printPage(ctx, ListGroupsResponseSchema, page, page.groups, groupsTable, "groups");
    }),
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
        printAnswer(
          ctx,
          GetGroupResponseSchema,
          response,
          () => response.group && groupDetails(response.group),
        );
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
    .addOption(labelOption("replace the labels"))
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
          const { fields, paths, updateMask } = changedFields(
            {
              name: options.name,
              description: options.description,
              permissions: valueOrCleared(
                options.permission,
                options.clearPermissions,
                [],
                ["--permission", "--clear-permissions"],
              ),
              labels: valueOrCleared(options.label, options.clearLabels, {}, ["--label", "--clear-labels"]),
            },
            "--name, --description, --permission, --label or a --clear-… option",
          );
          const response = await ctx.connection().keyAdmin.updateGroup(
            {
              group: create(GroupSchema, { groupId: groupId ?? "", etag: options.etag ?? "", ...fields }),
              updateMask,
              requestId: ctx.requestIdOf(options),
            },
            ctx.callOptions(),
          );
          printAnswer(
            ctx,
            UpdateGroupResponseSchema,
            response,
            () =>
              response.group &&
              `Updated ${paths.join(", ")} of group ${terminalText(response.group.groupId)}.\n${groupDetails(response.group)}`,
          );
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
        printAnswer(ctx, DeleteGroupResponseSchema, response, () => `Deleted group ${terminalText(id)}.`);
      }),
    );
}
