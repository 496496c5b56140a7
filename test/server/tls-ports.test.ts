/**
 * TLS on both ports with certificates made in the test: the HTTP port (HTTP_TLS_*) speaks HTTP/1.1 and
 * HTTP/2, the version chosen by ALPN, for probes, Connect and gRPC alike; the CLI reaches either port over
 * TLS with --ca-file (and mutual TLS with --cert-file/--key-file), and a CLI that does not match the port's
 * TLS, or does not trust its certificate, says so in words.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import type { ServiceImpl } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { runInProcess } from "../cli/helpers/cli-runner.js";
import { useTestServer } from "../helpers/start-server.js";
import { makePki } from "../helpers/test-pki.js";

const admin: Partial<ServiceImpl<typeof KeyAdminService>> = {
  listKeys: () => ({ keys: [], nextPageToken: "" }),
};
const cliEnv = { APIKEYS_ADMIN_KEY: "ak_test_stub_AdminKeyForTheTlsTests" };

function httpsGet(
  port: number,
  path: string,
  ca: Buffer,
): Promise<{ status: number; alpn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: "127.0.0.1", port, path, ca, ALPNProtocols: ["http/1.1"], agent: false };
    const req = https.get(options, (res) => {
      const alpn = String((res.socket as TLSSocket).alpnProtocol);
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, alpn, body }));
    });
    req.on("error", reject);
  });
}

function h2Post(
  port: number,
  path: string,
  body: string,
  ca: Buffer,
): Promise<{ status: number; alpn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/json",
      "x-request-id": "tls-h2-call",
    });
    let status = 0;
    let text = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.on("end", () => {
      const alpn = String(session.alpnProtocol);
      session.close();
      resolve({ status, alpn, body: text });
    });
    stream.on("error", reject);
    stream.end(body);
  });
}

describe("TLS on both ports (HTTP_TLS_*, GRPC_TLS_*)", () => {
  const dir = mkdtempSync(join(tmpdir(), "apikeys-tls-ports-"));
  const pki = makePki(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = useTestServer("tlsports", {
    env: {
      GRPC_TLS_CERT_FILE: pki.path("server.pem"),
      GRPC_TLS_KEY_FILE: pki.path("server.key"),
      HTTP_TLS_CERT_FILE: pki.path("server.pem"),
      HTTP_TLS_KEY_FILE: pki.path("server.key"),
    },
    services: { admin },
  });
  const httpPort = () => server.current.server.httpPort;
  const grpcPort = () => server.current.server.grpcPort;

  it("serves HTTP/1.1 over TLS when the client offers only http/1.1", async () => {
    const ready = await httpsGet(httpPort(), "/healthz", pki.read("test-ca.pem"));
    expect(ready).toEqual({ status: 200, alpn: "http/1.1", body: "ok\n" });
  });

  it("serves HTTP/2 over TLS, chosen by ALPN, for Connect calls", async () => {
    const answer = await h2Post(httpPort(), "/grpc.health.v1.Health/Check", "{}", pki.read("test-ca.pem"));
    expect(answer.alpn).toBe("h2");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: "SERVING" });
  });

  it("refuses a plain-text HTTP request on the TLS port", async () => {
    await expect(fetch(`http://127.0.0.1:${httpPort()}/healthz`)).rejects.toThrow();
  });

  it("the CLI calls the gRPC port over TLS with --ca-file", async () => {
    const run = await runInProcess(
      [
        "--server",
        `https://127.0.0.1:${grpcPort()}`,
        "--ca-file",
        pki.path("test-ca.pem"),
        "--json",
        "keys",
        "list",
      ],
      { env: cliEnv },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
  });

  it("a host:port --server with --ca-file means TLS", async () => {
    const run = await runInProcess(
      ["--server", `localhost:${grpcPort()}`, "--ca-file", pki.path("test-ca.pem"), "--json", "keys", "list"],
      { env: cliEnv },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
  });

  it("the CLI calls the HTTP port over TLS with --url https:// and --ca-file", async () => {
    const run = await runInProcess(
      [
        "--url",
        `https://127.0.0.1:${httpPort()}`,
        "--ca-file",
        pki.path("test-ca.pem"),
        "--json",
        "keys",
        "list",
      ],
      { env: cliEnv },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
  });

  it.each([
    ["gRPC", () => ["--server", `127.0.0.1:${grpcPort()}`]],
    ["HTTP", () => ["--url", `http://127.0.0.1:${httpPort()}`]],
  ])("a plain-text CLI on the TLS %s port is told to use https://", async (_port, target) => {
    const run = await runInProcess([...target(), "keys", "list"], { env: cliEnv });
    expect(run.code).toBe(ExitCode.unavailable);
    expect(run.stderr).toMatch(/^apikeys: 127\.0\.0\.1:\d+ speaks TLS: use https:\/\/127\.0\.0\.1:\d+ .*\n$/);
  });

  it.each([
    ["gRPC", () => ["--server", `https://127.0.0.1:${grpcPort()}`]],
    ["HTTP", () => ["--url", `https://127.0.0.1:${httpPort()}`]],
  ])(
    "a CLI that does not trust the %s port's certificate says so and names --ca-file",
    async (_port, target) => {
      const run = await runInProcess([...target(), "keys", "list"], { env: cliEnv });
      expect(run.code).toBe(ExitCode.unavailable);
      expect(run.stderr).toMatch(
        /^apikeys: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \([A-Z_]+\): pass --ca-file/,
      );
    },
  );

  it("a TLS CLI on a plain-text port is told the port does not speak TLS", async () => {
    const plain = await import("node:net").then((net) => {
      const listener = net.createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
      return new Promise<import("node:net").Server>((resolve) =>
        listener.listen(0, "127.0.0.1", () => resolve(listener)),
      );
    });
    const port = (plain.address() as import("node:net").AddressInfo).port;
    const run = await runInProcess(
      ["--url", `https://127.0.0.1:${port}`, "--ca-file", pki.path("test-ca.pem"), "keys", "list"],
      { env: cliEnv },
    );
    plain.close();
    expect(run.code).toBe(ExitCode.unavailable);
    expect(run.stderr).toContain(`127.0.0.1:${port} does not speak TLS`);
  });
});

describe("mutual TLS for the CLI (--cert-file, --key-file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "apikeys-cli-mtls-"));
  const pki = makePki(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const server = useTestServer("climtls", {
    env: {
      GRPC_TLS_CERT_FILE: pki.path("server.pem"),
      GRPC_TLS_KEY_FILE: pki.path("server.key"),
      GRPC_TLS_CLIENT_CA_FILE: pki.path("test-ca.pem"),
    },
    services: { admin },
  });
  const target = () => ["--server", `https://127.0.0.1:${server.current.server.grpcPort}`];
  const trust = ["--ca-file"];

  it("calls the gRPC port with a client certificate the client CA signed", async () => {
    const run = await runInProcess(
      [
        ...target(),
        ...trust,
        pki.path("test-ca.pem"),
        "--cert-file",
        pki.path("caller.pem"),
        "--key-file",
        pki.path("caller.key"),
        "--json",
        "keys",
        "list",
      ],
      { env: cliEnv },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
  });

  it("without a client certificate, is told to pass --cert-file and --key-file", async () => {
    const run = await runInProcess([...target(), ...trust, pki.path("test-ca.pem"), "keys", "list"], {
      env: cliEnv,
    });
    expect(run.code).toBe(ExitCode.unavailable);
    expect(run.stderr).toMatch(/requires a client certificate: pass --cert-file and --key-file/);
  });

  it("a certificate alone, without its key, is a usage error", async () => {
    const run = await runInProcess([...target(), "--cert-file", pki.path("caller.pem"), "keys", "list"], {
      env: cliEnv,
    });
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain("--cert-file and --key-file go together");
  });
});
