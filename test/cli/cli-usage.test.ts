import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { runInProcess } from "./helpers/cli-runner.js";

// An address nothing listens on: a command that got as far as calling it would exit 6, not 2.
const NOWHERE = {
  APIKEYS_SERVER: "127.0.0.1:1",
  APIKEYS_ADMIN_KEY: "ak_test_nowhere_SuperSecretAdminKeyValue",
};

const commandPaths = [
  [],
  ["bootstrap"],
  ["keys"],
  ["keys", "create"],
  ["keys", "list"],
  ["keys", "get"],
  ["keys", "update"],
  ["keys", "rotate"],
  ["keys", "revoke"],
  ["keys", "delete"],
  ["groups"],
  ["groups", "create"],
  ["groups", "list"],
  ["groups", "get"],
  ["groups", "update"],
  ["groups", "delete"],
  ["tenant"],
  ["tenant", "get"],
  ["tenant", "set-limit"],
  ["usage"],
  ["audit"],
  ["audit", "tail"],
  ["audit", "history"],
];

function expectOneErrorLine(stderr: string): void {
  const lines = stderr.split("\n").filter((line) => line !== "");
  expect(lines, `stderr: ${stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^apikeys: \S/);
}

describe("apikeys help", () => {
  it.each(commandPaths.map((path) => [path.join(" ") || "(root)", path]))(
    "%s --help exits 0 with usage on stdout",
    async (_label, path) => {
      const run = await runInProcess([...(path as string[]), "--help"]);
      expect(run.code).toBe(ExitCode.ok);
      expect(run.stdout).toContain(
        `Usage: apikeys${(path as string[]).length === 0 ? "" : ` ${(path as string[]).join(" ")}`}`,
      );
      expect(run.stdout).toMatch(/Exit codes/);
      expect(run.stderr).toBe("");
    },
  );

  it("documents every exit code and the global options in the root help", async () => {
    const { stdout } = await runInProcess(["--help"]);
    for (const code of [
      "0  ok",
      "2  usage",
      "3  unauthenticated",
      "4  not found",
      "5  invalid argument",
      "6  unavailable",
      "7  resource exhausted",
    ]) {
      expect(stdout).toContain(code);
    }
    for (const option of [
      "--server <host:port>",
      "--url <url>",
      "--key <admin-key>",
      "--json",
      "--yes",
      "APIKEYS_SERVER",
      "APIKEYS_ADMIN_KEY",
    ]) {
      expect(stdout).toContain(option);
    }
  });

  it.each([
    [["help", "keys"], "Usage: apikeys keys [options] [command]"],
    [["keys", "help", "create"], "Usage: apikeys keys create [options]"],
  ])("%j prints help and exits 0", async (argv, usage) => {
    const run = await runInProcess(argv);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain(usage);
    expect(run.stderr).toBe("");
  });

  it("prints the version", async () => {
    const run = await runInProcess(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("apikeys usage errors exit 2 with one line on stderr and call nothing", () => {
  it.each([
    ["no command", []],
    ["a group without its subcommand", ["keys"]],
    ["an unknown command", ["keys", "lst"]],
    ["an unknown option", ["keys", "list", "--bogus"]],
    ["a missing argument", ["keys", "get"]],
    ["an extra argument", ["keys", "get", "ak_1", "ak_2"]],
    ["a missing required option", ["keys", "create", "--name", "x"]],
    ["an invalid choice", ["keys", "list", "--status", "sleeping"]],
    ["a non-numeric --limit", ["keys", "list", "--limit", "ten"]],
    ["a zero --limit", ["usage", "ak_1", "--limit", "0"]],
    [
      "an unparsable --expires",
      ["keys", "create", "--tenant", "t", "--name", "nn", "--expires", "next week"],
    ],
    ["an unparsable --overlap", ["keys", "rotate", "ak_1", "--yes", "--overlap", "a while"]],
    ["an unknown --code", ["usage", "ak_1", "--code", "maybe"]],
    ["--until before --since", ["usage", "ak_1", "--since", "1h", "--until", "2h"]],
    ["an unknown --kind", ["audit", "tail", "--kind", "everything"]],
    ["--since with --cursor", ["audit", "tail", "--since", "1h", "--cursor", "c1"]],
    ["both --server and --url", ["keys", "list", "--server", "127.0.0.1:1", "--url", "http://127.0.0.1:1"]],
    ["a malformed --url", ["keys", "list", "--url", "ftp://x"]],
    ["nothing to update", ["keys", "update", "ak_1"]],
    ["conflicting update options", ["keys", "update", "ak_1", "--group", "g", "--clear-group"]],
    ["set-limit without a limit or --clear", ["tenant", "set-limit", "--tenant", "acme"]],
    ["set-limit with both", ["tenant", "set-limit", "5", "--clear", "--tenant", "acme"]],
    ["set-limit with a bad number", ["tenant", "set-limit", "-5", "--tenant", "acme"]],
    ["a bad --request-id", ["keys", "revoke", "ak_1", "--yes", "--request-id", "\u0001"]],
    ["bootstrap without a token", ["bootstrap"]],
  ])("%s", async (_label, argv) => {
    const run = await runInProcess(argv, { env: NOWHERE });
    expect(run.code, run.stderr).toBe(ExitCode.usage);
    expectOneErrorLine(run.stderr);
    expect(run.stdout).toBe("");
  });

  it.each([
    ["keys", "rotate", "ak_1"],
    ["keys", "revoke", "ak_1"],
    ["keys", "delete", "ak_1"],
    ["groups", "delete", "grp_1"],
  ])("%s %s refuses without --yes when stdin is not a terminal", async (...argv) => {
    const run = await runInProcess(argv, { env: NOWHERE, tty: false });
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toMatch(
      /^apikeys: refusing to .* without confirmation: stdin is not a terminal; pass --yes\n$/,
    );
  });
});

describe("apikeys connection and credential errors", () => {
  it("exits 3 without an admin key, before any network call", async () => {
    const run = await runInProcess(["keys", "list"], { env: { APIKEYS_SERVER: "127.0.0.1:1" } });
    expect(run.code).toBe(ExitCode.auth);
    expect(run.stderr).toBe("apikeys: no admin key: set APIKEYS_ADMIN_KEY or pass --key\n");
  });

  it("exits 6 when the server cannot be reached, and never prints the admin key", async () => {
    const secret = "ak_test_flagkey_TopSecretValueFromTheCommandLine";
    for (const argv of [
      ["keys", "list", "--key", secret],
      [`--key=${secret}`, "keys", "get", "ak_1"],
      ["keys", "list", "--url", "http://127.0.0.1:1", "--key", secret],
    ]) {
      const run = await runInProcess(argv, { env: { APIKEYS_SERVER: "127.0.0.1:1" } });
      expect(run.code, run.stderr).toBe(ExitCode.unavailable);
      expectOneErrorLine(run.stderr);
      expect(run.stderr + run.stdout).not.toContain(secret);
    }
  });

  it("rejects an admin key that cannot be a header without echoing it", async () => {
    const run = await runInProcess(["keys", "list"], {
      env: { APIKEYS_SERVER: "127.0.0.1:1", APIKEYS_ADMIN_KEY: "ak test with spaces" },
    });
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).not.toContain("with spaces");
  });
});
