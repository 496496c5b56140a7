import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { durationFromMs, FieldMaskSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Command, Option } from "commander";
import {
  CreateKeyResponseSchema,
  DeleteKeyResponseSchema,
  DisableKeyResponseSchema,
  EnableKeyResponseSchema,
  GetKeyResponseSchema,
  type ListKeysResponse,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  RotateKeyResponseSchema,
  UpdateKeyResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, type Key, KeySchema, KeyStatus } from "../../gen/apikeys/v1/key_pb.js";
import { usageError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { keyDetails, keysTable, usageText } from "../key-presentation.js";
import { collectLabels, collectList, parsePositiveInt } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import { parseDurationMs, parseTimeInput } from "../time-input.js";
import { type ActionRunner, fetchPages, printNextPageHint, printSecretOnce } from "./command-helpers.js";

interface CreateOptions {
  tenant: string;
  name: string;
  description?: string;
  user?: string;
  group?: string;
  permission?: string[];
  expires?: string;
  allowIp?: string[];
  label?: Record<string, string>;
  requestId?: string;
}

interface ListOptions {
  tenant?: string;
  status?: "active" | "disabled" | "expired" | "revoked";
  label?: string;
  expiration?: "valid" | "expiring-soon" | "expired";
  user?: string;
  group?: string;
  name?: string;
  showDeleted?: boolean;
  limit?: number;
  pageToken?: string;
  all?: boolean;
}

interface UpdateOptions {
  name?: string;
  description?: string;
  user?: string;
  clearUser?: boolean;
  group?: string;
  clearGroup?: boolean;
  permission?: string[];
  clearPermissions?: boolean;
  allowIp?: string[];
  clearAllowIp?: boolean;
  expires?: string;
  label?: Record<string, string>;
  clearLabels?: boolean;
  etag?: string;
  requestId?: string;
}

/** EtagOptions carry the optional --etag of a change. */
interface EtagOptions {
  etag?: string;
  requestId?: string;
}

const statusFilter: Readonly<Record<string, KeyStatus>> = {
  active: KeyStatus.ACTIVE,
  disabled: KeyStatus.DISABLED,
  expired: KeyStatus.EXPIRED,
  revoked: KeyStatus.REVOKED,
};
const expirationFilter: Readonly<Record<string, ExpirationState>> = {
  valid: ExpirationState.VALID,
  "expiring-soon": ExpirationState.EXPIRING_SOON,
  expired: ExpirationState.EXPIRED,
};

const requestIdOption = (): Option =>
  new Option(
    "--request-id <id>",
    "idempotency id of this change (default: a new UUID); reuse it to retry safely",
  );

const etagOption = (): Option =>
  new Option("--etag <etag>", "change only if the key still has this etag (from `keys get`)");

const labelOption = (what: string): Option =>
  new Option("--label <key=value>", `${what} (repeatable)`).argParser(collectLabels);

/** registerKeysCommands adds `apikeys keys create|list|get|update|rotate|disable|enable|revoke|delete`. */
export function registerKeysCommands(program: Command, run: ActionRunner): void {
  const keys = program
    .command("keys")
    .description("create, list, inspect, update, rotate, disable, enable, revoke and delete API keys");

  keys
    .command("create")
    .description("issue a new API key; its secret is printed once")
    .requiredOption("--tenant <tenant-id>", "tenant that owns the key")
    .requiredOption("--name <name>", "name of the key (2-200 characters)")
    .option("--description <text>", "what the key is for")
    .option("--user <user-id>", "user whose permissions the key acts for")
    .option("--group <group-id>", "authorization group of the key")
    .option("--permission <permission>", "explicit permission (repeatable, or comma-separated)", collectList)
    .option("--expires <time>", "expiry: ISO 8601 time or a duration from now like 90d")
    .option(
      "--allow-ip <address-or-cidr>",
      "allow only this IP address or CIDR range (repeatable)",
      collectList,
    )
    .addOption(labelOption("label returned by VerifyKey, e.g. tier=gold"))
    .addOption(requestIdOption())
    .action(run(async (ctx, _args, options: CreateOptions) => createKey(ctx, options)));

  keys
    .command("list")
    .description("list a tenant's keys (newest first) with the tenant's usage, e.g. \"2/10 keys\"")
    .option("--tenant <tenant-id>", "tenant to list (default: your key's tenant)")
    .addOption(
      new Option("--status <status>", "only keys with this status").choices(Object.keys(statusFilter)),
    )
    .addOption(
      new Option("--expiration <state>", "only keys in this expiration state").choices(
        Object.keys(expirationFilter),
      ),
    )
    .option("--user <user-id>", "only keys acting for this user")
    .option("--group <group-id>", "only keys in this group")
    .option("--name <text>", "only keys whose name contains this text")
    .option("--label <key=value>", "only keys carrying this label with this value")
    .option("--show-deleted", "include deleted keys")
    .option("--limit <n>", "keys per page (server default 50)", parsePositiveInt)
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "fetch every page")
    .action(run(async (ctx, _args, options: ListOptions) => listKeys(ctx, options)));

  keys
    .command("get")
    .description("show one key's metadata (never its secret)")
    .argument("<key-id>", "id of the key")
    .action(
      run(async (ctx, [keyId]) => {
        const response = await ctx.connection().keyAdmin.getKey({ keyId: keyId ?? "" }, ctx.callOptions());
        if (ctx.globals.json === true) {
          ctx.printJson(GetKeyResponseSchema, response);
        } else if (response.key !== undefined) {
          ctx.io.out(`${keyDetails(response.key)}\n`);
        }
      }),
    );

  keys
    .command("update")
    .description(
      "change a key's name, description, user, group, permissions, IP allowlist or (earlier) expiry",
    )
    .argument("<key-id>", "id of the key")
    .option("--name <name>", "new name")
    .option("--description <text>", "new description ('' clears it)")
    .option("--user <user-id>", "new associated user")
    .option("--clear-user", "remove the associated user")
    .option("--group <group-id>", "new authorization group")
    .option("--clear-group", "remove the key from its group")
    .option("--permission <permission>", "replace the explicit permissions (repeatable)", collectList)
    .option("--clear-permissions", "remove every explicit permission")
    .option("--allow-ip <address-or-cidr>", "replace the IP allowlist (repeatable)", collectList)
    .option("--clear-allow-ip", "remove the IP allowlist (any address may use the key)")
    .option("--expires <time>", "earlier expiry (extending it needs `keys rotate --expires`)")
    .addOption(labelOption("replace the labels"))
    .option("--clear-labels", "remove every label")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(run(async (ctx, [keyId], options: UpdateOptions) => updateKey(ctx, keyId ?? "", options)));

  keys
    .command("rotate")
    .description("issue a new secret for the key (same id and configuration); the new secret is printed once")
    .argument("<key-id>", "id of the key")
    .option(
      "--overlap <duration>",
      "keep the old secret working this long (0-7d, e.g. 24h); default: stops at once",
    )
    .option("--expires <time>", "new expiry: ISO 8601 time or a duration from now like 90d")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: { overlap?: string; expires?: string } & EtagOptions) => {
        const id = keyId ?? "";
        const overlapMs = options.overlap === undefined ? 0 : parseDurationMs(options.overlap, "--overlap");
        const expireTime =
          options.expires === undefined
            ? undefined
            : timestampFromDate(parseTimeInput(options.expires, "--expires", ctx.io.now(), "future"));
        const requestId = ctx.requestIdOf(options);
        await ctx.confirm(`rotate key ${id}`, async () => {
          const name = await keyName(ctx, id);
          const impact =
            overlapMs === 0
              ? "Applications using the current secret lose access immediately."
              : `The current secret keeps working for ${options.overlap}.`;
          return `Rotate API key "${name}" (${id})? ${impact}`;
        });
        const response = await ctx.connection().keyAdmin.rotateKey(
          {
            keyId: id,
            requestId,
            etag: options.etag ?? "",
            ...(overlapMs === 0 ? {} : { overlap: durationFromMs(overlapMs) }),
            ...(expireTime === undefined ? {} : { expireTime }),
          },
          ctx.callOptions(),
        );
        if (ctx.globals.json === true) {
          ctx.printJson(RotateKeyResponseSchema, response);
          return;
        }
        const key = response.key;
        ctx.io.out(`Rotated key "${terminalText(key?.name)}" (${terminalText(key?.keyId ?? id)}).\n`);
        printSecretOnce(ctx, response.secret, response.secretAlreadyIssued, key?.keyId ?? id);
      }),
    );

  keys
    .command("disable")
    .description("turn a key off until `keys enable`: it answers DISABLED and keeps its slot of the limit")
    .argument("<key-id>", "id of the key")
    .option("--reason <text>", "why the key is disabled")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: { reason?: string } & EtagOptions) => {
        const id = keyId ?? "";
        const response = await ctx.connection().keyAdmin.disableKey(
          {
            keyId: id,
            reason: options.reason ?? "",
            requestId: ctx.requestIdOf(options),
            etag: options.etag ?? "",
          },
          ctx.callOptions(),
        );
        printChangedKey(
          ctx,
          DisableKeyResponseSchema,
          response,
          id,
          "Disabled",
          "; `keys enable` turns it on again.",
        );
      }),
    );

  keys
    .command("enable")
    .description("turn a disabled key on again")
    .argument("<key-id>", "id of the key")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: EtagOptions) => {
        const id = keyId ?? "";
        const response = await ctx
          .connection()
          .keyAdmin.enableKey(
            { keyId: id, requestId: ctx.requestIdOf(options), etag: options.etag ?? "" },
            ctx.callOptions(),
          );
        printChangedKey(ctx, EnableKeyResponseSchema, response, id, "Enabled");
      }),
    );

  keys
    .command("revoke")
    .description("revoke a key immediately and permanently")
    .argument("<key-id>", "id of the key")
    .option("--reason <text>", "why the key is revoked")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: { reason?: string } & EtagOptions) => {
        const id = keyId ?? "";
        const requestId = ctx.requestIdOf(options);
        await ctx.confirm(`revoke key ${id}`, async () => {
          const name = await keyName(ctx, id);
          return `Are you sure you want to revoke the API key "${name}" (${id})? This action cannot be undone and any applications using this key will lose access immediately.`;
        });
        const response = await ctx
          .connection()
          .keyAdmin.revokeKey(
            { keyId: id, reason: options.reason ?? "", requestId, etag: options.etag ?? "" },
            ctx.callOptions(),
          );
        printChangedKey(ctx, RevokeKeyResponseSchema, response, id, "Revoked");
      }),
    );

  keys
    .command("delete")
    .description("delete a key: it never verifies again and leaves listings; its audit history stays")
    .argument("<key-id>", "id of the key")
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: EtagOptions) => {
        const id = keyId ?? "";
        const requestId = ctx.requestIdOf(options);
        await ctx.confirm(`delete key ${id}`, async () => {
          const name = await keyName(ctx, id);
          return `Delete the API key "${name}" (${id})? Any application using it loses access immediately.`;
        });
        const response = await ctx
          .connection()
          .keyAdmin.deleteKey({ keyId: id, requestId, etag: options.etag ?? "" }, ctx.callOptions());
        printChangedKey(ctx, DeleteKeyResponseSchema, response, id, "Deleted");
      }),
    );
}

