import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { parseBaseUrl } from "../../src/cli/admin-connection.js";
import { auditEventLine } from "../../src/cli/audit-presentation.js";
import { CliError } from "../../src/cli/cli-error.js";
import { ExitCode, exitCodeForConnectCode } from "../../src/cli/exit-codes.js";
import { expiryText, keysTable, statusText, usageText } from "../../src/cli/key-presentation.js";
import { redact } from "../../src/cli/run-cli.js";
import { oneLine, terminalText } from "../../src/cli/terminal-text.js";
import { formatTable } from "../../src/cli/text-table.js";
import { parseDurationMs, parseTimeInput } from "../../src/cli/time-input.js";
import { AdminAction, AuditEventKind, AuditEventSchema } from "../../src/gen/apikeys/v1/audit_pb.js";
import { ExpirationState, KeySchema, KeyStatus, TenantSchema } from "../../src/gen/apikeys/v1/key_pb.js";
import { captureError } from "../helpers/capture-error.js";

describe("formatTable", () => {
  it("aligns every column to its widest cell, two spaces apart, upper-case headers", () => {
    const table = formatTable(
      ["name", "id", "status"],
      [
        ["Mobile App", "ak_1", "active"],
        ["X", "ak_000000000002", "revoked"],
      ],
    );
    const lines = table.split("\n");
    expect(lines).toEqual([
      "NAME        ID               STATUS",
      "Mobile App  ak_1             active",
      "X           ak_000000000002  revoked",
    ]);
  });

  it("neutralises control characters and ANSI escapes in cells", () => {
    const table = formatTable(["name"], [["evil\u001b[2J\nname"]]);
    expect(table).toBe("NAME\nevil?[2J?name");
  });

  it("counts code points, not UTF-16 units, so astral characters align", () => {
    const lines = formatTable(
      ["a", "b"],
      [
        ["😀😀", "x"],
        ["abc", "y"],
      ],
    ).split("\n");
    expect(lines).toEqual(["A    B", "😀😀   x", "abc  y"]);
  });
});

describe("key presentation", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  it.each([
    ["active", { status: KeyStatus.ACTIVE }, "active"],
    ["expired", { status: KeyStatus.EXPIRED }, "expired"],
    ["revoked", { status: KeyStatus.REVOKED }, "revoked"],
    ["active but deleted", { status: KeyStatus.ACTIVE, deleteTime: timestampFromDate(now) }, "deleted"],
  ])("status of a key %s -> %s", (_label, init, expected) => {
    expect(statusText(create(KeySchema, init))).toBe(expected);
  });

  it.each([
    ["no expiry", {}, "never"],
    [
      "valid",
      { expireTime: timestampFromDate(now), expirationState: ExpirationState.VALID },
      "2025-06-01 12:00 UTC (valid)",
    ],
    [
      "expiring soon",
      { expireTime: timestampFromDate(now), expirationState: ExpirationState.EXPIRING_SOON },
      "2025-06-01 12:00 UTC (expiring soon)",
    ],
    [
      "expired",
      { expireTime: timestampFromDate(now), expirationState: ExpirationState.EXPIRED },
      "2025-06-01 12:00 UTC (expired)",
    ],
  ])("expiry of a key with %s -> %s", (_label, init, expected) => {
    expect(expiryText(create(KeySchema, init))).toBe(expected);
  });

  it('shows tenant usage the seed way, "2/10 keys"', () => {
    expect(usageText(create(TenantSchema, { usedKeys: 2, keyLimit: 10 }))).toBe("2/10 keys");
  });

  it("lists name, key id, status, group, expiry and last used", () => {
    const table = keysTable([
      create(KeySchema, {
        name: "ERP",
        keyId: "ak_1",
        status: KeyStatus.ACTIVE,
        groupId: "grp_1",
        lastUsedTime: timestampFromDate(now),
        displayHint: "ak_1_Ab3x…",
      }),
    ]);
    expect(table.split("\n")).toEqual([
      "NAME  KEY ID  STATUS  GROUP  EXPIRY  LAST USED",
      "ERP   ak_1    active  grp_1  never   2025-06-01 12:00 UTC",
    ]);
  });
});

