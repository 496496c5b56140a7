import { readFileSync } from "node:fs";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import { CliError, usageError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { connectionFailureInterceptor } from "./connection-failure.js";
import { ExitCode } from "./exit-codes.js";

const DEFAULT_SERVER = "localhost:50051";
export const DEFAULT_TIMEOUT_MS = 10_000;

/** GlobalOptions are the options every command accepts (see program.ts). */
export interface GlobalOptions {
  server?: string;
  url?: string;
  key?: string;
  json?: boolean;
  yes?: boolean;
  timeout?: number;
  verbose?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** AdminConnection is the clients of one CLI run. */
export interface AdminConnection {
  readonly keyAdmin: Client<typeof KeyAdminService>;
  readonly audit: Client<typeof AuditService>;
}

/**
 * openAdminConnection builds the Connect clients: the gRPC protocol over HTTP/2 to --server (the gRPC port,
 * served by grpc-js), or the Connect protocol over HTTP/1.1 to --url. With requireKey, a missing admin key
 * is reported before any network call.
 */
export function openAdminConnection(
  globals: GlobalOptions,
  io: CliIo,
  options: { requireKey: boolean },
): AdminConnection {
  // The admin key is a secret: it only ever goes into the authorization header, never into output.
  const key = nonEmpty(globals.key ?? io.env.APIKEYS_ADMIN_KEY) ?? null;
  if (options.requireKey && key === null) {
    throw new CliError("no admin key: set APIKEYS_ADMIN_KEY or pass --key", ExitCode.auth);
  }
  if (key !== null && !/^[\x21-\x7e]+$/.test(key)) {
    // Do not echo the value: it is a secret even when mistyped.
    throw usageError("the admin key contains characters that cannot be sent in a header");
  }
  const interceptors: Interceptor[] =
    key === null
      ? []
      : [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${key}`);
            return next(request);
          },
        ];
  const transport = createTransport(globals, io, interceptors);
  return {
    keyAdmin: createClient(KeyAdminService, transport),
    audit: createClient(AuditService, transport),
  };
}

/** TlsFiles are the PEM contents of --ca-file, --cert-file and --key-file. */
interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

function readTlsFile(path: string | undefined, option: string): Buffer | undefined {
  if (path === undefined) {
    return undefined;
  }
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw usageError(`${option}: cannot read ${path} (${reason})`);
  }
}

/**
 * tlsFilesOf reads the TLS options (or APIKEYS_CA_FILE, APIKEYS_CERT_FILE, APIKEYS_KEY_FILE); null when none
 * is given. A client certificate needs its key and the other way round.
 */
function tlsFilesOf(globals: GlobalOptions, io: CliIo): TlsFiles | null {
  const caFile = globals.caFile ?? nonEmpty(io.env.APIKEYS_CA_FILE);
  const certFile = globals.certFile ?? nonEmpty(io.env.APIKEYS_CERT_FILE);
  const keyFile = globals.keyFile ?? nonEmpty(io.env.APIKEYS_KEY_FILE);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw usageError("--cert-file and --key-file go together (a client certificate and its private key)");
  }
  if (caFile === undefined && certFile === undefined) {
    return null;
  }
  const ca = readTlsFile(caFile, "--ca-file");
  const cert = readTlsFile(certFile, "--cert-file");
  const key = readTlsFile(keyFile, "--key-file");
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

/**
 * withTls returns the base URL over https when TLS options are given to a host:port address; an http:// URL
 * with TLS options is a contradiction.
 */
function withTls(baseUrl: string, tls: TlsFiles | null, option: string, explicitScheme: boolean): string {
  if (tls === null || baseUrl.startsWith("https:")) {
    return baseUrl;
  }
  if (explicitScheme) {
    throw usageError(`${option} is an http:// URL: TLS options (--ca-file, --cert-file) need https://`);
  }
  return baseUrl.replace(/^http:/, "https:");
}

function createTransport(globals: GlobalOptions, io: CliIo, callInterceptors: Interceptor[]): Transport {
  if (globals.server !== undefined && globals.url !== undefined) {
    throw usageError("use either --server (gRPC) or --url (Connect), not both");
  }
  const tls = tlsFilesOf(globals, io);
  const clientCertificate = tls?.cert !== undefined;
  const interceptorsFor = (baseUrl: string) => [
    connectionFailureInterceptor({
      url: new URL(baseUrl),
      tls: baseUrl.startsWith("https:"),
      clientCertificate,
    }),
    ...callInterceptors,
  ];
  const url = globals.url ?? (globals.server === undefined ? nonEmpty(io.env.APIKEYS_URL) : undefined);
  if (url !== undefined) {
    const baseUrl = withTls(parseBaseUrl(url, "--url", false), tls, "--url", true);
    return createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors: interceptorsFor(baseUrl),
      ...(tls === null ? {} : { nodeOptions: tls }),
    });
  }
  const server = globals.server ?? nonEmpty(io.env.APIKEYS_SERVER) ?? DEFAULT_SERVER;
  const baseUrl = withTls(
    parseBaseUrl(server, "--server", true),
    tls,
    "--server",
    /^https?:\/\//i.test(server),
  );
  return createGrpcTransport({
    baseUrl,
    interceptors: interceptorsFor(baseUrl),
    ...(tls === null ? {} : { nodeOptions: tls }),
    // HTTP/2 PINGs notice a dead connection under a long-lived audit stream.
    pingIntervalMs: 10_000,
    pingTimeoutMs: 5_000,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** parseBaseUrl accepts "host:port" (when hostPortAllowed) or an http(s) URL, and returns the base URL. */
export function parseBaseUrl(value: string, option: string, hostPortAllowed: boolean): string {
  // An address with user info may hold a password: never echo it.
  const shown = value.includes("@") ? "(hidden)" : `'${value}'`;
  const expected = `expected ${hostPortAllowed ? "host:port or " : ""}an http(s) URL`;
  const withScheme = /^https?:\/\//i.test(value) ? value : hostPortAllowed ? `http://${value}` : value;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`invalid ${option} ${shown}: ${expected}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw usageError(`invalid ${option} ${shown}: ${expected}`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw usageError(`invalid ${option} ${shown}: credentials, query and fragment are not allowed`);
  }
  return url.toString().replace(/\/$/, "");
}
