import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { durationFromMs, type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Command, Option } from "commander";
import {
  CreateKeyResponseSchema,
  DeleteKeyResponseSchema,
  DisableKeyResponseSchema,
  EnableKeyResponseSchema,
  GetKeyResponseSchema,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  RotateKeyResponseSchema,
  UpdateKeyResponseSchema,
} from "../../gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, type Key, KeySchema, KeyStatus } from "../../gen/apikeys/v1/key_pb.js";
import type { AdminConnection } from "../admin-connection.js";
import type { CommandContext } from "../command-context.js";
import { keyDetails, keysTable, usageText } from "../key-presentation.js";
import { collectList } from "../option-parsers.js";
import { terminalText } from "../terminal-text.js";
import { parseDurationMs, parseTimeInput } from "../time-input.js";
import {
  type ActionRunner,
  changedFields,
  labelOption,
  printAnswer,
  printSecretOnce,
  requestIdOption,
  valueOrCleared,
} from "./command-helpers.js";
import { addPagingOptions, fetchPages, type PagingOptions, printPage } from "./paged-listing.js";

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

interface ListOptions extends PagingOptions {
  tenant?: string;
  status?: "active" | "disabled" | "expired" | "revoked";
  label?: string;
  expiration?: "valid" | "expiring-soon" | "expired";
  user?: string;
  group?: string;
  name?: string;
  showDeleted?: boolean;
}

interface UpdateOptions extends Partial<Omit<CreateOptions, "tenant">> {
  clearUser?: boolean;
  clearGroup?: boolean;
  clearPermissions?: boolean;
  clearAllowIp?: boolean;
  clearLabels?: boolean;
  etag?: string;
}

/** KeyChangeOptions are the options of a one-key change. */
interface KeyChangeOptions {
  reason?: string;
  etag?: string;
  requestId?: string;
}

// The --status and --expiration choices are the enum names in the CLI's spelling ("expiring-soon").
const statusChoices = ["active", "disabled", "expired", "revoked"];
const expirationChoices = ["valid", "expiring-soon", "expired"];

function enumValue<E extends Record<string, string | number>>(values: E, choice: string | undefined): number {
  return choice === undefined ? 0 : Number(values[choice.toUpperCase().replace("-", "_")]);
}

