/**
 * The client package's admin client sends every change with a request id — the caller's, else a new UUID —
 * and names it on a failed change's error, so a retry with it is applied at most once. A recording stub of
 * KeyAdminService stands in for the service (it answers UNAVAILABLE, as a server whose database hung would).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminClient, requestIdOf } from "../../packages/client/src/index.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";

const received: Array<{ method: string; requestId: string | undefined }> = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const record = (method: string) => (request: object) => {
    received.push({
      method,
      requestId: "requestId" in request ? String(request.requestId) : undefined,
    });
    throw new ConnectError("the key store is unavailable, try again", Code.Unavailable);
  };
  const impl: Partial<ServiceImpl<typeof KeyAdminService>> = {
    createKey: record("createKey"),
    revokeKey: record("revokeKey"),
    getKey: record("getKey"),
  };
  server = createServer(connectNodeAdapter({ routes: (router) => router.service(KeyAdminService, impl) }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail("the stub answers every call with an error"),
    (error: unknown) => error,
  );
}

describe("admin client request ids", () => {
  function client() {
    return createAdminClient({
      baseUrl,
      protocol: "connect",
      adminKey: "ak_test_stub_AdminKeyForTheRecordingStub",
    }).keys;
  }

  it("gives a change without one a fresh request id and names it on the error", async () => {
    received.length = 0;
    const error = await failure(client().createKey({ tenantId: "acme", name: "ERP" }));
    const sent = received[0]?.requestId ?? "";
    expect(sent).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(requestIdOf(error)).toBe(sent);

    // The retry the documentation shows sends the same id.
    await failure(client().createKey({ tenantId: "acme", name: "ERP", requestId: requestIdOf(error) ?? "" }));
    expect(received.map((call) => call.requestId)).toEqual([sent, sent]);
  });

  it("keeps a request id the caller gave", async () => {
    received.length = 0;
    const error = await failure(
      client().revokeKey({ keyId: "ak_test_0123456789abcdef", requestId: "revoke-7" }),
    );
    expect(received).toEqual([{ method: "revokeKey", requestId: "revoke-7" }]);
    expect(requestIdOf(error)).toBe("revoke-7");
  });

  it("leaves reads alone", async () => {
    received.length = 0;
    const error = await failure(client().getKey({ keyId: "ak_test_0123456789abcdef" }));
    expect(received).toEqual([{ method: "getKey", requestId: undefined }]);
    expect(requestIdOf(error)).toBeUndefined();
  });
});
