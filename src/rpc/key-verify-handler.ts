/**
 * KeyVerifyService on the KeyVerifier: maps VerifyKeyRequest to the domain input and the verdict back to
 * VerifyKeyResponse, nothing more. Domain errors (an invalid-argument error, an unavailable error) are thrown as they
 * are; the shared error boundary maps them to gRPC codes.

 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { VerificationCode } from "../domain/audit-event.js";
import type { VerifyCredential } from "../domain/credential.js";
import type { KeyVerification, KeyVerifier, VerifyKeyInput } from "../domain/key-verifier.js";
import {
  type KeyVerifyService,
  VerificationCode as VerificationCodePb,
  type VerifyKeyRequest,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../gen/apikeys/v1/key_verify_service_pb.js";

/** VERIFICATION_CODES maps domain verdict codes to the proto enum. */
export const VERIFICATION_CODES: Readonly<Record<VerificationCode, VerificationCodePb>> = Object.freeze({
  valid: VerificationCodePb.VALID,
  not_found: VerificationCodePb.NOT_FOUND,
  expired: VerificationCodePb.EXPIRED,
  revoked: VerificationCodePb.REVOKED,
  ip_not_allowed: VerificationCodePb.IP_NOT_ALLOWED,
  insufficient_permissions: VerificationCodePb.INSUFFICIENT_PERMISSIONS,
  disabled: VerificationCodePb.DISABLED,
});

const NO_CREDENTIAL: VerifyCredential = Object.freeze({ kind: "none" });

/** toVerifyKeyInput maps a request to the verifier's input (the oneof credential to its domain form). */
export function toVerifyKeyInput(request: VerifyKeyRequest): VerifyKeyInput {
  const credential = request.credential;
  let domainCredential: VerifyCredential;
  switch (credential.case) {
    case "key":
      domainCredential = { kind: "key", key: credential.value };
      break;
    case "authorization":
      domainCredential = { kind: "authorization", authorization: credential.value };
      break;
    case "accessKey":
      domainCredential = {
        kind: "access_key",
        accessKeyId: credential.value.accessKeyId,
        secretKey: credential.value.secretKey,
      };
      break;
    default:
      domainCredential = NO_CREDENTIAL;
  }
  return {
    credential: domainCredential,
    clientIp: request.clientIp,
    endpoint: request.endpoint,
    requiredPermissions: request.requiredPermissions,
  };
}

/** toVerifyKeyResponse builds the response message of a verdict. */
export function toVerifyKeyResponse(result: KeyVerification): VerifyKeyResponse {
  const key = result.key;
  return create(VerifyKeyResponseSchema, {
    valid: result.valid,
    code: VERIFICATION_CODES[result.code],
    httpStatus: result.httpStatus,
    keyId: key?.keyId ?? "",
    tenantId: key?.tenantId ?? "",
    name: key?.name ?? "",
    userId: key?.userId ?? "",
    groupId: key?.groupId ?? "",
    permissions: [...result.permissions],
    ...(key?.expiresAt == null ? {} : { expireTime: timestampFromDate(key.expiresAt) }),
    secretGeneration: result.secretGeneration,
    secretSuperseded: result.secretSuperseded,
    missingPermissions: [...result.missingPermissions],
    // Labels go to valid verdicts only; the frozen map is shared by every verdict of the cached key.
    ...(result.valid && key !== null ? { labels: key.labels } : {}),
  });
}

/** createKeyVerifyHandler returns the KeyVerifyService implementation over `verifier`. */
export function createKeyVerifyHandler(verifier: KeyVerifier): ServiceImpl<typeof KeyVerifyService> {
  // The verifier shares one frozen verdict between the calls that reach it (see key-verifier.ts), so its
  // response message is built once too; responses are only ever serialized, never changed.
  const responses = new WeakMap<KeyVerification, VerifyKeyResponse>();
  const respond = (verdict: KeyVerification): VerifyKeyResponse => {
    let response = responses.get(verdict);
    if (response === undefined) {
      response = toVerifyKeyResponse(verdict);
      if (verdict.missingPermissions.length === 0) {
        responses.set(verdict, response);
      }
    }
    return response;
  };
  return {
    verifyKey(request: VerifyKeyRequest): VerifyKeyResponse | Promise<VerifyKeyResponse> {
      const outcome = verifier.verify(toVerifyKeyInput(request));
      return outcome instanceof Promise ? outcome.then(respond) : respond(outcome);
    },
  };
}
