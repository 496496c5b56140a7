/**
 * The HTTP port: HTTP/1.1 and HTTP/2 on one port, told apart by the HTTP/2 preface in plain text and by ALPN
 * with TLS (docs/architecture.md, "Two transports"); besides RPCs, /healthz, /readyz, /metrics and /console/.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from "node:http2";
import net, { type Socket } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { trackNodeResponse } from "./connect-boundary.js";
import { createConsoleAssets } from "./console-assets.js";
import { readPem } from "./pem-file.js";

/** Every HTTP/2 prior-knowledge connection starts with this (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** A connection that has not sent its first bytes within this time is closed. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

export type NodeRequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export interface HttpTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
}

interface HttpServerOptions {
  /** tls null serves plain text (HTTP/1.1 and h2c). */
  readonly tls: HttpTlsConfig | null;
  /** rpcHandler serves everything that is not a probe (the connect-node adapter). */
  readonly rpcHandler: NodeRequestHandler;
  /** readiness answers /readyz; an answer slower than readinessTimeoutMs counts as not ready. */
  readonly readiness: () => Promise<boolean>;
  readonly readinessTimeoutMs: number;
  /** shuttingDown makes /readyz answer 503 once shutdown has begun. */
  readonly shuttingDown: () => boolean;
  readonly metrics: Registry;
  readonly logger: Logger;
}

interface HttpServer {
  /** listen binds and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** close stops accepting, asks HTTP/2 clients to go away, destroys what is open after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

function withTimeout(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    check()
      .catch(() => false)
      .then(resolve)
      .finally(() => clearTimeout(timer));
  });
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The part both HTTP versions' responses share with one signature. */
interface ProbeResponse {
  writeHead(status: number, headers: http.OutgoingHttpHeaders): unknown;
  end(body: string): unknown;
}

function sendText(res: ProbeResponse, status: number, body: string, type = "text/plain"): void {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" });
  res.end(body);
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger } = options;
  const probes = async (path: string, res: ProbeResponse): Promise<void> => {
    if (path === "/healthz") {
      sendText(res, 200, "ok\n");
    } else if (path === "/readyz") {
      const ready =
        !options.shuttingDown() && (await withTimeout(options.readiness, options.readinessTimeoutMs));
      sendText(res, ready ? 200 : 503, ready ? "ready\n" : "not ready\n");
    } else {
      const body = await options.metrics.metrics();
      res.writeHead(200, { "content-type": options.metrics.contentType, "cache-control": "no-store" });
      res.end(body);
    }
  };
  const consoleAssets = createConsoleAssets({ logger });
  const handle: NodeRequestHandler = (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    if (consoleAssets.serves(path)) {
      consoleAssets.handle(req, res);
      return;
    }
    if (
      (req.method === "GET" || req.method === "HEAD") &&
      (path === "/healthz" || path === "/readyz" || path === "/metrics")
    ) {
      probes(path, res).catch((error: unknown) => {
        logger.error({ err: error, path }, "probe failed");
        if (!res.headersSent) {
          sendText(res, 500, "error\n");
        } else {
          res.end();
        }
      });
      return;
    }
    trackNodeResponse(req, res);
    options.rpcHandler(req, res);
  };

  const listener = options.tls === null ? plainTextListener(handle) : tlsListener(options.tls, handle);
  const sessions = new Set<ServerHttp2Session>();
  listener.http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", () => session.destroy());
  });
  listener.http2Server.on("sessionError", () => undefined);
  const sockets = new Set<Socket>();
  listener.server.on(options.tls === null ? "connection" : "secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        listener.server.once("error", reject);
        listener.server.listen(port, host, () => {
          listener.server.off("error", reject);
          const address = listener.server.address();
          resolve(typeof address === "object" && address !== null ? address.port : port);
        });
      });
    },
    async close(graceMs) {
      const stopped = new Promise<void>((resolve) => listener.server.close(() => resolve()));
      for (const session of sessions) {
        session.close();
      }
      listener.closeIdleConnections();
      await waitUntil(() => sockets.size === 0, graceMs);
      for (const socket of sockets) {
        socket.destroy();
      }
      for (const session of sessions) {
        session.destroy();
      }
      await stopped;
    },
  };
}

interface Listener {
  readonly server: net.Server;
  /** http2Server is the server of the HTTP/2 sessions (the listening server itself with TLS). */
  readonly http2Server: Http2Server | Http2SecureServer;
  /** closeIdleConnections closes HTTP/1.1 connections that carry no request. */
  closeIdleConnections(): void;
}

/** tlsListener serves HTTP/1.1 and HTTP/2 over TLS, the version chosen by ALPN. */
function tlsListener(tls: HttpTlsConfig, handle: NodeRequestHandler): Listener {
  const server = http2.createSecureServer(
    {
      cert: readPem("HTTP_TLS_CERT_FILE", tls.certFile),
      key: readPem("HTTP_TLS_KEY_FILE", tls.keyFile),
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
    },
    handle as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  // A client that fails the handshake (plain text, an untrusted certificate) has its socket closed by Node.
  server.on("tlsClientError", () => undefined);
  // HTTP/1.1 connections of a secure http2 server have no idle list: the close grace ends them.
  return { server, http2Server: server, closeIdleConnections: () => undefined };
}

/** plainTextListener serves HTTP/1.1 and h2c on one socket, told apart by the HTTP/2 preface. */
function plainTextListener(handle: NodeRequestHandler): Listener {
  const http1Server = http.createServer(handle as http.RequestListener);
  http1Server.on("clientError", (_error, socket) => socket.destroy());
  const http2Server = http2.createServer(
    handle as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );

  const dispatch = (socket: Socket) => {
    let received: Buffer = Buffer.alloc(0);
    const onError = () => socket.destroy();
    const onTimeout = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, HTTP2_PREFACE.length);
      const looksLikeHttp2 = received.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (looksLikeHttp2 && received.length < HTTP2_PREFACE.length) {
        return; // a prefix of the preface: wait for the rest
      }
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(received);
      if (looksLikeHttp2) {
        http2Server.emit("connection", socket);
      } else {
        http1Server.emit("connection", socket);
        // The http1 parser reads the socket handle directly; resuming replays the bytes already read.
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS);
    socket.on("timeout", onTimeout);
  };
  return {
    server: net.createServer(dispatch),
    http2Server,
    closeIdleConnections: () => http1Server.closeIdleConnections(),
  };
}
