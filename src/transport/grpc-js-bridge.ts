/**
 * The bridge from protobuf-es service descriptors to @grpc/grpc-js: one generic adapter that serves any
 * connect-es ServiceImpl (unary and server-streaming) on a grpc-js Server through the same Connect
 * interceptors as the HTTP port (docs/architecture.md, "The grpc-js bridge").
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createServiceImplSpec,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import {
  Metadata,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { kAbortCall, kPeerAddress, kRequestId } from "../rpc/context-keys.js";
import { toRpcError } from "./error-boundary.js";
import { kUnreadRequestBytes } from "./interceptors/request-log.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./request-id.js";

/** GrpcBridgeOptions are shared by every service the bridge serves. */
export interface GrpcBridgeOptions {
  /** interceptors run around every call, outermost first (createCallInterceptors). */
  readonly interceptors: readonly Interceptor[];
  /** maxDeadlineMs rejects (INVALID_ARGUMENT) a longer requested deadline, as connect-node's maxTimeoutMs. */
  readonly maxDeadlineMs: number;
}

/** PROTOCOL_NAME is the HandlerContext.protocolName of calls served by the bridge. */
export const PROTOCOL_NAME = "grpc";

type AnyImpl = (request: unknown, context: HandlerContext) => unknown;
type BridgeCall = ServerUnaryCall<unknown, Buffer> | ServerWritableStream<unknown, Buffer>;
type AnyRequest = UnaryRequest | StreamRequest;
type AnyResponse = UnaryResponse | StreamResponse;

/** UNPARSABLE_MESSAGE answers a request whose message does not parse; it never quotes the request. */
export const UNPARSABLE_MESSAGE = "the request message could not be parsed";

/**
 * UnparsableRequest stands for a request message that did not parse: grpc-js would answer a throwing
 * deserializer with INTERNAL before any interceptor ran, so the bridge answers INVALID_ARGUMENT itself and
 * the request log sees the call. Only the size is kept.
 */
class UnparsableRequest {
  constructor(readonly bytes: number) {}
}

function decodeRequest(schema: DescMessage, bytes: Buffer): unknown {
  try {
    return fromBinary(schema, bytes);
  } catch {
    return new UnparsableRequest(bytes.byteLength);
  }
}

/** parsedRequest refuses an unparsable request inside the interceptor chain (after the request log). */
function parsedRequest(message: unknown): unknown {
  if (message instanceof UnparsableRequest) {
    throw new ConnectError(UNPARSABLE_MESSAGE, Code.InvalidArgument);
  }
  return message;
}

function encode(schema: DescMessage, message: unknown): Buffer {
  // Bytes pass through: the bridge encodes its responses itself, so an encoding failure is an ordinary
  // INTERNAL from the error boundary instead of grpc-js's own message.
  return Buffer.isBuffer(message)
    ? message
    : Buffer.from(toBinary(schema, create(schema, message as MessageInitShape<DescMessage>)));
}

/**
 * createGrpcDefinition returns the grpc-js ServiceDefinition of `service`, for servers and clients alike:
 * messages are encoded and decoded with the methods' protobuf-es schemas.
 */
export function createGrpcDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    const { input, output, methodKind } = method;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: methodKind === "client_streaming" || methodKind === "bidi_streaming",
      responseStream: methodKind === "server_streaming" || methodKind === "bidi_streaming",
      requestSerialize: (message: unknown) => encode(input, message),
      requestDeserialize: (bytes: Buffer) => decodeRequest(input, bytes),
      responseSerialize: (message: unknown) => encode(output, message),
      responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
      originalName: method.name,
    };
  }
  return definition;
}

/**
 * createGrpcServiceHandlers returns the grpc-js handlers that serve `impl` (a connect-es ServiceImpl, maybe
 * partial; a missing method answers UNIMPLEMENTED with connect's wording, so both ports say the same).
 */
export function createGrpcServiceHandlers<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: GrpcBridgeOptions,
): UntypedServiceImplementation {
  const spec = createServiceImplSpec(service, impl);
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
      throw new Error(
        `${service.typeName}.${method.name}: the grpc-js bridge serves unary and server-streaming methods only`,
      );
    }
    const methodImpl = spec.methods[method.localName]?.impl as AnyImpl;
    handlers[method.localName] =
      method.methodKind === "unary"
        ? (call: ServerUnaryCall<unknown, Buffer>, callback: sendUnaryData<Buffer>) =>
            void serveUnary(method, methodImpl, options, call, callback)
        : (call: ServerWritableStream<unknown, Buffer>) =>
            void serveStream(method, methodImpl, options, call);
  }
  return handlers;
}

