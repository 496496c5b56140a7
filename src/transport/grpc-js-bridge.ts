/**
 * The bridge from protobuf-es service descriptors to @grpc/grpc-js: one generic adapter that serves any
 * connect-es ServiceImpl on a grpc-js Server, with no per-RPC glue. Unary and server-streaming methods are
 * supported (the API has no client or bidi streams).
 *
 * This is the hot path (VerifyKey at 10k+ rps on two cores), so a call allocates as little as it can: one
 * context object; request headers, response headers/trailers, context values and the abort signal are all
 * created only when a handler (or the request log) first touches them.
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
  type ContextValues,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
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
import type { CallGate } from "./call-gate.js";
import { kAbortCall, kPeerAddress, kRequestId } from "./context-keys.js";
import { toRpcError } from "./error-boundary.js";
import { headersToMetadata, isEmptyHeaders, MetadataHeaders } from "./metadata-headers.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./request-id.js";
import type { CallObserver } from "./request-log.js";

/** GrpcBridgeOptions are the limits and hooks shared by every service the bridge serves. */
export interface GrpcBridgeOptions {
  /** observer is told about every finished call (the request log). */
  readonly observer: CallObserver;
  /** gate counts in-flight calls and refuses new ones while the server drains. */
  readonly gate: CallGate;
  /** defaultDeadlineMs applies to unary calls that arrive without a deadline. */
  readonly defaultDeadlineMs: number;
  /** maxDeadlineMs rejects (INVALID_ARGUMENT) a call whose requested deadline is further away. */
  readonly maxDeadlineMs: number;
}

/** BridgeServiceOptions adjust one service. */
export interface BridgeServiceOptions {
  /** refuseWhenDraining is true unless the service must keep answering during shutdown (health). */
  readonly refuseWhenDraining?: boolean;
}

type AnyImpl = (request: unknown, context: HandlerContext) => unknown;

interface MethodBinding {
  readonly method: DescMethod;
  readonly url: string;
  readonly impl: AnyImpl;
  readonly refuseWhenDraining: boolean;
  readonly options: GrpcBridgeOptions;
  readonly defaultDeadlines: DefaultDeadlines;
}

/** PROTOCOL_NAME is the HandlerContext.protocolName of calls served by the bridge. */
export const PROTOCOL_NAME = "grpc";

function encode(schema: DescMessage, output: unknown): Buffer {
  // Copying into Node's buffer pool is cheaper than wrapping `bytes.buffer`: a small typed array lives on
  // V8's heap, and reading `.buffer` forces it out to a separate backing store.
  return Buffer.from(toBinary(schema, create(schema, output as MessageInitShape<DescMessage>)));
}

function passThrough(bytes: Buffer): Buffer {
  return bytes;
}

function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function assertSupported(method: DescMethod): void {
  if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
    throw new Error(
      `${method.parent.typeName}.${method.name}: the grpc-js bridge serves unary and server-streaming methods only`,
    );
  }
}

/**
 * createGrpcServerDefinition returns the grpc-js ServiceDefinition the bridge registers: requests are
 * decoded with the method's protobuf-es schema; responses arrive already encoded (the bridge encodes them
 * itself, so an encoding failure becomes an ordinary INTERNAL instead of grpc-js's verbose one).
 */
export function createGrpcServerDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    assertSupported(method);
    const input = method.input;
    definition[method.localName] = {
      path: methodPath(method),
      requestStream: false,
      responseStream: method.methodKind === "server_streaming",
      requestSerialize: (message: unknown) => encode(input, message),
      requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
      originalName: method.name,
    };
  }
  return definition;
}

/**
 * createGrpcClientDefinition returns a grpc-js ServiceDefinition for clients (grpc.makeGenericClientConstructor):
 * request init objects are encoded, responses decoded, with the protobuf-es schemas.
 */
export function createGrpcClientDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    const { input, output } = method;
    definition[method.localName] = {
      path: methodPath(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (message: unknown) => encode(input, message),
      requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
      responseSerialize: (message: unknown) => encode(output, message),
      responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
      originalName: method.name,
    };
  }
  return definition;
}

/**
 * createGrpcServiceHandlers returns the grpc-js handlers that serve `impl` (a connect-es ServiceImpl, maybe
 * partial): each handler builds a HandlerContext, calls the implementation, and maps whatever it throws
 * through the shared error boundary. Methods missing from `impl` answer UNIMPLEMENTED.
 */
