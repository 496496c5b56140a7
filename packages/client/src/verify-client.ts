import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import {
  AccessKeyCredentialSchema,
  VerificationCode,
  type VerifyKeyRequest,
  VerifyKeyRequestSchema,
  type VerifyKeyResponse,
} from "./gen/apikeys/v1/key_verify_service_pb.js";
import { VerifyCallError } from "./verify-call-error.js";
import {
  deserializeVerifyKeyResponse,
  serializeVerifyKeyRequest,
  VERIFY_KEY_PATH,
} from "./verify-service-definition.js";

/** CALLER_TOKEN_METADATA is the gRPC metadata key that carries the shared caller token, when configured. */
export const CALLER_TOKEN_METADATA = "x-apikeys-caller-token";

/** DEFAULT_VERIFY_DEADLINE_MS is the default per-call deadline of VerifyKey, in milliseconds. */
export const DEFAULT_VERIFY_DEADLINE_MS = 250;

/**
 * VerifyCredential is the credential an end user presented, in one of the forms VerifyKey accepts: the raw
 * key (X-API-Key, or a Bearer/ApiKey token already taken out of its header), a whole Authorization header
 * value, or the two-part access key id + secret key. Every form holds a secret: never log it.
 */
export type VerifyCredential =
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "authorization"; readonly authorization: string }
  | { readonly kind: "accessKey"; readonly accessKeyId: string; readonly secretKey: string };

/** VerifyInput is one verification: the credential plus what the end user's request looked like. */
export interface VerifyInput {
  /** credential is what the end user presented. */
  readonly credential: VerifyCredential;
  /** clientIp is the end user's IP address as this service determined it; omit or "" when unknown. */
  readonly clientIp?: string;
  /** endpoint is "METHOD /path" of the end user's request, for the key's usage log. */
  readonly endpoint?: string;
  /** requiredPermissions must all be granted to the key (or its group) for the verdict to be VALID. */
  readonly requiredPermissions?: readonly string[];
}

/**
 * VerificationCodeName is the name of a VerifyKey verdict; "UNSPECIFIED" stands for a code this library
 * version does not know (treated as a refusal).
 */
export type VerificationCodeName =
  | "VALID"
  | "NOT_FOUND"
  | "EXPIRED"
  | "REVOKED"
  | "IP_NOT_ALLOWED"
  | "INSUFFICIENT_PERMISSIONS"
  | "DISABLED"
  | "UNSPECIFIED";

/** VerifyResult is the plain verdict of one VerifyKey call; absent values are null. */
export interface VerifyResult {
  /** valid is true exactly when the key may be used for this request. */
  readonly valid: boolean;
  /** code is the single reason for the verdict. */
  readonly code: VerificationCodeName;
  /** httpStatus is the status the service should answer its end user with: 200, 401 or 403. */
  readonly httpStatus: number;
  /** keyId identifies the key; null for NOT_FOUND. */
  readonly keyId: string | null;
  /** tenantId is the tenant owning the key; null for NOT_FOUND. */
  readonly tenantId: string | null;
  /** name is the key's name; null for NOT_FOUND. */
  readonly name: string | null;
  /** userId is the user the key acts for; null when none. */
  readonly userId: string | null;
  /** groupId is the key's authorization group; null when none. */
  readonly groupId: string | null;
  /** permissions are the key's effective permissions (its own plus its group's). */
  readonly permissions: readonly string[];
  /** expireTime is when the key expires; null when it never does. */
  readonly expireTime: Date | null;
  /** secretGeneration is the generation of the secret that matched; 0 when none did. */
  readonly secretGeneration: number;
  /** secretSuperseded is true when the matched secret was replaced by a rotation and works only for a while. */
  readonly secretSuperseded: boolean;
  /** missingPermissions lists the required permissions the key lacks. */
  readonly missingPermissions: readonly string[];
  /** labels are the key's labels (plan tier, customer id...); empty unless the key is valid. */
  readonly labels: Readonly<Record<string, string>>;
}

/** VerifyCallOptions tune one call. */
export interface VerifyCallOptions {
  /** deadlineMs overrides the client's deadline for this call. */
  readonly deadlineMs?: number;
  /** signal cancels the call (it then fails with a VerifyCallError of code CANCELLED). */
  readonly signal?: AbortSignal;
}

/** VerifyClientOptions configure createVerifyClient. */
export interface VerifyClientOptions {
  /** address is the gRPC address of the service, "host:port" (any grpc-js target, e.g. "dns:///apikeys:50051"). */
  readonly address: string;
  /** deadlineMs is the deadline of every call, in milliseconds; default 250. */
  readonly deadlineMs?: number;
  /** credentials are the channel credentials; default insecure (plaintext, for an internal network). */
  readonly credentials?: ChannelCredentials;
  /** callerToken is sent as "x-apikeys-caller-token" metadata when the server requires a shared token. */
  readonly callerToken?: string;
  /**
   * channelOptions are passed to grpc-js. By default reconnect backoff is capped at 2 s so the client
   * notices quickly when the service is back.
   */
  readonly channelOptions?: ChannelOptions;
}