/** addServiceToGrpcServer registers `impl` for `service` on a grpc-js server through the bridge. */
export function addServiceToGrpcServer<S extends DescService>(
  server: Server,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: GrpcBridgeOptions,
): void {
  server.addService(createGrpcDefinition(service), createGrpcServiceHandlers(service, impl, options));
}

/** Call is one call in flight: its handler context and the chain that serves it. */
interface Call {
  readonly context: ReturnType<typeof createHandlerContext>;
  readonly run: (request: AnyRequest) => Promise<AnyResponse>;
  readonly request: Omit<AnyRequest, "stream" | "message" | "method">;
}

/**
 * startCall builds the call's HandlerContext and its interceptor chain, or returns the refusal of a
 * deadline beyond the maximum (before any interceptor, as connect-node refuses it on the HTTP port).
 */
function startCall(
  method: DescMethod,
  impl: AnyImpl,
  options: GrpcBridgeOptions,
  call: BridgeCall,
): Call | ConnectError {
  const deadline = call.getDeadline();
  const deadlineMs = typeof deadline === "number" ? deadline : deadline.getTime();
  const timeoutMs = deadlineMs === Number.POSITIVE_INFINITY ? undefined : deadlineMs - Date.now();
  if (timeoutMs !== undefined && timeoutMs > options.maxDeadlineMs) {
    return new ConnectError(
      `the requested deadline exceeds the server maximum of ${options.maxDeadlineMs} ms`,
      Code.InvalidArgument,
    );
  }
  const requestId = call.metadata.get(REQUEST_ID_HEADER)[0];
  const context = createHandlerContext({
    service: method.parent,
    method,
    protocolName: PROTOCOL_NAME,
    requestMethod: "POST",
    url: `/${method.parent.typeName}/${method.name}`,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    requestHeader: requestHeaderOf(call.metadata, timeoutMs),
    contextValues: createContextValues()
      .set(kPeerAddress, call.getPeer())
      .set(kRequestId, requestIdFor(typeof requestId === "string" ? requestId : undefined))
      .set(kUnreadRequestBytes, call.request instanceof UnparsableRequest ? call.request.bytes : undefined),
  });
  call.once("cancelled", () =>
    context.abort(
      Date.now() >= deadlineMs
        ? new ConnectError("deadline exceeded", Code.DeadlineExceeded)
        : new ConnectError("the client cancelled the call", Code.Canceled),
    ),
  );
  // The innermost step calls the implementation with the request as the interceptors left it (connect's
  // own invocation does the same); the response carries the context's headers and trailers.
  const invoke = async (req: AnyRequest): Promise<AnyResponse> => {
    const merged = { ...context, requestHeader: req.header, signal: req.signal, values: req.contextValues };
    const common = {
      service: method.parent,
      header: context.responseHeader,
      trailer: context.responseTrailer,
    };
    if (!req.stream) {
      return {
        ...common,
        stream: false,
        method,
        message: create(method.output, (await impl(parsedRequest(req.message), merged)) as never),
      } as UnaryResponse;
    }
    let input: unknown;
    for await (const message of req.message) {
      input = parsedRequest(message);
    }
    return {
      ...common,
      stream: true,
      method,
      message: impl(input, merged) as AsyncIterable<never>,
    } as StreamResponse;
  };
  return {
    context,
    run: options.interceptors.reduceRight(
      (next, interceptor) => interceptor(next as never) as typeof next,
      invoke,
    ),
    request: {
      service: method.parent,
      requestMethod: context.requestMethod,
      url: context.url,
      signal: context.signal,
      header: context.requestHeader,
      contextValues: context.values,
    },
  };
}

/**
 * requestHeaderOf is the call's metadata as header entries ("-bin" values base64, as connect carries them),
 * with what grpc-js takes out of the metadata put back (content type, timeout), so interceptors read a
 * request as they do on the HTTP port.
 */
function requestHeaderOf(metadata: Metadata, timeoutMs: number | undefined): [string, string][] {
  const entries: [string, string][] = [["content-type", "application/grpc"]];
  if (timeoutMs !== undefined) {
    entries.push(["grpc-timeout", `${Math.max(0, Math.ceil(timeoutMs))}m`]);
  }
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      entries.push([key, typeof value === "string" ? value : value.toString("base64")]);
    }
  }
  return entries;
}