export function createGrpcServiceHandlers<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: GrpcBridgeOptions,
  serviceOptions: BridgeServiceOptions = {},
): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  const defaultDeadlines = new DefaultDeadlines();
  for (const method of service.methods) {
    assertSupported(method);
    const found = (impl as Record<string, unknown>)[method.localName];
    const binding: MethodBinding = {
      method,
      url: methodPath(method),
      impl: typeof found === "function" ? (found.bind(impl) as AnyImpl) : unimplemented(method),
      refuseWhenDraining: serviceOptions.refuseWhenDraining ?? true,
      options,
      defaultDeadlines,
    };
    handlers[method.localName] =
      method.methodKind === "unary"
        ? (call: ServerUnaryCall<unknown, Buffer>, callback: sendUnaryData<Buffer>) =>
            handleUnary(binding, call, callback)
        : (call: ServerWritableStream<unknown, Buffer>) => handleServerStreaming(binding, call);
  }
  return handlers;
}

/** addServiceToGrpcServer registers `impl` for `service` on a grpc-js server through the bridge. */
export function addServiceToGrpcServer<S extends DescService>(
  server: Server,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: GrpcBridgeOptions,
  serviceOptions: BridgeServiceOptions = {},
): void {
  server.addService(
    createGrpcServerDefinition(service),
    createGrpcServiceHandlers(service, impl, options, serviceOptions),
  );
}

function unimplemented(method: DescMethod): AnyImpl {
  // Same wording as connect-es, so both transports answer an unimplemented RPC identically.
  const message = `${method.parent.typeName}.${method.name} is not implemented`;
  return () => {
    throw new ConnectError(message, Code.Unimplemented);
  };
}

function deadlineOf(call: ServerUnaryCall<unknown, Buffer> | ServerWritableStream<unknown, Buffer>): number {
  const deadline = call.getDeadline();
  return typeof deadline === "number" ? deadline : deadline.getTime();
}

type BridgeCall = ServerUnaryCall<unknown, Buffer> | ServerWritableStream<unknown, Buffer>;

/**
 * BridgeContext is the HandlerContext of one call served by the bridge. Only the fields every call needs
 * are set in the constructor; the rest are built on first access.
 */
class BridgeContext implements HandlerContext {
  readonly binding: MethodBinding;
  readonly call: BridgeCall;
  /** deadline is the call's deadline in epoch ms (Infinity when none applies). */
  readonly deadline: number;
  readonly startedAt: number;
  done = false;
  /** Links in the default-deadline queue (unary calls that arrived without a deadline). */
  queued = false;
  previous: BridgeContext | undefined = undefined;
  next: BridgeContext | undefined = undefined;
  abortReason: unknown = undefined;
  private controller: AbortController | undefined = undefined;
  private requestHeaderView: Headers | undefined = undefined;
  private responseHeaderStore: Headers | undefined = undefined;
  private responseTrailerStore: Headers | undefined = undefined;
  private valuesStore: ContextValues | undefined = undefined;

  constructor(binding: MethodBinding, call: BridgeCall, deadline: number, startedAt: number) {
    this.binding = binding;
    this.call = call;
    this.deadline = deadline;
    this.startedAt = startedAt;
  }

  get method(): DescMethod {
    return this.binding.method;
  }

  get service(): DescService {
    return this.binding.method.parent;
  }

  get url(): string {
    return this.binding.url;
  }

  get requestMethod(): string {
    return "POST";
  }

