import { toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { AdminAction, type AuditEvent } from "../gen/apikeys/v1/audit_pb.js";
import { VerificationCode } from "../gen/apikeys/v1/key_verify_service_pb.js";
import { terminalText } from "./terminal-text.js";
import { formatTable } from "./text-table.js";
import { formatInstant } from "./time-format.js";

/** verificationCodeText names a verdict: "VALID", "NOT_FOUND", … */
export function verificationCodeText(code: VerificationCode): string {
  return VerificationCode[code] ?? String(code);
}

/** adminActionText names an admin action in the style "key.revoked". */
export function adminActionText(action: AdminAction): string {
  const name = AdminAction[action];
  if (name === undefined) {
    return String(action);
  }
  const [subject, ...verb] = name.toLowerCase().split("_");
  return `${subject}.${verb.join("_")}`;
}

/** usageTable renders usage events the way the seed's usage log shows them: time, endpoint, IP, code, status. */
export function usageTable(events: readonly AuditEvent[]): string {
  return formatTable(
    ["time", "endpoint", "ip address", "code", "status"],
    events.map((event) => {
      const usage = event.detail.case === "usage" ? event.detail.value : undefined;
      return [
        formatInstant(event.time),
        usage?.endpoint ?? "",
        usage?.clientIp ?? "",
        usage === undefined ? "" : verificationCodeText(usage.code),
        usage === undefined || usage.httpStatus === 0 ? "" : String(usage.httpStatus),
      ];
    }),
  );
}

/** auditEventLine renders one streamed audit event as a single terminal-safe line. */
export function auditEventLine(event: AuditEvent): string {
  const head = `${formatInstant(event.time)}  ${event.detail.case ?? "event"}  ${terminalText(event.tenantId)}`;
  switch (event.detail.case) {
    case "usage": {
      const usage = event.detail.value;
      return [
        head,
        terminalText(usage.keyId),
        terminalText(usage.endpoint),
        terminalText(usage.clientIp),
        `${verificationCodeText(usage.code)} ${usage.httpStatus}`,
        terminalText(usage.replica),
      ].join("  ");
    }
    case "admin": {
      const admin = event.detail.value;
      const target =
        admin.keyId !== "" ? `key=${admin.keyId}` : admin.groupId !== "" ? `group=${admin.groupId}` : "";
      const parts = [
        head,
        adminActionText(admin.action),
        terminalText(target, ""),
        `by=${terminalText(admin.actorKeyId)}`,
        admin.changedFields.length === 0 ? "" : `fields=${terminalText(admin.changedFields.join(","))}`,
        admin.requestId === "" ? "" : `request=${terminalText(admin.requestId)}`,
      ];
      return parts.filter((part) => part !== "").join("  ");
    }
    default:
      return `${head}  ${terminalText(event.eventId)}`;
  }
}

/**
 * adminChangeLines lists an admin event's field changes, one indented line each: `name: "ERP" -> "ERP 2"`
 * (values as compact JSON); nothing for a usage event or an event without values.
 */
export function adminChangeLines(event: AuditEvent): string[] {
  if (event.detail.case !== "admin") {
    return [];
  }
  return event.detail.value.changes.map(
    (change) =>
      `    ${terminalText(change.field)}: ${terminalText(valueText(change.oldValue))} -> ${terminalText(valueText(change.newValue))}`,
  );
}

function valueText(value: Value | undefined): string {
  return value === undefined ? "null" : JSON.stringify(toJson(ValueSchema, value));
}