/** printChangedKey prints the answer of a one-key change: as JSON, or as `<verb> key "<name>" (<id>)<after>`. */
function printChangedKey<Desc extends DescMessage>(
  ctx: CommandContext,
  schema: Desc,
  response: MessageShape<Desc> & { readonly key?: Key | undefined },
  id: string,
  verb: string,
  after = ".",
): void {
  if (ctx.globals.json === true) {
    ctx.printJson(schema, response);
    return;
  }
  ctx.io.out(
    `${verb} key "${terminalText(response.key?.name)}" (${terminalText(response.key?.keyId ?? id)})${after}\n`,
  );
}

async function keyName(ctx: CommandContext, keyId: string): Promise<string> {
  const response = await ctx.connection().keyAdmin.getKey({ keyId }, ctx.callOptions());
  return terminalText(response.key?.name);
}

async function createKey(ctx: CommandContext, options: CreateOptions): Promise<void> {
  const expireTime =
    options.expires === undefined
      ? undefined
      : timestampFromDate(parseTimeInput(options.expires, "--expires", ctx.io.now(), "future"));
  const response = await ctx.connection().keyAdmin.createKey(
    {
      tenantId: options.tenant,
      name: options.name,
      description: options.description ?? "",
      userId: options.user ?? "",
      groupId: options.group ?? "",
      permissions: options.permission ?? [],
      ipAllowlist: options.allowIp ?? [],
      labels: options.label ?? {},
      requestId: ctx.requestIdOf(options),
      ...(expireTime === undefined ? {} : { expireTime }),
    },
    ctx.callOptions(),
  );
  if (ctx.globals.json === true) {
    ctx.printJson(CreateKeyResponseSchema, response);
    return;
  }
  const key = response.key;
  ctx.io.out(
    `Created key "${terminalText(key?.name)}" (${terminalText(key?.keyId)}) for tenant ${terminalText(key?.tenantId)}.\n`,
  );
  printSecretOnce(ctx, response.secret, response.secretAlreadyIssued, key?.keyId ?? "");
}

