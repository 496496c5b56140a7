/**
 * The gRPC relay: serves a service on a grpc-js Server by forwarding each call, as raw bytes, to another
 * gRPC server through a grpc-js Client. The verify worker serves the gRPC port; KeyAdminService and
 * AuditService live in the main thread (they need MongoDB), so the worker relays their calls to the main
 * thread's internal server on a private Unix socket (see docs/architecture.md, "The verify worker").
 *
 * A relayed call behaves as if the main thread had served it on the port: request metadata and the deadline
 * go upstream (plus the caller's socket address in RELAYED_PEER_HEADER, which only that internal server
 * trusts); response headers, messages, status, message and trailers (google.rpc.Status details included)
 * come back unchanged. Cancellation goes upstream. A server stream keeps end-to-end flow control: while the
 * caller does not read, the relay stops reading upstream, so the upstream server sees a slow consumer as
 * one. Messages are never decoded here.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  type Client,
  type ClientReadableStream,
  type Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  status as Status,
  type StatusObject,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { type CallGate, SHUTTING_DOWN_MESSAGE } from "./call-gate.js";

/** RELAYED_PEER_HEADER carries the relayed call's socket peer to the internal server. */
export const RELAYED_PEER_HEADER = "x-apikeys-relayed-peer";

// Headers of one HTTP/2 hop that grpc-js sets itself on the next hop (copying them would duplicate them).
const HOP_HEADERS = [
  "content-type",
  "te",
  "user-agent",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "accept-encoding",
  "content-length",
  "date",
];

/** GrpcRelayOptions say where calls go and how shutdown refuses them. */
export interface GrpcRelayOptions {
  /** upstream is a grpc-js client of the server that really serves the calls. */
  readonly upstream: Client;
  /** gate counts relayed calls in flight and refuses new ones while draining. */
  readonly gate: CallGate;
}

function passThrough(bytes: Buffer): Buffer {
  return bytes;
}

function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** forwardable copies `metadata` without the hop headers (and without any relayed-peer header). */
function forwardable(metadata: Metadata): Metadata {
  const copy = metadata.clone();
  for (const header of HOP_HEADERS) {
    copy.remove(header);
  }
  copy.remove(RELAYED_PEER_HEADER);
  return copy;
}

function upstreamMetadata(call: { readonly metadata: Metadata; getPeer(): string }): Metadata {
  const metadata = forwardable(call.metadata);
  metadata.set(RELAYED_PEER_HEADER, call.getPeer());
  return metadata;
}

function finiteDeadline(call: { getDeadline(): Date | number }): { deadline?: Date | number } {
  const deadline = call.getDeadline();
  const ms = typeof deadline === "number" ? deadline : deadline.getTime();
  return Number.isFinite(ms) ? { deadline } : {};
}

function errorStatus(status: StatusObject): Partial<StatusObject> {
  return { code: status.code, details: status.details, metadata: forwardable(status.metadata) };
}

const SHUTTING_DOWN: Partial<StatusObject> = { code: Status.UNAVAILABLE, details: SHUTTING_DOWN_MESSAGE };

/** createGrpcRelayDefinition is `service`'s grpc-js definition with raw bytes both ways. */
export function createGrpcRelayDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: pathOf(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
      originalName: method.name,
    };
  }
  return definition;
}

/**
 * Upstream is one relayed call's upstream side: it reports once, when the upstream status has arrived AND
 * every message before it has been handed on (grpc-js may report the status while read messages are still
 * buffered in a paused stream).
 */
function followUpstream(
  upstream: ClientReadableStream<Buffer>,
  onMessage: (message: Buffer) => void,
  onEnd: (status: StatusObject) => void,
): void {
  let status: StatusObject | undefined;
  let ended = false;
  let reported = false;
  const report = () => {
    if (!reported && status !== undefined && ended) {
      reported = true;
      onEnd(status);
    }
  };
  upstream.on("data", onMessage);
  // The status event carries every outcome; the error event only repeats a non-OK one.
  upstream.on("error", () => undefined);
  upstream.on("status", (received: StatusObject) => {
    status = received;
    report();
  });
  upstream.on("end", () => {
    ended = true;
    report();
  });
}

/**
 * relay forwards one admitted call upstream: it counts it in the gate until the upstream status has been
 * handled (or the caller cancelled), relays response headers, hands each upstream message to `onMessage`
 * and the status, after every message, to `onEnd`.
 */
function relay(
  options: GrpcRelayOptions,
  path: string,
  call: ServerUnaryCall<Buffer, Buffer> | ServerWritableStream<Buffer, Buffer>,
  onMessage: (message: Buffer, relayed: ClientReadableStream<Buffer>) => void,
  onEnd: (status: StatusObject) => void,
): void {
  const { upstream, gate } = options;
  gate.enter();
  let open = true;
  const leave = () => {
    if (open) {
      open = false;
      gate.leave();
    }
  };
  const relayed = upstream.makeServerStreamRequest(
    path,
    passThrough,
    passThrough,
    call.request,
    upstreamMetadata(call),
    finiteDeadline(call),
  );
  relayed.on("metadata", (headers: Metadata) => call.sendMetadata(forwardable(headers)));
  followUpstream(
    relayed,
    (message) => onMessage(message, relayed),
    (status) => {
      leave();
      onEnd(status);
    },
  );
  call.on("cancelled", () => {
    relayed.cancel();
    leave();
  });
}

/** createGrpcRelayHandlers returns grpc-js handlers that relay every method of `service` upstream. */
export function createGrpcRelayHandlers(
  service: DescService,
  options: GrpcRelayOptions,
): UntypedServiceImplementation {
  const { gate } = options;
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const path = pathOf(method);
    if (method.methodKind === "unary") {
      handlers[method.localName] = (
        call: ServerUnaryCall<Buffer, Buffer>,
        callback: sendUnaryData<Buffer>,
      ) => {
        if (gate.draining) {
          callback(SHUTTING_DOWN);
          return;
        }
        let response: Buffer | undefined;
        relay(
          options,
          path,
          call,
          (message) => {
            response = message;
          },
          (status) => {
            if (status.code !== Status.OK) {
              callback(errorStatus(status));
            } else if (response === undefined) {
              callback({ code: Status.INTERNAL, details: "internal error" });
            } else {
              callback(null, response, forwardable(status.metadata));
            }
          },
        );
      };
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = (call: ServerWritableStream<Buffer, Buffer>) => {
        if (gate.draining) {
          call.emit("error", SHUTTING_DOWN);
          return;
        }
        relay(
          options,
          path,
          call,
          (message, relayed) => {
            // Flow control end to end: stop reading upstream until the caller has read what we sent.
            if (!call.write(message)) {
              relayed.pause();
              call.once("drain", () => relayed.resume());
            }
          },
          (status) => {
            if (call.cancelled) {
              return;
            }
            if (status.code === Status.OK) {
              call.end(forwardable(status.metadata));
            } else {
              call.emit("error", errorStatus(status));
            }
          },
        );
      };
    } else {
      throw new Error(
        `${service.typeName}.${method.name}: the relay serves unary and server-streaming methods`,
      );
    }
  }
  return handlers;
}
