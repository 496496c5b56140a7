/**
 * The HTTP port: HTTP/1.1 and HTTP/2 prior-knowledge (h2c) on one plain-text port, so `curl` with Connect
 * JSON works without --http2 while gRPC clients (which need HTTP/2 and trailers) work too. A plain TCP
 * server reads the first bytes of each connection: the HTTP/2 connection preface goes to an http2 server,
 * anything else to an http1 server. Besides RPCs it serves GET /healthz, /readyz, /metrics and the admin
 * console under /console/ (console-assets.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from "node:http2";
import net, { type Socket } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { trackNodeResponse } from "./connect-boundary.js";
import { createConsoleAssets } from "./console-assets.js";

/** HTTP2_PREFACE starts every HTTP/2 prior-knowledge connection (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** A connection that has not sent its first bytes within this time is closed. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

/** NodeRequestHandler handles one request from either HTTP version. */
export type NodeRequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** HttpServerOptions wire the HTTP port. */
export interface HttpServerOptions {
  /** rpcHandler serves everything that is not a probe (the connect-node adapter). */
  readonly rpcHandler: NodeRequestHandler;
  /** readiness answers whether the service can serve requests (MongoDB answers a ping). */
  readonly readiness: () => Promise<boolean>;
  /** readinessTimeoutMs bounds one readiness check; a slower answer counts as not ready. */
  readonly readinessTimeoutMs: number;
  /** shuttingDown makes /readyz answer 503 once shutdown has begun. */
  readonly shuttingDown: () => boolean;
  readonly metrics: Registry;
  readonly logger: Logger;
}

/** HttpServer is the HTTP port, not yet listening. */
export interface HttpServer {
  /** listen binds and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * close stops accepting connections, asks HTTP/2 clients to go away, and destroys whatever is still open
   * after `graceMs` (0 destroys at once).
   */
  close(graceMs: number): Promise<void>;
}

function withTimeout(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    check().then(
      (ready) => {
        clearTimeout(timer);
        resolve(ready);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** ProbeResponse is what a probe writes: the part both HTTP versions' responses share with one signature. */
interface ProbeResponse {
  writeHead(status: number, headers: http.OutgoingHttpHeaders): unknown;
  end(body: string): unknown;
}

function sendText(res: ProbeResponse, status: number, body: string, type = "text/plain"): void {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" });
  res.end(body);
}

/** createHttpServer builds the dual-protocol HTTP port. */
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

  const http1Server = http.createServer(handle as http.RequestListener);
  http1Server.on("clientError", (_error, socket) => socket.destroy());
  const http2Server = http2.createServer(
    handle as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  const sessions = new Set<ServerHttp2Session>();
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", () => session.destroy());
  });
  http2Server.on("sessionError", () => undefined);

  const sockets = new Set<Socket>();
  const dispatch = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
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
  const listener = net.createServer(dispatch);

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(port, host, () => {
          listener.off("error", reject);
          const address = listener.address();
          resolve(typeof address === "object" && address !== null ? address.port : port);
        });
      });
    },
    async close(graceMs) {
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const session of sessions) {
        session.close();
      }
      http1Server.closeIdleConnections();
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