  get protocolName(): string {
    return PROTOCOL_NAME;
  }

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.controller = controller;
      if (this.abortReason !== undefined) {
        controller.abort(this.abortReason);
      } else if (this.done) {
        controller.abort();
      } else if (this.call.cancelled) {
        this.abort(this.cancelReason());
      } else {
        this.call.once("cancelled", () => this.abort(this.cancelReason()));
      }
    }
    return controller.signal;
  }

  timeoutMs(): number | undefined {
    return this.deadline === Number.POSITIVE_INFINITY ? undefined : this.deadline - Date.now();
  }

  get requestHeader(): Headers {
    this.requestHeaderView ??= new MetadataHeaders(this.call.metadata);
    return this.requestHeaderView;
  }

  get responseHeader(): Headers {
    this.responseHeaderStore ??= new Headers();
    return this.responseHeaderStore;
  }

  get responseTrailer(): Headers {
    this.responseTrailerStore ??= new Headers();
    return this.responseTrailerStore;
  }

  get values(): ContextValues {
    if (this.valuesStore === undefined) {
      const requestId = this.call.metadata.get(REQUEST_ID_HEADER)[0];
      this.valuesStore = createContextValues()
        .set(kPeerAddress, this.call.getPeer())
        .set(kRequestId, requestIdFor(typeof requestId === "string" ? requestId : undefined));
    }
    return this.valuesStore;
  }

  /** abort aborts the handler's signal (first reason wins). */
  abort(reason: unknown): void {
    if (this.abortReason === undefined) {
      this.abortReason = reason;
      this.controller?.abort(reason);
    }
  }

  cancelReason(): ConnectError {
    return Date.now() >= this.deadline
      ? new ConnectError("deadline exceeded", Code.DeadlineExceeded)
      : new ConnectError("the client cancelled the call", Code.Canceled);
  }

  /** sendResponseHeader sends response headers the handler set, if any, before the first message. */
  sendResponseHeader(): void {
    const headers = this.responseHeaderStore;
    if (headers !== undefined && !isEmptyHeaders(headers)) {
      this.call.sendMetadata(headersToMetadata(headers));
      this.responseHeaderStore = new Headers();
    }
  }

  /** trailerMetadata returns the trailers the handler set, or undefined. */
  trailerMetadata(): Metadata | undefined {
    const trailers = this.responseTrailerStore;
    return trailers !== undefined && !isEmptyHeaders(trailers) ? headersToMetadata(trailers) : undefined;
  }

  /** errorStatus is the grpc-js status for `error`, with its trailers and details. */
  errorStatus(error: ConnectError): Partial<StatusObject> {
    const trailers = this.trailerMetadata() ?? new Metadata();
    headersToMetadata(error.metadata, trailers);
    if (error.details.length > 0) {
      const encoded = setTrailerStatus(new Headers(), error).get("grpc-status-details-bin");
      if (encoded !== null) {
        trailers.set("grpc-status-details-bin", Buffer.from(encoded, "base64"));
      }
    }
    return { code: error.code as number, details: error.rawMessage, metadata: trailers };
  }

  /** finish releases the call: timer, gate, request log, and the handler's signal (connect semantics). */
  finish(code: number, error: ConnectError | undefined): void {
    if (this.queued) {
      this.binding.defaultDeadlines.remove(this);
    }
    const options = this.binding.options;
    options.gate.leave();
    options.observer.callEnded(
      this.binding.method,
      PROTOCOL_NAME,
      code,
      performance.now() - this.startedAt,
      this,
      error,
    );
    if (this.controller !== undefined && !this.controller.signal.aborted) {
      this.controller.abort();
    }
  }
}

/** admissionError tells why a new call must be refused before its handler runs, if it must. */
function admissionError(binding: MethodBinding, requestedDeadline: number): ConnectError | undefined {
  const options = binding.options;
  if (binding.refuseWhenDraining && options.gate.draining) {
    return options.gate.drainSignal.reason as ConnectError;
  }
  if (
    requestedDeadline !== Number.POSITIVE_INFINITY &&
    requestedDeadline - Date.now() > options.maxDeadlineMs
  ) {
    return new ConnectError(
      `the requested deadline exceeds the server maximum of ${options.maxDeadlineMs} ms`,
      Code.InvalidArgument,
    );
  }
  return undefined;
}

class UnaryContext extends BridgeContext {
  callback: sendUnaryData<Buffer>;

  constructor(
    binding: MethodBinding,
    call: BridgeCall,
    deadline: number,
    startedAt: number,
    callback: sendUnaryData<Buffer>,
  ) {
    super(binding, call, deadline, startedAt);
    this.callback = callback;
  }

  succeed(output: unknown): void {
    if (this.done) {
      return;
    }
    let bytes: Buffer;
    try {
      bytes = encode(this.binding.method.output, output);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.done = true;
    if (this.call.cancelled) {
      this.finish(this.cancelReason().code, undefined);
      return;
    }
    this.sendResponseHeader();
    this.callback(null, bytes, this.trailerMetadata());
    this.finish(0, undefined);
  }

  fail(thrown: unknown): void {
    if (this.done) {
      return;
    }
    this.done = true;
    const error = toRpcError(thrown, this.abortReason);
    if (this.call.cancelled) {
      this.finish(this.cancelReason().code, error);
      return;
    }
    this.callback(this.errorStatus(error));
    this.finish(error.code, error);
  }
}

function expireDefaultDeadline(context: BridgeContext): void {
  const error = new ConnectError("deadline exceeded (server default deadline)", Code.DeadlineExceeded);
  context.abort(error);
  (context as UnaryContext).fail(error);
}

/**
 * DefaultDeadlines expires unary calls that arrived without a deadline. Every such call gets the same
 * default, so arrival order is expiry order: a linked FIFO through the contexts themselves with a single
 * timer for its head costs nothing per call but two pointer updates (a Node timer per call would allocate
 * a Timeout and touch a priority queue on every VerifyKey).
 */
class DefaultDeadlines {
  private head: BridgeContext | undefined = undefined;
  private tail: BridgeContext | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly onTimer = () => this.expire();

