/**
 * The error table as a client sees it, in memory: whatever a use case throws reaches the client through the
 * production error boundary as one status code per DomainError kind, with the error's own message and, when
 * it names a specific reason, a google.rpc.ErrorInfo carrying that reason. Anything else is INTERNAL with a
 * fixed message, and a ConnectError built on purpose passes unchanged.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DomainError, type DomainErrorKind } from "../../src/domain/errors.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { errorCodes } from "../../src/rpc/error-codes.js";
import { ERROR_INFO_DOMAIN, errorInfoOf } from "../../src/rpc/error-info.js";
import { captureError } from "../helpers/capture-error.js";
import { routerClient } from "./helpers/in-memory-service.js";

/** EXPECTED_CODES is the table written out, so a change to the product's table must change this test too. */
const EXPECTED_CODES: ReadonlyArray<[DomainErrorKind, Code]> = [
  ["invalid_argument", Code.InvalidArgument],
  ["not_found", Code.NotFound],
  ["already_exists", Code.AlreadyExists],
  ["failed_precondition", Code.FailedPrecondition],
  ["aborted", Code.Aborted],
  ["resource_exhausted", Code.ResourceExhausted],
  ["out_of_range", Code.OutOfRange],
  ["unauthenticated", Code.Unauthenticated],
  ["permission_denied", Code.PermissionDenied],
  ["unavailable", Code.Unavailable],
];

/** answerTo returns the ConnectError a client receives when the handler throws `thrown`. */
async function answerTo(thrown: unknown): Promise<ConnectError> {
  const client = routerClient(KeyAdminService, (router) =>
    router.service(KeyAdminService, {
      getKey() {
        throw thrown;
      },
    }),
  );
  const error = await captureError(client.getKey({ keyId: "k" }));
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("the error table", () => {
  it("has a row for every DomainError kind", () => {
    expect(Object.keys(errorCodes).sort()).toEqual(EXPECTED_CODES.map(([kind]) => kind).sort());
  });

  it.each(EXPECTED_CODES)(
    "answers %s with code %i and the error's message, without ErrorInfo",
    async (kind, code) => {
      const answer = await answerTo(new DomainError(kind, `a ${kind} happened`));
      expect(answer.code).toBe(code);
      expect(answer.rawMessage).toBe(`a ${kind} happened`);
      expect(errorInfoOf(answer)).toBeNull();
    },
  );

  it.each(EXPECTED_CODES)(
    "answers %s with a specific reason as code %i with that ErrorInfo reason",
    async (kind, code) => {
      const reason = `SPECIFIC_${kind.toUpperCase()}`;
      const answer = await answerTo(new DomainError(kind, "with a reason", { reason }));
      expect(answer.code).toBe(code);
      expect(errorInfoOf(answer)).toMatchObject({ reason, domain: ERROR_INFO_DOMAIN });
    },
  );

  it.each<[string, DomainError, Code, string]>([
    [
      "the tenant key limit",
      new DomainError("resource_exhausted", "tenant at 10/10 keys", { reason: "TENANT_KEY_LIMIT_EXCEEDED" }),
      Code.ResourceExhausted,
      "TENANT_KEY_LIMIT_EXCEEDED",
    ],
    [
      "a finished bootstrap",
      new DomainError("failed_precondition", "a super user exists", { reason: "SUPERUSER_EXISTS" }),
      Code.FailedPrecondition,
      "SUPERUSER_EXISTS",
    ],
    [
      "a reused request id",
      new DomainError("failed_precondition", "request_id reused", { reason: "IDEMPOTENCY_KEY_MISMATCH" }),
      Code.FailedPrecondition,
      "IDEMPOTENCY_KEY_MISMATCH",
    ],
  ])("carries the reason of %s", async (_name, error, code, reason) => {
    const answer = await answerTo(error);
    expect(answer.code).toBe(code);
    expect(errorInfoOf(answer)?.reason).toBe(reason);
  });

  it("answers any other exception with INTERNAL and a fixed message, never its text", async () => {
    const answer = await answerTo(new Error("connection string mongodb://admin:hunter2@db"));
    expect(answer.code).toBe(Code.Internal);
    expect(answer.rawMessage).toBe("internal error");
  });

  it("passes a ConnectError built on purpose unchanged", async () => {
    const answer = await answerTo(new ConnectError("slow down", Code.ResourceExhausted));
    expect(answer.code).toBe(Code.ResourceExhausted);
    expect(answer.rawMessage).toBe("slow down");
  });
});
