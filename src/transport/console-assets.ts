/**
 * The admin console's static files (the single-page app built into console/dist) on the HTTP port, under
 * /console/; the path and header rules are in docs/architecture.md ("Health, readiness, reflection").
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { extname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { Logger } from "pino";

const CONSOLE_PATH = "/console/";

/** CONSOLE_CSP allows this origin's scripts, styles and API calls, and nothing else. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
});

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
});

/** Compressing these pays; images are compressed already. */
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json", ".txt"]);

/** console/dist of this checkout (this file is two folders below the root, in src or dist). */
const DEFAULT_DIST_DIR = fileURLToPath(new URL("../../console/dist/", import.meta.url));

export const BUILD_HINT =
  "the admin console is not built: run 'npm run build:console' (npm install builds it)";

type Request = IncomingMessage | Http2ServerRequest;

/** The part both HTTP versions' responses share with one signature. */
interface Response {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(): unknown;
  end(body: Buffer | string): unknown;
}

interface ConsoleAssets {
  /** serves tells whether a request path belongs to the console (so it never reaches the RPC router). */
  serves(path: string): boolean;
  handle(req: Request, res: ServerResponse | Http2ServerResponse): void;
}

interface CachedFile {
  readonly mtimeMs: number;
  readonly body: Buffer;
  readonly gzipped: Buffer | null;
}

/** relativeAssetPath turns the path after /console/ into a safe relative file path, or null to refuse it. */
function relativeAssetPath(rest: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes("\\") || decoded.includes("\0")) {
    return null;
  }
  if (decoded === "") {
    return "";
  }
  const segments = decoded.split("/");
  // A trailing slash leaves one empty last segment; an empty segment anywhere else ("a//b") is refused.
  const named = segments.at(-1) === "" ? segments.slice(0, -1) : segments;
  for (const segment of named) {
    if (segment === "" || segment.startsWith(".")) {
      return null;
    }
  }
  return named.join("/");
}

/** createConsoleAssets builds the /console/ handler over the build in `distDir` (default console/dist). */
export function createConsoleAssets(options: {
  readonly logger: Logger;
  readonly distDir?: string;
}): ConsoleAssets {
  const distDir = options.distDir ?? DEFAULT_DIST_DIR;
  const root = distDir.endsWith(sep) ? distDir : `${distDir}${sep}`;
  const indexFile = join(root, "index.html");
  if (!existsSync(indexFile)) {
    options.logger.info(BUILD_HINT);
  }
  const cache = new Map<string, CachedFile>();

  const load = async (file: string): Promise<CachedFile | null> => {
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      return null;
    }
    const cached = cache.get(file);
    if (cached !== undefined && cached.mtimeMs === info.mtimeMs && cached.body.length === info.size) {
      return cached;
    }
    const body = await readFile(file);
    const loaded = {
      mtimeMs: info.mtimeMs,
      body,
      gzipped: COMPRESSIBLE.has(extname(file)) && body.length > 1024 ? gzipSync(body) : null,
    };
    cache.set(file, loaded);
    return loaded;
  };

  const sendText = (res: Response, status: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...extra,
    });
    res.end(`${text}\n`);
  };

  const sendFile = (req: Request, res: Response, file: string, loaded: CachedFile) => {
    const extension = extname(file);
    const gzip = loaded.gzipped !== null && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip && loaded.gzipped !== null ? loaded.gzipped : loaded.body;
    const hashed = file.startsWith(join(root, "assets") + sep);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream",
      "content-length": String(body.length),
      // Built assets carry a content hash in their name; index.html must be revalidated to pick up a new build.
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "accept-encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    if (req.method === "HEAD") {
      res.end();
    } else {
      res.end(body);
    }
  };

  const serve = async (req: Request, res: Response, path: string): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendText(res, 405, "method not allowed", { allow: "GET, HEAD" });
      return;
    }
    if (path === "/console") {
      res.writeHead(308, { ...SECURITY_HEADERS, location: CONSOLE_PATH, "cache-control": "no-store" });
      res.end();
      return;
    }
    const relative = relativeAssetPath(path.slice(CONSOLE_PATH.length));
    if (relative === null) {
      sendText(res, 400, "bad path");
      return;
    }
    const index = await load(indexFile);
    if (index === null) {
      sendText(res, 503, BUILD_HINT);
      return;
    }
    const file = join(root, relative);
    // Defence in depth: the segment checks above already keep every path inside the build folder.
    if (relative !== "" && file.startsWith(root)) {
      const loaded = await load(file);
      if (loaded !== null) {
        sendFile(req, res, file, loaded);
        return;
      }
    }
    if (extname(relative) !== "") {
      sendText(res, 404, "not found");
      return;
    }
    sendFile(req, res, indexFile, index);
  };

  return {
    serves: (path) => path === "/console" || path.startsWith(CONSOLE_PATH),
    handle(req, response) {
      const res: Response = response;
      const path = (req.url ?? "").split("?", 1)[0] ?? "";
      serve(req, res, path).catch((error: unknown) => {
        options.logger.error({ err: error, path }, "serving the console failed");
        if (!res.headersSent) {
          sendText(res, 500, "error");
        } else {
          res.end();
        }
      });
    },
  };
}