const etagOption = (): Option =>
  new Option("--etag <etag>", "change only if the key still has this etag (from `keys get`)");

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

  const list = keys
    .command("list")
    .description("list a tenant's keys (newest first) with the tenant's usage, e.g. \"2/10 keys\"")
    .option("--tenant <tenant-id>", "tenant to list (default: your key's tenant)")
    .addOption(new Option("--status <status>", "only keys with this status").choices(statusChoices))
    .addOption(
      new Option("--expiration <state>", "only keys in this expiration state").choices(expirationChoices),
    )
    .option("--user <user-id>", "only keys acting for this user")
    .option("--group <group-id>", "only keys in this group")
    .option("--name <text>", "only keys whose name contains this text")
    .option("--label <key=value>", "only keys carrying this label with this value")
    .option("--show-deleted", "include deleted keys");
  addPagingOptions(list, "keys").action(
    run(async (ctx, _args, options: ListOptions) => listKeys(ctx, options)),
  );

  keys
    .command("get")
    .description("show one key's metadata (never its secret)")
    .argument("<key-id>", "id of the key")
    .action(
      run(async (ctx, [keyId]) => {
        const response = await ctx.connection().keyAdmin.getKey({ keyId: keyId ?? "" }, ctx.callOptions());
        printAnswer(ctx, GetKeyResponseSchema, response, () => response.key && keyDetails(response.key));
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
      run(async (ctx, [keyId], options: { overlap?: string; expires?: string } & KeyChangeOptions) => {
        const overlapMs = options.overlap === undefined ? 0 : parseDurationMs(options.overlap, "--overlap");
        const expireTime = expireTimeOf(ctx, options.expires);
        const impact =
          overlapMs === 0
            ? "Applications using the current secret lose access immediately."
            : `The current secret keeps working for ${options.overlap}.`;
        const change = await confirmedKeyChange(
          ctx,
          keyId,
          options,
          "rotate",
          (name, id) => `Rotate API key "${name}" (${id})? ${impact}`,
        );
        const response = await ctx.connection().keyAdmin.rotateKey(
          {
            ...change,
            ...(overlapMs === 0 ? {} : { overlap: durationFromMs(overlapMs) }),
            ...expireTime,
          },
          ctx.callOptions(),
        );
        printChangedKey(ctx, RotateKeyResponseSchema, response, change.keyId, "Rotated");
        if (ctx.globals.json !== true) {
          printSecretOnce(
            ctx,
            response.secret,
            response.secretAlreadyIssued,
            response.key?.keyId ?? change.keyId,
          );
        }
      }),
    );

  addKeyChange(keys, run, {
    name: "disable",
    description: "turn a key off until `keys enable`: it answers DISABLED and keeps its slot of the limit",
    reason: "why the key is disabled",
    schema: DisableKeyResponseSchema,
    send: (admin, change, options) => admin.disableKey(change, options),
    done: "Disabled",
    after: "; `keys enable` turns it on again.",
  });
  addKeyChange(keys, run, {
    name: "enable",
    description: "turn a disabled key on again",
    schema: EnableKeyResponseSchema,
    send: (admin, change, options) => admin.enableKey(change, options),
    done: "Enabled",
  });
  addKeyChange(keys, run, {
    name: "revoke",
    description: "revoke a key immediately and permanently",
    reason: "why the key is revoked",
    question: (name, id) =>
      `Are you sure you want to revoke the API key "${name}" (${id})? This action cannot be undone and any applications using this key will lose access immediately.`,
    schema: RevokeKeyResponseSchema,
    send: (admin, change, options) => admin.revokeKey(change, options),
    done: "Revoked",
  });
  addKeyChange(keys, run, {
    name: "delete",
    description: "delete a key: it never verifies again and leaves listings; its audit history stays",
    question: (name, id) =>
      `Delete the API key "${name}" (${id})? Any application using it loses access immediately.`,
    schema: DeleteKeyResponseSchema,
    send: (admin, change, options) => admin.deleteKey(change, options),
    done: "Deleted",
  });
}

/** KeyChange is a one-key state change: disable, enable, revoke or delete. */
interface KeyChange<Desc extends DescMessage> {
  readonly name: string;
  readonly description: string;
  /** reason is the help of --reason, for a change that records one. */
  readonly reason?: string;
  /** question asks before a change that cuts off the key's applications. */
  readonly question?: (name: string, id: string) => string;
  readonly schema: Desc;
  readonly send: (
    admin: AdminConnection["keyAdmin"],
    change: ReturnType<typeof keyChangeOf>,
    options: ReturnType<CommandContext["callOptions"]>,
  ) => Promise<MessageShape<Desc> & { readonly key?: Key | undefined }>;
  /** done and after frame the line printed: `<done> key "<name>" (<id>)<after>`. */
  readonly done: string;
  readonly after?: string;
}

/** addKeyChange adds `keys <name> <key-id>` with --reason (if it records one), --etag and --request-id. */
function addKeyChange<Desc extends DescMessage>(
  keys: Command,
  run: ActionRunner,
  spec: KeyChange<Desc>,
): void {
  const command = keys.command(spec.name).description(spec.description).argument("<key-id>", "id of the key");
  if (spec.reason !== undefined) {
    command.option("--reason <text>", spec.reason);
  }
  command
    .addOption(etagOption())
    .addOption(requestIdOption())
    .action(
      run(async (ctx, [keyId], options: KeyChangeOptions) => {
        const change =
          spec.question === undefined
            ? keyChangeOf(ctx, keyId, options)
            : await confirmedKeyChange(ctx, keyId, options, spec.name, spec.question);
        const response = await spec.send(ctx.connection().keyAdmin, change, ctx.callOptions());
        printChangedKey(ctx, spec.schema, response, change.keyId, spec.done, spec.after);
      }),
    );
}

/** keyChangeOf is the request of a one-key change: the key, its request id, and --etag and --reason. */
function keyChangeOf(ctx: CommandContext, keyId: string | undefined, options: KeyChangeOptions) {
  return {
    keyId: keyId ?? "",
    requestId: ctx.requestIdOf(options),
    etag: options.etag ?? "",
    reason: options.reason ?? "",
  };
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
  const key = response.key;
  printAnswer(
    ctx,
    schema,
    response,
    () => `${verb} key "${terminalText(key?.name)}" (${terminalText(key?.keyId ?? id)})${after}`,
  );
}

/** expireTimeOf reads --expires (ISO 8601, or a duration from now) as a request's expire time. */
function expireTimeOf(ctx: CommandContext, expires: string | undefined): { expireTime?: Timestamp } {
  return expires === undefined
    ? {}
    : { expireTime: timestampFromDate(parseTimeInput(expires, "--expires", ctx.io.now(), "future")) };
}

/**
 * confirmedKeyChange is the request of a change that cuts off the key's applications, once the user said yes
 * to `question` about the key's name (or gave --yes).
 */
async function confirmedKeyChange(
  ctx: CommandContext,
  keyId: string | undefined,
  options: KeyChangeOptions,
  action: string,
  question: (name: string, id: string) => string,
) {
  const change = keyChangeOf(ctx, keyId, options);
  await ctx.confirm(`${action} key ${change.keyId}`, async () => {
    const response = await ctx.connection().keyAdmin.getKey({ keyId: change.keyId }, ctx.callOptions());
    return question(terminalText(response.key?.name), change.keyId);
  });
  return change;
}

async function createKey(ctx: CommandContext, options: CreateOptions): Promise<void> {
  const expireTime = expireTimeOf(ctx, options.expires);
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
      ...expireTime,
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
  const filter = {
    tenantId: options.tenant ?? "",
    status: enumValue(KeyStatus, options.status),
    expirationState: enumValue(ExpirationState, options.expiration),
    userId: options.user ?? "",
    groupId: options.group ?? "",
    nameQuery: options.name ?? "",
    showDeleted: options.showDeleted === true,
    label: options.label ?? "",
  };
  const page = await fetchPages(
    options,
    (request) => ctx.connection().keyAdmin.listKeys({ ...filter, ...request }, ctx.callOptions()),
    "keys",
  );
  if (ctx.globals.json !== true && page.tenant !== undefined) {
    ctx.io.out(`Tenant ${terminalText(page.tenant.tenantId)}: ${usageText(page.tenant)}\n\n`);
  }
  printPage(ctx, ListKeysResponseSchema, page, page.keys, keysTable, "keys");
}

async function updateKey(ctx: CommandContext, keyId: string, options: UpdateOptions): Promise<void> {
  const { fields, paths, updateMask } = changedFields(
    {
      name: options.name,
      description: options.description,
      userId: valueOrCleared(options.user, options.clearUser, "", ["--user", "--clear-user"]),
      groupId: valueOrCleared(options.group, options.clearGroup, "", ["--group", "--clear-group"]),
      permissions: valueOrCleared(
        options.permission,
        options.clearPermissions,
        [],
        ["--permission", "--clear-permissions"],
      ),
      ipAllowlist: valueOrCleared(
        options.allowIp,
        options.clearAllowIp,
        [],
        ["--allow-ip", "--clear-allow-ip"],
      ),
      expireTime: expireTimeOf(ctx, options.expires).expireTime,
      labels: valueOrCleared(options.label, options.clearLabels, {}, ["--label", "--clear-labels"]),
    },
    "at least one of --name, --description, --user, --group, --permission, --allow-ip, --expires, --label (or a --clear-… option)",
  );
  const response = await ctx.connection().keyAdmin.updateKey(
    {
      key: create(KeySchema, { keyId, etag: options.etag ?? "", ...fields }),
      updateMask,
      requestId: ctx.requestIdOf(options),
    },
    ctx.callOptions(),
  );
  printAnswer(
    ctx,
    UpdateKeyResponseSchema,
    response,
    () =>
      response.key &&
      `Updated ${paths.join(", ")} of key ${terminalText(response.key.keyId)}.\n${keyDetails(response.key)}`,
  );
}
