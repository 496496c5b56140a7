/**
 * Connect clients (@connectrpc/connect-node) for tests over real sockets on the HTTP port, in each protocol
 * the port serves.
 */
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

/** ConnectProtocol names a protocol and encoding the HTTP port serves. */
export type ConnectProtocol = "connect-json" | "connect-binary" | "grpc" | "grpc-web";

/** ConnectClientOptions choose the protocol (default connect-json) and HTTP version (default 1.1; gRPC needs 2). */
export interface ConnectClientOptions {
  readonly protocol?: ConnectProtocol;
  readonly httpVersion?: "1.1" | "2";
}

/** createConnectTransportFor returns a connect-node transport to `baseUrl` ("http://127.0.0.1:port"). */
export function createConnectTransportFor(baseUrl: string, options: ConnectClientOptions = {}): Transport {
  const protocol = options.protocol ?? "connect-json";
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: options.httpVersion ?? "1.1" });
    default:
      return createConnectTransport({
        baseUrl,
        httpVersion: options.httpVersion ?? "1.1",
        useBinaryFormat: protocol === "connect-binary",
      });
  }
}

/** createConnectClient returns a promise client for `service` on the HTTP port. */
export function createConnectClient<S extends DescService>(
  service: S,
  baseUrl: string,
  options: ConnectClientOptions = {},
): Client<S> {
  return createClient(service, createConnectTransportFor(baseUrl, options));
}
