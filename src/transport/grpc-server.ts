/**
 * The gRPC port: a @grpc/grpc-js server carrying the services through the generic bridge, health, and
 * server reflection, in plain text or with TLS / mutual TLS.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { addServiceToGrpcServer, type GrpcBridgeOptions } from "./grpc-js-bridge.js";
import { readPem } from "./pem-file.js";
import { createReflectionService } from "./reflection.js";

/** One service to serve: `impl` is typed loosely so a list can mix services; grpcService() checks it. */
export interface GrpcServiceRegistration {
  readonly service: DescService;
  readonly impl: object;
}

export function grpcService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
): GrpcServiceRegistration {
  return { service, impl };
}

/** GrpcTlsConfig names the PEM files of TLS on the gRPC port; a client CA makes client certificates mandatory. */
export interface GrpcTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | null;
}

interface GrpcServerOptions {
  readonly services: readonly GrpcServiceRegistration[];
  readonly bridge: GrpcBridgeOptions;
  readonly maxMessageBytes: number;
  readonly tls: GrpcTlsConfig | null;
}

interface GrpcServer {
  /** listen binds `host:port` and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** close lets open calls finish for up to `graceMs` (0: at once), then cancels the rest. */
  close(graceMs: number): Promise<void>;
}

/** grpcCredentials: plain text, TLS, or with a client CA mutual TLS (client certificates required). */
function grpcCredentials(tls: GrpcTlsConfig | null): ServerCredentials {
  if (tls === null) {
    return ServerCredentials.createInsecure();
  }
  const cert = readPem("GRPC_TLS_CERT_FILE", tls.certFile);
  const key = readPem("GRPC_TLS_KEY_FILE", tls.keyFile);
  const clientCa = tls.clientCaFile === null ? null : readPem("GRPC_TLS_CLIENT_CA_FILE", tls.clientCaFile);
  return ServerCredentials.createSsl(clientCa, [{ cert_chain: cert, private_key: key }], clientCa !== null);
}

function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** createGrpcServer builds the gRPC port with every service, and reflection listing them. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const credentials = grpcCredentials(options.tls);
  const server = new Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  for (const registration of options.services) {
    const impl = registration.impl as Partial<ServiceImpl<DescService>>;
    addServiceToGrpcServer(server, registration.service, impl, options.bridge);
  }
  createReflectionService(options.services.map((registration) => registration.service)).addToServer(server);
  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(hostPort(host, port), credentials, (error, boundPort) => {
          if (error !== null) {
            reject(error);
          } else {
            resolve(boundPort);
          }
        });
      });
    },
    close(graceMs) {
      return new Promise((resolve) => {
        const force = () => {
          server.forceShutdown();
          resolve();
        };
        if (graceMs <= 0) {
          force();
          return;
        }
        const timer = setTimeout(force, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