describe("audit event lines", () => {
  it("renders an admin event on one line with action, target, actor, fields and request id", () => {
    const line = auditEventLine(
      create(AuditEventSchema, {
        time: timestampFromDate(new Date("2025-06-01T12:00:00Z")),
        tenantId: "acme",
        kind: AuditEventKind.ADMIN,
        detail: {
          case: "admin",
          value: {
            action: AdminAction.KEY_UPDATED,
            keyId: "ak_1",
            actorKeyId: "ak_admin",
            changedFields: ["name", "ip_allowlist"],
            requestId: "r-1",
          },
        },
      }),
    );
    expect(line).toBe(
      "2025-06-01T12:00:00.000Z  admin  acme  key.updated  key=ak_1  by=ak_admin  fields=name,ip_allowlist  request=r-1",
    );
  });

  it("never lets an endpoint forge a second line", () => {
    const line = auditEventLine(
      create(AuditEventSchema, {
        kind: AuditEventKind.USAGE,
        detail: { case: "usage", value: { endpoint: "GET /x\n2025-01-01 admin forged", keyId: "ak_1" } },
      }),
    );
    expect(line).not.toContain("\n");
  });
});

describe("time and duration input", () => {
  const now = new Date("2025-06-01T00:00:00Z");
  it.each([
    ["2025-12-31", "future", "2025-12-31T00:00:00.000Z"],
    ["2025-12-31T23:30:00Z", "future", "2025-12-31T23:30:00.000Z"],
    ["2025-12-31T23:30:00+01:00", "future", "2025-12-31T22:30:00.000Z"],
    ["2028-02-29T12:00:00Z", "future", "2028-02-29T12:00:00.000Z"],
    ["30d", "future", "2025-07-01T00:00:00.000Z"],
    ["+12h", "future", "2025-06-01T12:00:00.000Z"],
    ["1h", "past", "2025-05-31T23:00:00.000Z"],
    ["2w", "past", "2025-05-18T00:00:00.000Z"],
  ] as const)("%s (%s) -> %s", (value, direction, expected) => {
    expect(parseTimeInput(value, "--x", now, direction).toISOString()).toBe(expected);
  });

  it.each([
    "",
    "tomorrow",
    "1",
    "2025-02-30",
    "2025-13-01",
    "30 days",
    "-5d",
    "2025-12-31T24:61Z",
    // Impossible fields that Date.parse would roll over into a real instant.
    "2030-02-30T00:00:00Z",
    "2025-02-29",
    "2025-04-31T12:00:00+02:00",
    "2025-12-31T24:00:00Z",
    "2025-12-31 24:00",
  ])("rejects %j as a usage error", (value) => {
    const error = captureError(() => parseTimeInput(value, "--expires", now, "future"));
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.usage);
  });

  it.each([
    ["0", 0],
    ["500ms", 500],
    ["90s", 90_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
  ])("duration %s -> %d ms", (value, ms) => {
    expect(parseDurationMs(value, "--overlap")).toBe(ms);
  });
});

describe("exit codes", () => {
  it.each([
    [Code.Unauthenticated, 3],
    [Code.PermissionDenied, 3],
    [Code.NotFound, 4],
    [Code.InvalidArgument, 5],
    [Code.FailedPrecondition, 5],
    [Code.AlreadyExists, 5],
    [Code.OutOfRange, 5],
    [Code.Unavailable, 6],
    [Code.DeadlineExceeded, 6],
    [Code.Aborted, 6],
    [Code.ResourceExhausted, 7],
    [Code.Internal, 1],
    [Code.Unknown, 1],
    [Code.Unimplemented, 1],
  ])("RPC code %i -> exit %i", (code, exit) => {
    expect(exitCodeForConnectCode(code)).toBe(exit);
  });
});

describe("error line hygiene", () => {
  it("redacts every known secret and keeps errors on one safe line", () => {
    expect(redact("bad key ak_live_x_SECRET here", new Set(["ak_live_x_SECRET"]))).toBe(
      "bad key [redacted] here",
    );
    expect(oneLine("first\n  second\r\nthird\u001b[31m")).toBe("first second third?[31m");
    expect(terminalText("a\u202Eb")).toBe("a?b");
  });

  it.each([
    ["localhost:50051", "http://localhost:50051"],
    ["http://apikeys.internal:8080", "http://apikeys.internal:8080"],
    ["https://apikeys.example.com/base/", "https://apikeys.example.com/base"],
  ])("server address %s -> %s", (input, expected) => {
    expect(parseBaseUrl(input, "--server", true)).toBe(expected);
  });

  it("never echoes an address with user info", () => {
    expect(() => parseBaseUrl("http://admin:hunter2@host:1", "--url", false)).toThrow(/\(hidden\)/);
    try {
      parseBaseUrl("http://admin:hunter2@host:1", "--url", false);
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
  });
});