  add(context: BridgeContext): void {
    context.queued = true;
    context.previous = this.tail;
    context.next = undefined;
    if (this.tail === undefined) {
      this.head = context;
    } else {
      this.tail.next = context;
    }
    this.tail = context;
    if (this.timer === undefined) {
      this.arm(context.deadline);
    }
  }

  remove(context: BridgeContext): void {
    context.queued = false;
    const { previous, next } = context;
    if (previous === undefined) {
      this.head = next;
    } else {
      previous.next = next;
    }
    if (next === undefined) {
      this.tail = previous;
    } else {
      next.previous = previous;
    }
    context.previous = undefined;
    context.next = undefined;
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    let head = this.head;
    while (head !== undefined && head.deadline <= now) {
      this.remove(head);
      expireDefaultDeadline(head);
      head = this.head;
    }
    if (head !== undefined) {
      this.arm(head.deadline);
    }
  }
}

function handleUnary(
  binding: MethodBinding,
  call: ServerUnaryCall<unknown, Buffer>,
  callback: sendUnaryData<Buffer>,
): void {
  const startedAt = performance.now();
  const options = binding.options;
  const requested = deadlineOf(call);
  const noDeadline = requested === Number.POSITIVE_INFINITY;
  const context = new UnaryContext(
    binding,
    call,
    noDeadline ? Date.now() + options.defaultDeadlineMs : requested,
    startedAt,
    callback,
  );
  options.gate.enter();
  const refusal = admissionError(binding, requested);
  if (refusal !== undefined) {
    context.fail(refusal);
    return;
  }
  if (noDeadline) {
    binding.defaultDeadlines.add(context);
  }
  let output: unknown;
  try {
    output = binding.impl(call.request, context);
  } catch (error) {
    context.fail(error);
    return;
  }
  if (isThenable(output)) {
    output.then(
      (value) => context.succeed(value),
      (error: unknown) => context.fail(error),
    );
  } else {
    context.succeed(output);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function"
  );
}

function handleServerStreaming(binding: MethodBinding, call: ServerWritableStream<unknown, Buffer>): void {
  const startedAt = performance.now();
  const requested = deadlineOf(call);
  // Streams get no default deadline: a feed or a health watch is meant to stay open; shutdown ends it.
  const context = new BridgeContext(binding, call, requested, startedAt);
  context.values.set(kAbortCall, (reason) => context.abort(reason));
  binding.options.gate.enter();
  void pumpStream(context, call, admissionError(binding, requested));
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

async function pumpStream(
  context: BridgeContext,
  call: ServerWritableStream<unknown, Buffer>,
  refusal: ConnectError | undefined,
): Promise<void> {
  const gate = context.binding.options.gate;
  const endForDrain = () => context.abort(gate.drainSignal.reason);
  let thrown: unknown;
  let failed = false;
  if (refusal !== undefined) {
    thrown = refusal;
    failed = true;
  } else {
    if (gate.draining) {
      endForDrain();
    } else {
      gate.drainSignal.addEventListener("abort", endForDrain);
    }
    try {
      const output = context.binding.impl(call.request, context) as AsyncIterable<unknown>;
      for await (const message of output) {
        // After a server-side abort (shutdown) the implementation may still send what it has queued (a
        // health watch sends NOT_SERVING); it is expected to end soon, and force shutdown bounds it.
        if (call.cancelled) {
          break;
        }
        context.sendResponseHeader();
        if (!call.write(encode(context.binding.method.output, message))) {
          await waitForDrain(call, context.signal);
        }
      }
    } catch (error) {
      thrown = error;
      failed = true;
    } finally {
      gate.drainSignal.removeEventListener("abort", endForDrain);
    }
  }
  context.done = true;
  if (call.cancelled) {
    context.finish(context.cancelReason().code, failed ? toRpcError(thrown, context.abortReason) : undefined);
    return;
  }
  if (!failed && context.abortReason instanceof ConnectError) {
    // The server ended the stream (shutdown): say why instead of a plain OK.
    thrown = context.abortReason;
    failed = true;
  }
  if (failed) {
    const error = toRpcError(thrown, context.abortReason);
    call.emit("error", context.errorStatus(error));
    context.finish(error.code, error);
    return;
  }
  context.sendResponseHeader();
  call.end(context.trailerMetadata());
  context.finish(0, undefined);
}
