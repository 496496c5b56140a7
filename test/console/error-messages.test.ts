/** The console's error mapping: a readable sentence per code, and the field an INVALID_ARGUMENT names. */
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  describeError,
  fieldErrorOf,
  fieldErrorsOf,
  formErrorsOf,
  isConflict,
} from "../../console/src/error-messages.js";
import { formFieldOf } from "../../console/src/key-form.js";
import { tenantFormFieldOf } from "../../console/src/tenant-form.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";

/** badRequest is an INVALID_ARGUMENT as the browser receives it: the BadRequest detail as type and bytes. */
function badRequest(message: string, violations: { field: string; description: string }[]): ConnectError {
  const detail = create(BadRequestSchema, { fieldViolations: violations });
  const error = new ConnectError(message, Code.InvalidArgument);
  error.details.push({ type: BadRequestSchema.typeName, value: toBinary(BadRequestSchema, detail) });
  return error;
}

describe("describeError", () => {
  it("sends the person back to sign in on UNAUTHENTICATED, without the server's wording", () => {
    const described = describeError(new ConnectError("the API key is not valid", Code.Unauthenticated));
    expect(described.signedOut).toBe(true);
    expect(described.title).toBe("Signed out");
    expect(described.detail).toContain("Sign in again");
  });

  it("shows the server's own message, as a sentence, for refusals written for the caller", () => {
    const described = describeError(
      new ConnectError("group grp_1 is used by 2 keys; move or delete them first", Code.FailedPrecondition),
    );
    expect(described).toEqual({
      title: "Not possible now",
      detail: "Group grp_1 is used by 2 keys; move or delete them first.",
      signedOut: false,
    });
    expect(describeError(new ConnectError("", Code.PermissionDenied)).detail).toBe(
      "This key may not do that.",
    );
  });

  it.each([
    [Code.Unavailable, "Service unavailable"],
    [Code.DeadlineExceeded, "No answer in time"],
    [Code.Internal, "Something went wrong"],
    [Code.Unknown, "Something went wrong"],
  ])("never dumps a raw server error: code %s reads %s", (code, title) => {
    const described = describeError(new ConnectError("MongoServerError: boom at line 3", code));
    expect(described.title).toBe(title);
    expect(described.detail).not.toContain("MongoServerError");
    expect(described.detail).not.toMatch(/\[\w+\]/);
  });

  it("describes things that are not ConnectErrors (a failed fetch) too", () => {
    const described = describeError(new TypeError("Failed to fetch"));
    expect(described.title).toBe("Something went wrong");
    expect(described.signedOut).toBe(false);
  });
});

describe("fieldErrorOf", () => {
  it("reads the field and what is wrong from an INVALID_ARGUMENT", () => {
    expect(fieldErrorOf(new ConnectError("name: must be 2-200 characters", Code.InvalidArgument))).toEqual({
      field: "name",
      message: "Must be 2-200 characters.",
    });
  });

  it("names the line of a list entry and drops the enclosing message's prefix", () => {
    expect(
      fieldErrorOf(
        new ConnectError(
          'ip_allowlist[1]: "10.1.2.3/8" has host bits set beyond the /8 prefix; did you mean "10.0.0.0/8"?',
          Code.InvalidArgument,
        ),
      ),
    ).toEqual({
      field: "ip_allowlist",
      message: 'Line 2: "10.1.2.3/8" has host bits set beyond the /8 prefix; did you mean "10.0.0.0/8"?',
    });
    expect(
      fieldErrorOf(new ConnectError("key.expire_time: may only move earlier", Code.InvalidArgument)),
    ).toEqual({
      field: "expire_time",
      message: "May only move earlier.",
    });
  });

  it("is null for other codes and for messages that name no field", () => {
    expect(fieldErrorOf(new ConnectError("name: taken", Code.AlreadyExists))).toBeNull();
    expect(fieldErrorOf(new ConnectError("the request is malformed", Code.InvalidArgument))).toBeNull();
  });
});

describe("fieldErrorsOf with google.rpc.BadRequest", () => {
  it("takes every field violation, not only the field the message starts with", () => {
    const error = badRequest("name: must be 2-200 characters (and 2 more)", [
      { field: "name", description: "must be 2-200 characters" },
      { field: "ip_allowlist[2]", description: '"10.1.2.3/8" has host bits set' },
      { field: "labels[Tier]", description: "must be lowercase letters, digits, '_', '.' and '-'" },
    ]);
    expect(fieldErrorsOf(error)).toEqual([
      { field: "name", message: "Must be 2-200 characters." },
      { field: "ip_allowlist", message: 'Line 3: "10.1.2.3/8" has host bits set.' },
      { field: "labels", message: "Label “Tier”: must be lowercase letters, digits, '_', '.' and '-'." },
    ]);
  });

  it("prefers the violations to the message, dropping the enclosing message's prefix", () => {
    const error = badRequest("the request has 1 bad field", [
      { field: "key.expire_time", description: "may only move earlier" },
    ]);
    expect(fieldErrorOf(error)).toEqual({ field: "expire_time", message: "May only move earlier." });
  });

  it("falls back to the message when the detail names no usable field", () => {
    const error = badRequest("name: must be 2-200 characters", [{ field: "", description: "" }]);
    expect(fieldErrorsOf(error)).toEqual([{ field: "name", message: "Must be 2-200 characters." }]);
    expect(fieldErrorsOf(new ConnectError("name: taken", Code.AlreadyExists))).toEqual([]);
  });
});

describe("formErrorsOf", () => {
  it("puts each violation on the form input that edits its field, the first message per input", () => {
    const error = badRequest("2 bad fields", [
      { field: "ip_allowlist[0]", description: "is a catch-all" },
      { field: "ip_allowlist[1]", description: "has host bits set" },
      { field: "labels", description: "must have at most 32 entries, got 33" },
    ]);
    expect(formErrorsOf(error, formFieldOf)).toEqual({
      ipAllowlist: "Line 1: is a catch-all.",
      labels: "Must have at most 32 entries, got 33.",
    });
    expect(
      formErrorsOf(
        badRequest("bad", [{ field: "display_name", description: "must be 2-200 characters" }]),
        tenantFormFieldOf,
      ),
    ).toEqual({ displayName: "Must be 2-200 characters." });
  });

  it("is null when no named field is on the form, so the error is shown as a whole", () => {
    const error = badRequest("request_id: too long", [{ field: "request_id", description: "too long" }]);
    expect(formErrorsOf(error, formFieldOf)).toBeNull();
    expect(formErrorsOf(new ConnectError("no", Code.PermissionDenied), formFieldOf)).toBeNull();
  });
});

describe("a stale etag", () => {
  it("reads as changed meanwhile with a reload, never the server's wording", () => {
    const error = new ConnectError(
      "the key ak_live_1 was changed since it was read (etag mismatch); read it again and retry",
      Code.Aborted,
    );
    expect(isConflict(error)).toBe(true);
    const described = describeError(error);
    expect(described.title).toBe("Changed meanwhile");
    expect(described.detail).toContain("Reload");
    expect(described.detail).not.toContain("etag");
    expect(isConflict(new ConnectError("x", Code.FailedPrecondition))).toBe(false);
  });
});
