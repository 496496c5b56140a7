/**
 * A stock @grpc/grpc-js client for any protobuf-es service, for tests over real sockets on the gRPC port.
 * Requests are init objects (like connect-es clients); failures reject with grpc-js ServiceError (numeric
 * `code`, `details`, `metadata`), exactly what a real grpc-js caller sees.
 */
import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import type { FieldViolation } from "../../src/domain/errors.js";
import { type ErrorInfo, errorInfoOf, fieldViolationsOf } from "../../src/rpc/error-info.js";
import { createGrpcDefinition } from "../../src/transport/grpc-js-bridge.js";
import { captureError } from "./capture-error.js";

/** GrpcCallOptions tune one call. */
export interface GrpcCallOptions {
  /** metadata to send; plain string values, or a grpc-js Metadata. */
  readonly metadata?: Readonly<Record<string, string>> | Metadata;
  /** deadlineMs from now; none by default (the server then applies its default deadline). */
  readonly deadlineMs?: number;
}

/** GrpcJsClient has one method per RPC: unary ones return a promise, server-streaming ones a stream. */
export type GrpcJsClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: GrpcCallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: GrpcCallOptions) => ClientReadableStream<MessageShape<O>>
      : never;
} & {
  /** raw is the underlying grpc-js Client (for waitForReady, getChannel...). */
  readonly raw: Client;
  /** close closes the channel. */
  close(): void;
};

/** GrpcClientOptions choose credentials (plain text by default) and channel options. */
export interface GrpcClientOptions {
  readonly credentials?: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
}

function toMetadata(metadata: GrpcCallOptions["metadata"]): Metadata {
  if (metadata instanceof Metadata) {
    return metadata;
  }
  const result = new Metadata();
  for (const [key, value] of Object.entries(metadata ?? {})) {
    result.add(key, value);
  }
  return result;
}

function callOptions(options: GrpcCallOptions | undefined): CallOptions {
  return options?.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}

/** createGrpcJsClient returns a grpc-js client for `service` at `address` ("host:port"). */
export function createGrpcJsClient<S extends DescService>(
  service: S,
  address: string,
  options: GrpcClientOptions = {},
): GrpcJsClient<S> {
  const raw = new Client(
    address,
    options.credentials ?? credentials.createInsecure(),
    options.channelOptions,
  );
  const definition = createGrpcDefinition(service);
  const client: Record<string, unknown> = {
    raw,
    close: () => raw.close(),
  };
  for (const method of service.methods) {
    const attrs = definition[method.localName];
    if (attrs === undefined) {
      continue;
    }
    if (method.methodKind === "unary") {
      client[method.localName] = (request: unknown, callOpts?: GrpcCallOptions) =>
        new Promise((resolve, reject) => {
          raw.makeUnaryRequest(
            attrs.path,
            attrs.requestSerialize,
            attrs.responseDeserialize,
            request,
            toMetadata(callOpts?.metadata),
            callOptions(callOpts),
            (error: ServiceError | null, response?: unknown) => {
              if (error !== null) {
                reject(error);
              } else {
                resolve(response);
              }
            },
          );
        });
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: unknown, callOpts?: GrpcCallOptions) =>
        raw.makeServerStreamRequest(
          attrs.path,
          attrs.requestSerialize,
          attrs.responseDeserialize,
          request,
          toMetadata(callOpts?.metadata),
          callOptions(callOpts),
        );
    }
  }
  return client as GrpcJsClient<S>;
}

/** isServiceError tells whether `error` is a grpc-js call failure (has a numeric code). */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}

/** grpcFailure awaits `promise` and returns its ServiceError; it fails the test if the call succeeded. */
export async function grpcFailure(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await captureError(promise);
  if (isServiceError(error)) {
    return error;
  }
  throw error;
}

/** grpcStatusDetails decodes a grpc-js error's grpc-status-details-bin trailer into a ConnectError, or null. */
function grpcStatusDetails(error: ServiceError): ConnectError | null {
  const details = error.metadata?.get("grpc-status-details-bin")[0];
  if (!(details instanceof Buffer)) {
    return null;
  }
  const trailer = new Headers({
    "grpc-status": String(error.code),
    "grpc-message": encodeURIComponent(error.details),
    "grpc-status-details-bin": details.toString("base64"),
  });
  return findTrailerError(trailer) ?? null;
}

/** grpcErrorInfo decodes the google.rpc.ErrorInfo of a grpc-js error from its grpc-status-details-bin trailer. */
export function grpcErrorInfo(error: ServiceError): ErrorInfo | null {
  const decoded = grpcStatusDetails(error);
  return decoded === null ? null : errorInfoOf(decoded);
}

/** grpcFieldViolations decodes the google.rpc.BadRequest field violations of a grpc-js error. */
export function grpcFieldViolations(error: ServiceError): FieldViolation[] {
  const decoded = grpcStatusDetails(error);
  return decoded === null ? [] : fieldViolationsOf(decoded);
}