async function listKeys(ctx: CommandContext, options: ListOptions): Promise<void> {
  const client = ctx.connection().keyAdmin;
  let last: ListKeysResponse | undefined;
  const { items: keys, nextPageToken } = await fetchPages<Key>(options, async (pageToken) => {
    const page = await client.listKeys(
      {
        tenantId: options.tenant ?? "",
        pageSize: options.limit ?? 0,
        pageToken,
        status: options.status === undefined ? KeyStatus.UNSPECIFIED : (statusFilter[options.status] ?? 0),
        expirationState:
          options.expiration === undefined
            ? ExpirationState.UNSPECIFIED
            : (expirationFilter[options.expiration] ?? ExpirationState.UNSPECIFIED),
        userId: options.user ?? "",
        groupId: options.group ?? "",
        nameQuery: options.name ?? "",
        showDeleted: options.showDeleted === true,
        label: options.label ?? "",
      },
      ctx.callOptions(),
    );
    last = page;
    return { items: page.keys, nextPageToken: page.nextPageToken };
  });
  if (ctx.globals.json === true) {
    const merged = create(ListKeysResponseSchema, {
      keys,
      nextPageToken,
      ...(last?.tenant === undefined ? {} : { tenant: last.tenant }),
    });
    ctx.printJson(ListKeysResponseSchema, merged);
    return;
  }
  if (last?.tenant !== undefined) {
    ctx.io.out(`Tenant ${terminalText(last.tenant.tenantId)}: ${usageText(last.tenant)}\n\n`);
  }
  ctx.io.out(keys.length === 0 ? "No keys.\n" : `${keysTable(keys)}\n`);
  printNextPageHint(ctx, nextPageToken, "keys");
}