/** metadataOf copies headers into grpc-js Metadata; an entry grpc-js cannot carry is dropped, not sent. */
function metadataOf(headers: Headers, into: Metadata = new Metadata()): Metadata {
  headers.forEach((value, key) => {
    try {
      into.add(key, key.endsWith("-bin") ? Buffer.from(value, "base64") : value);
    } catch {
      // An illegal metadata value (for example non-ASCII text) is dropped.
    }
  });
  return into;
}

function sendHeader(call: BridgeCall, header: Headers): void {
  if (header.keys().next().done !== true) {
    call.sendMetadata(metadataOf(header));
  }
}

/** errorStatus is the grpc-js status for `error`, with the trailers the handler set and its details. */
function errorStatus(error: ConnectError, trailer: Headers): Partial<StatusObject> {
  const metadata = metadataOf(error.metadata, metadataOf(trailer));
  if (error.details.length > 0) {
    const encoded = setTrailerStatus(new Headers(), error).get("grpc-status-details-bin");
    if (encoded !== null) {
      metadata.set("grpc-status-details-bin", Buffer.from(encoded, "base64"));
    }
  }
  return { code: error.code as number, details: error.rawMessage, metadata };
}

function abortReasonOf(signal: AbortSignal): unknown {
  return signal.aborted ? signal.reason : undefined;
}

async function serveUnary(
  method: DescMethod,
  impl: AnyImpl,
  options: GrpcBridgeOptions,
  call: ServerUnaryCall<unknown, Buffer>,
  callback: sendUnaryData<Buffer>,
): Promise<void> {
  const started = startCall(method, impl, options, call);
  if (started instanceof ConnectError) {
    callback(errorStatus(started, new Headers()));
    return;
  }
  const { context } = started;
  try {
    const request = { ...started.request, stream: false, method, message: call.request } as UnaryRequest;
    const response = (await started.run(request)) as UnaryResponse;
    const bytes = encode(method.output, response.message);
    if (!call.cancelled) {
      sendHeader(call, response.header);
      callback(null, bytes, metadataOf(response.trailer));
    }
  } catch (thrown) {
    if (!call.cancelled) {
      callback(errorStatus(toRpcError(thrown, abortReasonOf(context.signal)), context.responseTrailer));
    }
  }
  context.abort(); // connect semantics: the handler's signal aborts when the call completes
}

async function serveStream(
  method: DescMethod,
  impl: AnyImpl,
  options: GrpcBridgeOptions,
  call: ServerWritableStream<unknown, Buffer>,
): Promise<void> {
  const started = startCall(method, impl, options, call);
  if (started instanceof ConnectError) {
    call.emit("error", errorStatus(started, new Headers()));
    return;
  }
  const { context } = started;
  // A stalled reader is ended at once with `reason` (flow control would otherwise keep the writer waiting).
  context.values.set(kAbortCall, (reason) => context.abort(reason));
  let headerSent = false;
  const sendHeaderOnce = (header: Headers) => {
    if (!headerSent) {
      sendHeader(call, header);
      headerSent = true;
    }
  };
  try {
    const request = {
      ...started.request,
      stream: true,
      method,
      message: single(call.request),
    } as StreamRequest;
    const response = (await started.run(request)) as StreamResponse;
    for await (const message of response.message) {
      // After a server-side abort (shutdown) the implementation may still send what it has queued (a
      // health watch sends NOT_SERVING); it is expected to end soon, and forced shutdown bounds it.
      if (call.cancelled) {
        break;
      }
      sendHeaderOnce(response.header);
      if (!call.write(encode(method.output, message))) {
        await waitForDrain(call, context.signal);
      }
    }
    if (!call.cancelled) {
      sendHeaderOnce(response.header);
      call.end(metadataOf(response.trailer));
    }
  } catch (thrown) {
    if (!call.cancelled) {
      call.emit(
        "error",
        errorStatus(toRpcError(thrown, abortReasonOf(context.signal)), context.responseTrailer),
      );
    }
  }
  context.abort();
}

async function* single<T>(message: T): AsyncGenerator<T> {
  yield message;
}

function waitForDrain(call: ServerWritableStream<unknown, Buffer>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      // An aborted signal never fires again: waiting would hang until the client reads.
      resolve();
      return;
    }
    const wake = () => {
      call.off("drain", wake);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    call.on("drain", wake);
    signal.addEventListener("abort", wake);
  });
}
