/**
 * Requests that cannot be read are logged on both ports — one line with the code, the request's size and the
 * peer — and nothing of their body appears in the logs. On the gRPC port grpc-js decodes the message before
 * any interceptor runs; on the HTTP port connect-node does: both used to answer without a log line.
 */
import { connect, constants } from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { useTestServer } from "../helpers/start-server.js";

const server = useTestServer("unreadreq");

// Recognisable text inside every bad body: it must never reach the logs.
const MARKER = "BODYMARKER-7f3a9c";

afterEach(() => server.current.logs.clear());

/** rpcLines are the request log lines about `method`. */
function rpcLines(method: string): Record<string, unknown>[] {
  return server.current.logs.records().filter((record) => record.method === method);
}

/** grpcCall sends one raw gRPC request (a length-prefixed message) and resolves with grpc-status. */
function grpcCall(path: string, message: Buffer): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${server.current.grpcAddress}`);
    session.on("error", reject);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.byteLength, 1);
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status: string | undefined;
    stream.on("response", (headers) => {
      status ??= headers["grpc-status"] as string | undefined;
    });
    stream.on("trailers", (trailers) => {
      status = trailers["grpc-status"] as string | undefined;
    });
    stream.on("data", () => undefined);
    stream.on("end", () => {
      session.close();
      resolve(status);
    });
    stream.on("error", reject);
    stream.end(Buffer.concat([prefix, message]));
  });
}

describe("the gRPC port", () => {
  it("answers a message that does not parse with INVALID_ARGUMENT and logs it once, without the body", async () => {
    // Field 1, length-delimited, claiming 100 bytes where fewer follow.
    const garbage = Buffer.concat([Buffer.from([0x0a, 100]), Buffer.from(MARKER)]);
    const status = await grpcCall("/apikeys.v1.KeyVerifyService/VerifyKey", garbage);
    expect(status).toBe("3");
    await expect.poll(() => rpcLines("VerifyKey").length).toBe(1);
    const [line] = rpcLines("VerifyKey");
    expect(line).toMatchObject({
      service: "apikeys.v1.KeyVerifyService",
      code: "INVALID_ARGUMENT",
      requestBytes: garbage.byteLength,
      message: "the request message could not be parsed",
    });
    expect(line?.peer).toMatch(/127\.0\.0\.1:\d+$/);
    expect(server.current.logs.text()).not.toContain(MARKER);
  });
});

describe("the HTTP port", () => {
  const url = () => `${server.current.httpBaseUrl}/apikeys.v1.KeyAdminService/GetKey`;

  // connect-node answers an unparsable binary message with INTERNAL ("parse binary"), JSON with INVALID_ARGUMENT.
  it.each([
    ["malformed JSON", "application/json", Buffer.from(`{"keyId": "${MARKER}`), 400, "INVALID_ARGUMENT"],
    [
      "malformed binary",
      "application/proto",
      Buffer.concat([Buffer.from([0x0a, 100]), Buffer.from(MARKER)]),
      500,
      "INTERNAL",
    ],
    [
      "JSON naming an unknown field",
      "application/json",
      Buffer.from(`{"${MARKER}": "${MARKER}"}`),
      400,
      "INVALID_ARGUMENT",
    ],
  ])(
    "logs a request with %s once, with code, size and peer, without the body",
    async (_case, contentType, body, status, code) => {
      const response = await fetch(url(), { method: "POST", headers: { "content-type": contentType }, body });
      expect(response.status).toBe(status);
      await response.arrayBuffer();
      await expect.poll(() => rpcLines("GetKey").length).toBe(1);
      const [line] = rpcLines("GetKey");
      expect(line).toMatchObject({
        service: "apikeys.v1.KeyAdminService",
        protocol: "connect",
        code,
        requestBytes: body.byteLength,
      });
      expect(line?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(server.current.logs.text()).not.toContain(MARKER);
    },
  );

  it("still logs a request that was read exactly once, by the request log, without a size", async () => {
    const response = await fetch(url(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ keyId: "nope" }),
    });
    expect(response.status).toBe(401);
    await response.arrayBuffer();
    await expect.poll(() => rpcLines("GetKey").length).toBe(1);
    // A moment for a second line, which must not come.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rpcLines("GetKey")).toHaveLength(1);
    expect(rpcLines("GetKey")[0]).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(rpcLines("GetKey")[0]?.requestBytes).toBeUndefined();
  });
});
