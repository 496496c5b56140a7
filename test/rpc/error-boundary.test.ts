import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  type DomainErrorKind,
  invalidArgument,
  KEY_STORE_UNAVAILABLE,
  validateFields,
} from "../../src/domain/errors.js";
import { errorCodes, statusName } from "../../src/rpc/error-codes.js";
import { errorInfoOf, fieldViolationsOf } from "../../src/rpc/error-info.js";
import { INTERNAL_ERROR_MESSAGE, isServerFault, toRpcError } from "../../src/transport/error-boundary.js";

const domainErrors: [DomainError, Code][] = [
  [invalidArgument("client_ip", "is not an IP address"), Code.InvalidArgument],
  [new DomainError("not_found", "key not found"), Code.NotFound],
  [new DomainError("already_exists", "group exists"), Code.AlreadyExists],
  [new DomainError("failed_precondition", "key is revoked"), Code.FailedPrecondition],
  [new DomainError("aborted", "concurrent update"), Code.Aborted],
  [new DomainError("resource_exhausted", "tenant key limit reached"), Code.ResourceExhausted],
  [new DomainError("out_of_range", "cursor is older than retention"), Code.OutOfRange],
  [
    new DomainError("unauthenticated", "a valid API key with admin permissions is required"),
    Code.Unauthenticated,
  ],
  [new DomainError("permission_denied", "missing keys:write"), Code.PermissionDenied],
  [new DomainError("unavailable", KEY_STORE_UNAVAILABLE), Code.Unavailable],
];

describe("error-code table", () => {
  it("maps every domain error kind to a gRPC status code with the same numeric value", () => {
    const kinds: DomainErrorKind[] = [
      "invalid_argument",
      "not_found",
      "already_exists",
      "failed_precondition",
      "aborted",
      "resource_exhausted",
      "out_of_range",
      "unauthenticated",
      "permission_denied",
      "unavailable",
    ];
    expect(Object.keys(errorCodes).sort()).toEqual([...kinds].sort());
    for (const kind of kinds) {
      // gRPC spells the status like the kind: the numeric code must be the gRPC one.
      expect(statusName(errorCodes[kind]), kind).toBe(kind.toUpperCase());
    }
  });
});

describe("toRpcError", () => {
  it.each(domainErrors)("maps %s to its code with its own message", (error, code) => {
    const mapped = toRpcError(error);
    expect(mapped).toBeInstanceOf(ConnectError);
    expect(mapped.code).toBe(code);
    expect(mapped.rawMessage).toBe(error.message);
    expect(mapped.cause).toBe(error);
  });

  it.each([
    [
      new DomainError("resource_exhausted", "tenant acme is at its key limit (10)", {
        reason: "TENANT_KEY_LIMIT_EXCEEDED",
      }),
      "TENANT_KEY_LIMIT_EXCEEDED",
    ],
    [new DomainError("failed_precondition", "key is revoked", { reason: "KEY_REVOKED" }), "KEY_REVOKED"],
  ])("attaches an ErrorInfo detail naming the specific reason of %s", (error, reason) => {
    const mapped = toRpcError(error);
    expect(mapped.code).toBe(errorCodes[error.kind]);
    expect(mapped.rawMessage).toBe(error.message);
    expect(errorInfoOf(mapped)).toEqual({ reason, domain: expect.any(String), metadata: {} });
  });

  it.each([
    new DomainError("failed_precondition", "key is revoked"),
    new DomainError("resource_exhausted", "limit reached"),
    new DomainError("not_found", "gone"),
  ])("attaches no ErrorInfo when %s names no specific reason", (error) => {
    expect(toRpcError(error).details).toEqual([]);
  });

  it("gives an invalid argument naming a field one BadRequest violation with that path", () => {
    const mapped = toRpcError(invalidArgument("key.ip_allowlist[2]", '"10.0.0.1/8" has host bits set'));
    expect(mapped.code).toBe(Code.InvalidArgument);
    expect(mapped.rawMessage).toBe('key.ip_allowlist[2]: "10.0.0.1/8" has host bits set');
    expect(fieldViolationsOf(mapped)).toEqual([
      { field: "key.ip_allowlist[2]", description: '"10.0.0.1/8" has host bits set' },
    ]);
    expect(errorInfoOf(mapped)).toBeNull();
  });

  it("collects every bad field of one request into one BadRequest", () => {
    let thrown: unknown;
    try {
      validateFields({
        name: () => {
          throw invalidArgument("name", "is required");
        },
        ok: () => "fine",
        allowlist: () => {
          throw invalidArgument("ip_allowlist[1]", "is empty");
        },
      });
    } catch (error) {
      thrown = error;
    }
    const mapped = toRpcError(thrown);
    expect(mapped.code).toBe(Code.InvalidArgument);
    expect(mapped.rawMessage).toBe("name: is required; ip_allowlist[1]: is empty");
    expect(fieldViolationsOf(mapped)).toEqual([
      { field: "name", description: "is required" },
      { field: "ip_allowlist[1]", description: "is empty" },
    ]);
  });

  it("lets an error that is not a field's pass validateFields unchanged", () => {
    const denied = new DomainError("permission_denied", "not yours");
    expect(() =>
      validateFields({
        a: () => {
          throw invalidArgument("a", "bad");
        },
        b: () => {
          throw denied;
        },
      }),
    ).toThrow(denied);
  });

  it("names its errors in a DNS-style ErrorInfo domain", () => {
    const mapped = toRpcError(
      new DomainError("failed_precondition", "key is revoked", { reason: "KEY_REVOKED" }),
    );
    expect(errorInfoOf(mapped)?.domain).toBe("apikeys.dev");
  });

  it("passes a ConnectError through unchanged", () => {
    const error = new ConnectError("bad cursor", Code.InvalidArgument);
    expect(toRpcError(error)).toBe(error);
  });

  it.each([
    ["an Error", new Error("connection to 10.0.0.5 refused; key ak_live_secret")],
    ["a TypeError", new TypeError("cannot read properties of undefined")],
    ["a string", "boom"],
    ["undefined", undefined],
  ])("turns %s into INTERNAL with the generic message, keeping it as the cause", (_label, thrown) => {
    const mapped = toRpcError(thrown);
    expect(mapped.code).toBe(Code.Internal);
    expect(mapped.rawMessage).toBe(INTERNAL_ERROR_MESSAGE);
    expect(mapped.message).not.toContain("10.0.0.5");
    expect(mapped.cause).toBe(thrown);
  });

  it("reports the abort reason for an exception the abort caused (deadline, cancel, shutdown)", () => {
    const reason = new ConnectError("deadline exceeded", Code.DeadlineExceeded);
    const thrown = new DOMException("This operation was aborted", "AbortError");
    const mapped = toRpcError(thrown, reason);
    expect(mapped.code).toBe(Code.DeadlineExceeded);
    expect(mapped.cause).toBe(thrown);
  });

  it("keeps a domain error's own code even when the call was aborted", () => {
    const reason = new ConnectError("deadline exceeded", Code.DeadlineExceeded);
    expect(toRpcError(new DomainError("not_found", "gone"), reason).code).toBe(Code.NotFound);
  });

  it.each([
    [Code.Internal, true],
    [Code.Unknown, true],
    [Code.DataLoss, true],
    [Code.Unavailable, true],
    [Code.InvalidArgument, false],
    [Code.NotFound, false],
    [Code.Unauthenticated, false],
  ])("isServerFault(%s) is %s", (code, expected) => {
    expect(isServerFault(code)).toBe(expected);
  });
});
