/**
 * Strict reading of JSON requests on the HTTP port: unknown fields, unknown enum names and impossible
 * timestamps are INVALID_ARGUMENT naming the field (why: docs/architecture.md, "Strict JSON requests"). The
 * check runs in the JSON serializer's text decoder, the one place that sees the text and knows the method.
 */
import type { DescEnum, DescMessage, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createServiceImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import { isCalendarDateTime } from "../domain/validation.js";

// The text protobuf-es accepts for a google.protobuf.Timestamp (RFC 3339, UTC or an offset).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const PLAIN_NAME = /^[A-Za-z0-9_]{1,64}$/;

function refuse(field: string, message: string): ConnectError {
  return new ConnectError(`${field}: ${message}`, Code.InvalidArgument);
}

/** shown quotes request text for an error message, shortened so a huge value cannot bloat it. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function checkEnum(desc: DescEnum, value: unknown, field: string): void {
  const known =
    typeof value === "string"
      ? desc.values.some((v) => v.name === value)
      : typeof value === "number"
        ? desc.values.some((v) => v.number === value)
        : true; // other shapes: protobuf-es refuses them itself
  if (!known) {
    const given = typeof value === "string" ? shown(value) : String(value);
    throw refuse(
      field,
      `${given} is not a ${desc.name} (one of ${desc.values.map((v) => v.name).join(", ")})`,
    );
  }
}

function checkMessageValue(desc: DescMessage, value: unknown, field: string): void {
  if (desc.typeName === "google.protobuf.Timestamp") {
    if (typeof value === "string" && RFC3339.test(value) && !isCalendarDateTime(value)) {
      throw refuse(field, `${shown(value)} is not a date and time the calendar has`);
    }
    return;
  }
  if (desc.typeName.startsWith("google.protobuf.")) {
    return; // the other well-known types have JSON forms of their own, which protobuf-es checks
  }
  checkMessage(desc, value, `${field}.`);
}

function checkMessage(desc: DescMessage, json: unknown, prefix: string): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return; // not an object: protobuf-es refuses it with its own message
  }
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (field === undefined) {
      throw refuse(
        `${prefix}${PLAIN_NAME.test(key) ? key : shown(key)}`,
        `unknown field of ${desc.typeName}`,
      );
    }
    const path = `${prefix}${field.name}`;
    if (value === null) {
      continue;
    }
    switch (field.fieldKind) {
      case "enum":
        checkEnum(field.enum, value, path);
        break;
      case "message":
        checkMessageValue(field.message, value, path);
        break;
      case "list":
        if (Array.isArray(value)) {
          value.forEach((item: unknown, i) => {
            if (field.listKind === "enum") {
              checkEnum(field.enum, item, `${path}[${i}]`);
            } else if (field.listKind === "message") {
              checkMessageValue(field.message, item, `${path}[${i}]`);
            }
          });
        }
        break;
      case "map":
        if (typeof value === "object" && !Array.isArray(value)) {
          for (const [k, item] of Object.entries(value as object)) {
            if (field.mapKind === "enum") {
              checkEnum(field.enum, item, `${path}[${shown(k)}]`);
            } else if (field.mapKind === "message") {
              checkMessageValue(field.message, item, `${path}[${shown(k)}]`);
            }
          }
        }
        break;
      default:
        break;
    }
  }
}

/**
 * checkJsonRequest checks the JSON text of a request to `schema`: unknown fields, unknown enum values and
 * impossible timestamps are refused with INVALID_ARGUMENT naming the field (proto names, "key.expire_time",
 * "kinds[1]"). Text that is not JSON is left to the reader, which refuses it.
 */
function checkJsonRequest(schema: DescMessage, text: string): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return;
  }
  checkMessage(schema, json, "");
}

// connect-node's own default decoder: invalid UTF-8 becomes U+FFFD, as before.
const utf8 = new TextDecoder();

/** strictJsonOptions are connect's JSON options that read requests to `schema` strictly. */
function strictJsonOptions(schema: DescMessage) {
  const decode = (data: Uint8Array) => {
    const text = utf8.decode(data);
    checkJsonRequest(schema, text);
    return text;
  };
  return { ignoreUnknownFields: false, textDecoder: { decode } };
}

/**
 * addStrictJsonService registers `impl` on `router` like `router.service`, one method at a time so each
 * method's JSON requests are read strictly against its own input schema (methods `impl` lacks answer
 * UNIMPLEMENTED, as with `router.service`).
 */
export function addStrictJsonService(
  router: ConnectRouter,
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
): void {
  const spec = createServiceImplSpec(service, impl);
  for (const method of service.methods) {
    const methodSpec = spec.methods[method.localName];
    if (methodSpec !== undefined) {
      router.rpc(method, methodSpec.impl as never, { jsonOptions: strictJsonOptions(method.input) });
    }
  }
}
