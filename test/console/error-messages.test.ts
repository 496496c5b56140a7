/** The console's error mapping: a readable sentence per code, and the field an INVALID_ARGUMENT names. */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeError, fieldErrorOf } from "../../console/src/error-messages.js";

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