/** VerifyClient calls KeyVerifyService.VerifyKey with a deadline on every call. */
export interface VerifyClient {
  /**
   * verify checks a credential. A refused key is a normal result (valid=false); a failed RPC rejects with a
   * VerifyCallError whose kind tells "unavailable" from "rejected".
   */
  verify(input: VerifyInput, options?: VerifyCallOptions): Promise<VerifyResult>;
  /** close releases the channel; calls made afterwards fail. */
  close(): void;
}

const defaultChannelOptions: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/**
 * createVerifyClient makes a VerifyClient on @grpc/grpc-js. The channel connects lazily and is reused by
 * every call; every call carries a deadline (default 250 ms).
 */
export function createVerifyClient(options: VerifyClientOptions): VerifyClient {
  const deadlineMs = options.deadlineMs ?? DEFAULT_VERIFY_DEADLINE_MS;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) {
    throw new RangeError("deadlineMs must be a positive number");
  }
  const client = new Client(options.address, options.credentials ?? grpcCredentials.createInsecure(), {
    ...defaultChannelOptions,
    ...options.channelOptions,
  });
  const callerToken = options.callerToken;

  return {
    verify(input, callOptions = {}) {
      const request = toVerifyKeyRequest(input);
      const metadata = new Metadata();
      if (callerToken !== undefined && callerToken !== "") {
        metadata.set(CALLER_TOKEN_METADATA, callerToken);
      }
      const deadline = Date.now() + (callOptions.deadlineMs ?? deadlineMs);
      const signal = callOptions.signal;
      return new Promise<VerifyResult>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new VerifyCallError(status.CANCELLED, "aborted before the call"));
          return;
        }
        const call = client.makeUnaryRequest(
          VERIFY_KEY_PATH,
          serializeVerifyKeyRequest,
          deserializeVerifyKeyResponse,
          request,
          metadata,
          { deadline },
          (error: ServiceError | null, response?: VerifyKeyResponse) => {
            signal?.removeEventListener("abort", onAbort);
            if (error !== null) {
              reject(new VerifyCallError(error.code, error.details, { cause: error }));
            } else if (response === undefined) {
              reject(new VerifyCallError(status.INTERNAL, "empty response"));
            } else {
              resolve(toVerifyResult(response));
            }
          },
        );
        function onAbort(): void {
          call.cancel();
        }
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    close() {
      client.close();
    },
  };
}

/** toVerifyKeyRequest builds the protobuf request of a VerifyInput. */
export function toVerifyKeyRequest(input: VerifyInput): VerifyKeyRequest {
  const credential = input.credential;
  let oneof: VerifyKeyRequest["credential"];
  switch (credential.kind) {
    case "key":
      oneof = { case: "key", value: credential.key };
      break;
    case "authorization":
      oneof = { case: "authorization", value: credential.authorization };
      break;
    case "accessKey":
      oneof = {
        case: "accessKey",
        value: create(AccessKeyCredentialSchema, {
          accessKeyId: credential.accessKeyId,
          secretKey: credential.secretKey,
        }),
      };
      break;
  }
  return create(VerifyKeyRequestSchema, {
    credential: oneof,
    clientIp: input.clientIp ?? "",
    endpoint: input.endpoint ?? "",
    requiredPermissions: [...(input.requiredPermissions ?? [])],
  });
}

/** toVerifyResult turns the protobuf response into the plain VerifyResult. */
export function toVerifyResult(response: VerifyKeyResponse): VerifyResult {
  return {
    valid: response.valid && response.code === VerificationCode.VALID,
    code: verificationCodeName(response.code),
    httpStatus: response.httpStatus,
    keyId: emptyToNull(response.keyId),
    tenantId: emptyToNull(response.tenantId),
    name: emptyToNull(response.name),
    userId: emptyToNull(response.userId),
    groupId: emptyToNull(response.groupId),
    permissions: response.permissions,
    expireTime: response.expireTime === undefined ? null : timestampDate(response.expireTime),
    secretGeneration: response.secretGeneration,
    secretSuperseded: response.secretSuperseded,
    missingPermissions: response.missingPermissions,
    labels: { ...response.labels },
  };
}

const codeNames: ReadonlyMap<VerificationCode, VerificationCodeName> = new Map([
  [VerificationCode.VALID, "VALID"],
  [VerificationCode.NOT_FOUND, "NOT_FOUND"],
  [VerificationCode.EXPIRED, "EXPIRED"],
  [VerificationCode.REVOKED, "REVOKED"],
  [VerificationCode.IP_NOT_ALLOWED, "IP_NOT_ALLOWED"],
  [VerificationCode.INSUFFICIENT_PERMISSIONS, "INSUFFICIENT_PERMISSIONS"],
  [VerificationCode.DISABLED, "DISABLED"],
]);

/** verificationCodeName names a protobuf VerificationCode; unknown values name "UNSPECIFIED". */
export function verificationCodeName(code: VerificationCode): VerificationCodeName {
  return codeNames.get(code) ?? "UNSPECIFIED";
}

function emptyToNull(value: string): string | null {
  return value === "" ? null : value;
}
