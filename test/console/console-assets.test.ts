/**
 * The console's static files: security headers on every answer, no way out of the build folder, no
 * directory listing, client-side routes fall back to index.html, unknown files and other paths stay 404.
 * Raw requests (node:http) so paths like /console/../x reach the server unnormalised, as an attacker sends them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_HINT, CONSOLE_CSP, createConsoleAssets } from "../../src/transport/console-assets.js";
import { createLogCapture, useTestServer } from "../helpers/start-server.js";

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end();
  });
}

function expectSecurityHeaders(response: RawResponse): void {
  expect(response.headers["content-security-policy"]).toBe(CONSOLE_CSP);
  expect(response.headers["x-content-type-options"]).toBe("nosniff");
  expect(response.headers["referrer-policy"]).toBe("no-referrer");
  expect(response.headers["x-frame-options"]).toBe("DENY");
}

const INDEX = "<!doctype html><title>console</title>";
const SCRIPT = `console.log(${JSON.stringify("x".repeat(4000))});`;

describe("console assets over a built folder", () => {
  const root = mkdtempSync(join(tmpdir(), "apikeys-console-"));
  const dist = join(root, "dist");
  let base = "";
  let server: http.Server;

  beforeAll(async () => {
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), INDEX);
    writeFileSync(join(dist, "assets", "app-1234.js"), SCRIPT);
    writeFileSync(join(dist, ".env"), "SECRET=1");
    // Beside the build, where a traversal would land.
    writeFileSync(join(root, "outside.txt"), "outside");
    const assets = createConsoleAssets({ logger: pino({ level: "silent" }), distDir: dist });
    server = http.createServer((req, res) => {
      const path = (req.url ?? "").split("?", 1)[0] ?? "";
      if (assets.serves(path)) {
        assets.handle(req, res);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it("serves index.html at /console/ with the CSP, nosniff, no-referrer and frame denial", async () => {
    const response = await rawRequest(base, "/console/");
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.body.toString()).toBe(INDEX);
    expectSecurityHeaders(response);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("connect-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain("unsafe-inline");
  });

  it("redirects /console to /console/", async () => {
    const response = await rawRequest(base, "/console");
    expect(response.status).toBe(308);
    expect(response.headers.location).toBe("/console/");
  });

  it("serves built assets with their type, long caching, and gzip when asked", async () => {
    const plain = await rawRequest(base, "/console/assets/app-1234.js");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["cache-control"]).toContain("immutable");
    expect(plain.body.toString()).toBe(SCRIPT);
    expectSecurityHeaders(plain);
    const gzipped = await rawRequest(base, "/console/assets/app-1234.js", {
      headers: { "accept-encoding": "gzip" },
    });
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzipped.body).toString()).toBe(SCRIPT);
  });

  it("falls back to index.html for client-side routes and for folders (never a listing)", async () => {
    for (const path of [
      "/console/keys/ak_live_x",
      "/console/groups",
      "/console/assets",
      "/console/assets/",
    ]) {
      const response = await rawRequest(base, path);
      expect(response.status, path).toBe(200);
      expect(response.body.toString(), path).toBe(INDEX);
      expectSecurityHeaders(response);
    }
  });

  it("answers 404 for an unknown file, so a stale script tag never gets HTML", async () => {
    const response = await rawRequest(base, "/console/assets/gone-9999.js");
    expect(response.status).toBe(404);
    expectSecurityHeaders(response);
  });

  it.each([
    "/console/../outside.txt",
    "/console/assets/../../outside.txt",
    "/console/%2e%2e/outside.txt",
    "/console/%2E%2E%2Foutside.txt",
    "/console/..%5coutside.txt",
    "/console/.env",
    "/console/assets/%00.js",
    "/console/%E0%A4%A",
    "/console//etc/passwd",
  ])("refuses %s with 400 and never serves a file outside the build", async (path) => {
    const response = await rawRequest(base, path);
    expect(response.status).toBe(400);
    expect(response.body.toString()).not.toContain("outside");
    expect(response.body.toString()).not.toContain("SECRET");
    expectSecurityHeaders(response);
  });

  it("refuses other methods", async () => {
    const response = await rawRequest(base, "/console/", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
  });
});

describe("console assets without a build", () => {
  it("logs one line saying how to build it, and answers 503 with the same hint", async () => {
    const { destination, logs } = createLogCapture();
    const missing = mkdtempSync(join(tmpdir(), "apikeys-console-missing-"));
    const assets = createConsoleAssets({ logger: pino({ level: "info" }, destination), distDir: missing });
    expect(logs.records().map((record) => record.msg)).toEqual([BUILD_HINT]);
    const server = http.createServer((req, res) => assets.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await rawRequest(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        "/console/",
      );
      expect(response.status).toBe(503);
      expect(response.body.toString()).toContain("npm run build:console");
      expectSecurityHeaders(response);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(missing, { recursive: true, force: true });
    }
  });
});

describe("the service's HTTP port", () => {
  const server = useTestServer("consoleassets");

  it("serves the console under /console/ with the CSP and refuses ../ paths", async () => {
    const base = server.current.httpBaseUrl;
    const page = await rawRequest(base, "/console/keys");
    // 200 once built (npm install builds it), 503 with the build hint before: the headers are the same.
    expect([200, 503]).toContain(page.status);
    expectSecurityHeaders(page);
    const traversal = await rawRequest(base, "/console/../package.json");
    expect(traversal.status).toBe(400);
    expect(traversal.body.toString()).not.toContain("apikeys");
  });

  it("keeps other unknown paths 404, without the console's fallback", async () => {
    const response = await rawRequest(server.current.httpBaseUrl, "/no-such-page", {
      headers: { accept: "text/html" },
    });
    expect(response.status).toBe(404);
    expect(response.headers["content-security-policy"]).toBeUndefined();
  });
});
