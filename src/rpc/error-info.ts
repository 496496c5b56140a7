/**
 * google.rpc.ErrorInfo, the standard machine-readable error detail (reason, domain, metadata), for errors a
 * client is expected to act on (an expired audit cursor carries the cursor to re-sync from). The message is
 * described here from its published definition (googleapis google/rpc/error_details.proto) rather than
 * generated, as the API imports nothing from googleapis; the type name and field numbers are the standard
 * ones, so every gRPC and Connect client that knows ErrorInfo decodes it.
 */
import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { type Code, ConnectError } from "@connectrpc/connect";

/** ERROR_INFO_DOMAIN is the ErrorInfo domain of this service's errors. */
export const ERROR_INFO_DOMAIN = "apikeys.v1";

const string = (name: string, number: number) => ({
  name,
  number,
  jsonName: name,
  type: FieldDescriptorProto_Type.STRING,
  label: FieldDescriptorProto_Label.OPTIONAL,
});

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "google/rpc/error_details.proto",
    package: "google.rpc",
    syntax: "proto3",
    messageType: [
      {
        name: "ErrorInfo",
        field: [
          string("reason", 1),
          string("domain", 2),
          {
            name: "metadata",
            number: 3,
            jsonName: "metadata",
            type: FieldDescriptorProto_Type.MESSAGE,
            label: FieldDescriptorProto_Label.REPEATED,
            typeName: ".google.rpc.ErrorInfo.MetadataEntry",
          },
        ],
        nestedType: [
          {
            name: "MetadataEntry",
            field: [string("key", 1), string("value", 2)],
            options: { mapEntry: true },
          },
        ],
      },
    ],
  }),
  () => undefined,
);

/** ErrorInfoSchema describes google.rpc.ErrorInfo. */
export const ErrorInfoSchema: DescMessage = (() => {
  const schema = registry.getMessage("google.rpc.ErrorInfo");
  if (schema === undefined) {
    throw new Error("google.rpc.ErrorInfo is not in its own registry");
  }
  return schema;
})();

/** ErrorInfo is the content of one google.rpc.ErrorInfo detail. */
export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * errorWithInfo builds a ConnectError carrying one ErrorInfo detail (domain ERROR_INFO_DOMAIN). `cause` is
 * kept for the request log, never sent.
 */
export function errorWithInfo(
  message: string,
  code: Code,
  reason: string,
  metadata: Readonly<Record<string, string>>,
  cause?: unknown,
): ConnectError {
  return new ConnectError(
    message,
    code,
    undefined,
    [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_INFO_DOMAIN, metadata: { ...metadata } } }],
    cause,
  );
}

/** errorInfoOf returns the first ErrorInfo detail of a ConnectError received by a client, or null. */
export function errorInfoOf(error: ConnectError): ErrorInfo | null {
  const [info] = error.findDetails(ErrorInfoSchema) as unknown as ErrorInfo[];
  return info === undefined ? null : { reason: info.reason, domain: info.domain, metadata: info.metadata };
}