async function updateKey(ctx: CommandContext, keyId: string, options: UpdateOptions): Promise<void> {
  const paths: string[] = [];
  const key = create(KeySchema, { keyId });
  const conflict = (a: string, b: string): never => {
    throw usageError(`use either ${a} or ${b}, not both`);
  };
  if (options.name !== undefined) {
    key.name = options.name;
    paths.push("name");
  }
  if (options.description !== undefined) {
    key.description = options.description;
    paths.push("description");
  }
  if (options.user !== undefined || options.clearUser === true) {
    if (options.user !== undefined && options.clearUser === true) {
      conflict("--user", "--clear-user");
    }
    key.userId = options.user ?? "";
    paths.push("user_id");
  }
  if (options.group !== undefined || options.clearGroup === true) {
    if (options.group !== undefined && options.clearGroup === true) {
      conflict("--group", "--clear-group");
    }
    key.groupId = options.group ?? "";
    paths.push("group_id");
  }
  if (options.permission !== undefined || options.clearPermissions === true) {
    if (options.permission !== undefined && options.clearPermissions === true) {
      conflict("--permission", "--clear-permissions");
    }
    key.permissions = options.permission ?? [];
    paths.push("permissions");
  }
  if (options.allowIp !== undefined || options.clearAllowIp === true) {
    if (options.allowIp !== undefined && options.clearAllowIp === true) {
      conflict("--allow-ip", "--clear-allow-ip");
    }
    key.ipAllowlist = options.allowIp ?? [];
    paths.push("ip_allowlist");
  }
  if (options.expires !== undefined) {
    key.expireTime = timestampFromDate(parseTimeInput(options.expires, "--expires", ctx.io.now(), "future"));
    paths.push("expire_time");
  }
  if (options.label !== undefined || options.clearLabels === true) {
    if (options.label !== undefined && options.clearLabels === true) {
      conflict("--label", "--clear-labels");
    }
    key.labels = options.label ?? {};
    paths.push("labels");
  }
  if (paths.length === 0) {
    throw usageError(
      "nothing to update: give at least one of --name, --description, --user, --group, --permission, --allow-ip, --expires, --label (or a --clear-… option)",
    );
  }
  key.etag = options.etag ?? "";
  const response = await ctx
    .connection()
    .keyAdmin.updateKey(
      { key, updateMask: create(FieldMaskSchema, { paths }), requestId: ctx.requestIdOf(options) },
      ctx.callOptions(),
    );
  if (ctx.globals.json === true) {
    ctx.printJson(UpdateKeyResponseSchema, response);
  } else if (response.key !== undefined) {
    ctx.io.out(
      `Updated ${paths.join(", ")} of key ${terminalText(response.key.keyId)}.\n${keyDetails(response.key)}\n`,
    );
  }
}
