/**
 * A test double of KeyVerifyService: a REAL grpc-js server on 127.0.0.1:0 whose VerifyKey handler answers
 * scripted verdicts from a small in-memory key table, records every request, and can delay or fail on
 * purpose. Only verify-client.test.ts uses it, for what the real service cannot show (the request on the
 * wire) or be made to do on demand (slow answers, scripted failures); the adapters are tested against the
 * real service (verify-fixture.ts).
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { CALLER_TOKEN_METADATA } from "../../../packages/client/src/verify-client.js";
import { keyVerifyServiceDefinition } from "../../../packages/client/src/verify-service-definition.js";
import {
  VerificationCode,
  type VerifyKeyRequest,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../../../src/gen/apikeys/v1/key_verify_service_pb.js";

/** DoubleKey is one key of the double's table. */
export interface DoubleKey {
  keyId: string;
  secretKey: string;
  tenantId: string;
  name: string;
  userId: string;
  groupId: string;
  permissions: string[];
  state: "active" | "revoked" | "expired";
  ipAllowlist: string[];
  expireTime?: Date;
  /** delayMs delays the answer (for deadline tests). */
  delayMs?: number;
  /** failWith answers this gRPC status instead of a verdict. */
  failWith?: number;
}

/** RecordedCall is what the double received. */
export interface RecordedCall {
  request: VerifyKeyRequest;
  callerToken: string | null;
}

/** VerifyDouble is a running double. */
export interface VerifyDouble {
  address: string;
  port: number;
  calls: RecordedCall[];
  /** stop shuts the server down (connections refused afterwards). */
  stop(): Promise<void>;
  /** start listens again on the same port. */
  start(): Promise<void>;
}

/** wholeKey joins a two-part credential the way the contract defines it. */
export function wholeKey(key: Pick<DoubleKey, "keyId" | "secretKey">): string {
  return `${key.keyId}_${key.secretKey}`;
}

function resolveCredential(request: VerifyKeyRequest): string | null {
  const credential = request.credential;
  switch (credential.case) {
    case "key":
      return credential.value;
    case "authorization": {
      const match = /^(bearer|apikey) (.+)$/i.exec(credential.value);
      return match?.[2] ?? null;
    }
    case "accessKey":
      return `${credential.value.accessKeyId}_${credential.value.secretKey}`;
    default:
      return null;
  }
}

function verdict(keys: DoubleKey[], request: VerifyKeyRequest): VerifyKeyResponse | { fail: number } {
  const presented = resolveCredential(request);
  const key = keys.find((candidate) => wholeKey(candidate) === presented);
  if (key === undefined) {
    return create(VerifyKeyResponseSchema, {
      valid: false,
      code: VerificationCode.NOT_FOUND,
      httpStatus: 401,
    });
  }
  if (key.failWith !== undefined) {
    return { fail: key.failWith };
  }
  const identity = {
    keyId: key.keyId,
    tenantId: key.tenantId,
    name: key.name,
    userId: key.userId,
    groupId: key.groupId,
    permissions: key.permissions,
    secretGeneration: 1,
    ...(key.expireTime === undefined ? {} : { expireTime: timestampFromDate(key.expireTime) }),
  };
  const refuse = (code: VerificationCode, httpStatus: number, missing: string[] = []) =>
    create(VerifyKeyResponseSchema, {
      ...identity,
      valid: false,
      code,
      httpStatus,
      missingPermissions: missing,
    });
  if (key.state === "revoked") {
    return refuse(VerificationCode.REVOKED, 401);
  }
  if (key.state === "expired") {
    return refuse(VerificationCode.EXPIRED, 401);
  }
  if (key.ipAllowlist.length > 0) {
    const ip = request.clientIp.replace(/^::ffff:/, "");
    if (!key.ipAllowlist.includes(ip)) {
      return refuse(VerificationCode.IP_NOT_ALLOWED, 403);
    }
  }
  const missing = request.requiredPermissions.filter((permission) => !key.permissions.includes(permission));
  if (missing.length > 0) {
    return refuse(VerificationCode.INSUFFICIENT_PERMISSIONS, 403, missing);
  }
  return create(VerifyKeyResponseSchema, {
    ...identity,
    valid: true,
    code: VerificationCode.VALID,
    httpStatus: 200,
  });
}

/**
 * startVerifyDouble starts the double on 127.0.0.1:0 (or the given port). With requiredCallerToken set it
 * answers UNAUTHENTICATED to calls without that "x-apikeys-caller-token".
 */
export async function startVerifyDouble(
  keys: DoubleKey[],
  options: { requiredCallerToken?: string; port?: number } = {},
): Promise<VerifyDouble> {
  const calls: RecordedCall[] = [];
  let server: Server | null = null;

  const handler = (
    call: ServerUnaryCall<VerifyKeyRequest, VerifyKeyResponse>,
    callback: sendUnaryData<VerifyKeyResponse>,
  ): void => {
    const callerToken = firstString(call.metadata, CALLER_TOKEN_METADATA);
    calls.push({ request: call.request, callerToken });
    if (options.requiredCallerToken !== undefined && callerToken !== options.requiredCallerToken) {
      callback({ code: status.UNAUTHENTICATED, details: "caller token required" });
      return;
    }
    const answer = verdict(keys, call.request);
    const key = keys.find((candidate) => wholeKey(candidate) === resolveCredential(call.request));
    const reply = (): void => {
      if ("fail" in answer) {
        callback({ code: answer.fail, details: "scripted failure" });
      } else {
        callback(null, answer);
      }
    };
    if (key?.delayMs !== undefined) {
      setTimeout(reply, key.delayMs);
    } else {
      reply();
    }
  };

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const next = new Server();
      next.addService(keyVerifyServiceDefinition, { VerifyKey: handler });
      next.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
        if (error !== null) {
          reject(error);
          return;
        }
        server = next;
        resolve(bound);
      });
    });

  const port = await listen(options.port ?? 0);
  return {
    address: `127.0.0.1:${port}`,
    port,
    calls,
    async stop() {
      const running = server;
      server = null;
      running?.forceShutdown();
    },
    async start() {
      await listen(port);
    },
  };
}

function firstString(metadata: Metadata, key: string): string | null {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : null;
}
