/**
 * Every change the CLI sends carries a request_id — the one given with --request-id, else a fresh one per
 * command — and a failed change names it, so retrying with it is applied at most once. A recording stub of
 * KeyAdminService on the Connect protocol stands in for the service (it answers UNAVAILABLE, as a server
 * whose database hung would).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { runInProcess } from "./helpers/cli-runner.js";

const KEY_ID = "ak_test_0123456789abcdef";
const GROUP_ID = "grp_0123456789abcdef";

/** MUTATIONS are every command that changes something, with the RPC it calls. */
const MUTATIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["createKey", ["keys", "create", "--tenant", "acme", "--name", "ERP"]],
  ["updateKey", ["keys", "update", KEY_ID, "--name", "ERP 2"]],
  ["rotateKey", ["keys", "rotate", KEY_ID]],
  ["revokeKey", ["keys", "revoke", KEY_ID]],
  ["deleteKey", ["keys", "delete", KEY_ID]],
  ["createGroup", ["groups", "create", "--tenant", "acme", "--name", "readers"]],
  ["updateGroup", ["groups", "update", GROUP_ID, "--description", "read only"]],
  ["deleteGroup", ["groups", "delete", GROUP_ID]],
  ["updateTenant", ["tenant", "set-limit", "--tenant", "acme", "20"]],
];

const received: Array<{ method: string; requestId: string }> = [];
let server: Server;
let url: string;

beforeAll(async () => {
  const unavailable = (method: string) => (request: { requestId: string }) => {
    received.push({ method, requestId: request.requestId });
    throw new ConnectError("the key store is unavailable, try again", Code.Unavailable);
  };
  const impl: Partial<ServiceImpl<typeof KeyAdminService>> = {
    ...Object.fromEntries(MUTATIONS.map(([method]) => [method, unavailable(method)])),
    // A change the service refused outright: nothing was applied.
    createKey: (request) => {
      if (request.name === "x") {
        received.push({ method: "createKey", requestId: request.requestId });
        throw new ConnectError("name: must be 2-200 characters", Code.InvalidArgument);
      }
      return unavailable("createKey")(request);
    },
  };
  server = createServer(connectNodeAdapter({ routes: (router) => router.service(KeyAdminService, impl) }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function run(argv: readonly string[]) {
  received.length = 0;
  return runInProcess(["--url", url, "--yes", ...argv], {
    env: { APIKEYS_ADMIN_KEY: "ak_test_stub_AdminKeyForTheRecordingStub" },
  });
}

describe("request ids of changes", () => {
  it.each(MUTATIONS)("%s sends a fresh request id and names it in the error line", async (method, argv) => {
    const first = await run(argv);
    expect(first.code, first.stderr).toBe(ExitCode.unavailable);
    expect(received.map((call) => call.method)).toEqual([method]);
    const sent = received[0]?.requestId ?? "";
    expect(sent).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.stderr).toBe(
      `apikeys: the key store is unavailable, try again (unavailable); request id ${sent}: retry with --request-id ${sent}\n`,
    );

    const second = await run(argv);
    expect(received[0]?.requestId).not.toBe(sent); // each command line is a new change
    expect(second.code).toBe(ExitCode.unavailable);
  });

  it.each(MUTATIONS)("%s sends the --request-id it is given, for a retry", async (_method, argv) => {
    const retry = await run([...argv, "--request-id", "retry-of-change-7"]);
    expect(received.map((call) => call.requestId)).toEqual(["retry-of-change-7"]);
    expect(retry.stderr).toContain("retry with --request-id retry-of-change-7");
  });

  it("prints the request id before sending with --verbose", async () => {
    const verbose = await run(["--verbose", "keys", "create", "--tenant", "acme", "--name", "ERP"]);
    const sent = received[0]?.requestId ?? "";
    expect(verbose.stderr.split("\n")[0]).toBe(`apikeys: request id ${sent}`);
  });

  it("names no request id when the service refused the change (nothing was applied)", async () => {
    const refused = await run(["keys", "create", "--tenant", "acme", "--name", "x"]);
    expect(refused.code).toBe(ExitCode.rejected);
    expect(received).toHaveLength(1);
    expect(refused.stderr).toBe("apikeys: name: must be 2-200 characters (invalid_argument)\n");
  });

  it("names no request id when the change was never sent", async () => {
    const refused = await run(["keys", "create", "--tenant", "acme", "--name", "ERP", "--request-id", ""]);
    expect(refused.code).toBe(ExitCode.usage);
    expect(received).toEqual([]);
    expect(refused.stderr).not.toContain("retry with");
  });
});
