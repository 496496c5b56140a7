import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ExpirationState, type Group, type Key, KeyStatus, type Tenant } from "../gen/apikeys/v1/key_pb.js";
import { terminalText } from "./terminal-text.js";
import { formatTable } from "./text-table.js";
import { formatTime } from "./time-format.js";

/** statusText is a key's lifecycle status in lower case ("active", "disabled", "expired", "revoked", "deleted"). */
export function statusText(key: Key): string {
  if (key.deleteTime !== undefined) {
    return "deleted";
  }
  return key.status === KeyStatus.UNSPECIFIED ? "unknown" : enumText(KeyStatus[key.status]);
}

/** expiryText is a key's expiry with its expiration state: "never", "2026-01-01 00:00 UTC (expiring soon)". */
export function expiryText(key: Key): string {
  if (key.expireTime === undefined) {
    return "never";
  }
  // A state this CLI does not know reads as valid: only expiring soon and expired are warnings.
  const known = [ExpirationState.EXPIRING_SOON, ExpirationState.EXPIRED].includes(key.expirationState);
  const state = known ? key.expirationState : ExpirationState.VALID;
  return `${formatTime(key.expireTime)} (${enumText(ExpirationState[state])})`;
}

/** enumText writes an enum value's name the way the CLI shows it: "EXPIRING_SOON" as "expiring soon". */
function enumText(name: string | undefined): string {
  return name === undefined ? "unknown" : name.toLowerCase().replace(/_/g, " ");
}

/** usageText is a tenant's key usage as the seeds show it: "2/10 keys". */
export function usageText(tenant: Tenant): string {
  return `${tenant.usedKeys}/${tenant.keyLimit} keys`;
}

/** keysTable renders keys as the list view: name, key id, status, group, expiry, last used. */
export function keysTable(keys: readonly Key[]): string {
  return formatTable(
    ["name", "key id", "status", "group", "expiry", "last used"],
    keys.map((key) => [
      key.name,
      key.keyId,
      statusText(key),
      key.groupId === "" ? "-" : key.groupId,
      expiryText(key),
      formatTime(key.lastUsedTime),
    ]),
  );
}

/** keyDetails renders one key's metadata as labelled lines. It never has a secret to show. */
export function keyDetails(key: Key): string {
  const lines: [string, string][] = [
    ["Key id", key.keyId],
    ["Name", key.name],
    ["Tenant", key.tenantId],
    ["Description", key.description],
    ["Status", statusText(key)],
    ["Expiry", expiryText(key)],
    ["User", key.userId],
    ["Group", key.groupId],
    ["Permissions", key.permissions.join(", ")],
    ["IP allowlist", key.ipAllowlist.join(", ")],
    ["Labels", labelsText(key.labels)],
    ["Secret hint", key.displayHint],
    ["Created", whenBy(key.createTime, key.createdBy)],
    ["Updated", formatTime(key.updateTime, "-")],
    ["Last used", formatTime(key.lastUsedTime)],
    ["Etag", key.etag],
  ];
  if (key.disableTime !== undefined) {
    lines.push(["Disabled", whenBy(key.disableTime, key.disabledBy, key.disableReason)]);
  }
  if (key.revokeTime !== undefined) {
    lines.push(["Revoked", whenBy(key.revokeTime, key.revokedBy, key.revokeReason)]);
  }
  if (key.deleteTime !== undefined) {
    lines.push(["Deleted", formatTime(key.deleteTime)]);
  }
  for (const secret of key.secrets) {
    const until =
      secret.expireTime === undefined ? "current" : `works until ${formatTime(secret.expireTime)}`;
    lines.push([`Secret gen ${secret.generation}`, `${secret.displayHint} (${until})`]);
  }
  return labelled(lines);
}

/** whenBy renders a change of a key: "2026-01-01 00:00 UTC by key_1 (reason)", each part when known. */
function whenBy(time: Timestamp | undefined, by: string, reason = ""): string {
  return `${formatTime(time, "-")}${by === "" ? "" : ` by ${by}`}${reason === "" ? "" : ` (${reason})`}`;
}

/** groupsTable renders groups: name, group id, key count, permissions. */
export function groupsTable(groups: readonly Group[]): string {
  return formatTable(
    ["name", "group id", "keys", "permissions"],
    groups.map((group) => [group.name, group.groupId, String(group.keyCount), group.permissions.join(", ")]),
  );
}

export function groupDetails(group: Group): string {
  return labelled([
    ["Group id", group.groupId],
    ["Name", group.name],
    ["Tenant", group.tenantId],
    ["Description", group.description],
    ["Permissions", group.permissions.join(", ")],
    ["Keys", String(group.keyCount)],
    ["Labels", labelsText(group.labels)],
    ["Created", formatTime(group.createTime, "-")],
    ["Updated", formatTime(group.updateTime, "-")],
    ["Etag", group.etag],
  ]);
}

/** tenantDetails renders a tenant's limit and usage: "acme: 2/10 keys (limit set for this tenant)". */
export function tenantDetails(tenant: Tenant): string {
  const origin = tenant.keyLimitOverridden ? "limit set for this tenant" : "server default limit";
  const name = tenant.displayName === "" ? "" : ` "${terminalText(tenant.displayName)}"`;
  const etag = tenant.etag === "" ? "" : `, etag ${terminalText(tenant.etag)}`;
  return `${terminalText(tenant.tenantId)}${name}: ${usageText(tenant)} (${origin}${etag})`;
}

/** tenantsTable renders tenants: tenant id, display name, usage, created. */
export function tenantsTable(tenants: readonly Tenant[]): string {
  return formatTable(
    ["tenant id", "display name", "keys", "created"],
    tenants.map((tenant) => [
      tenant.tenantId,
      tenant.displayName === "" ? "-" : tenant.displayName,
      usageText(tenant),
      formatTime(tenant.createTime, "-"),
    ]),
  );
}

/** labelsText renders labels sorted by key: "region=eu, tier=gold". */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(", ");
}

function labelled(lines: readonly [string, string][]): string {
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  return lines.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${terminalText(value)}`).join("\n");
}
