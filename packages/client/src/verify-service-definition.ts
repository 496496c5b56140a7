import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ServiceDefinition } from "@grpc/grpc-js";
import {
  type VerifyKeyRequest,
  VerifyKeyRequestSchema,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "./gen/apikeys/v1/key_verify_service_pb.js";

/** VERIFY_KEY_PATH is the gRPC method path of KeyVerifyService.VerifyKey. */
export const VERIFY_KEY_PATH = "/apikeys.v1.KeyVerifyService/VerifyKey";

/** serializeVerifyKeyRequest encodes a VerifyKeyRequest in the protobuf binary format for grpc-js. */
export function serializeVerifyKeyRequest(message: VerifyKeyRequest): Buffer {
  return Buffer.from(toBinary(VerifyKeyRequestSchema, message));
}

/** deserializeVerifyKeyRequest decodes a protobuf binary VerifyKeyRequest received by grpc-js. */
export function deserializeVerifyKeyRequest(bytes: Buffer): VerifyKeyRequest {
  return fromBinary(VerifyKeyRequestSchema, bytes);
}

/** serializeVerifyKeyResponse encodes a VerifyKeyResponse in the protobuf binary format for grpc-js. */
export function serializeVerifyKeyResponse(message: VerifyKeyResponse): Buffer {
  return Buffer.from(toBinary(VerifyKeyResponseSchema, message));
}

/** deserializeVerifyKeyResponse decodes a protobuf binary VerifyKeyResponse received by grpc-js. */
export function deserializeVerifyKeyResponse(bytes: Buffer): VerifyKeyResponse {
  return fromBinary(VerifyKeyResponseSchema, bytes);
}

/**
 * keyVerifyServiceDefinition is the grpc-js service definition of KeyVerifyService built on the generated
 * protobuf-es messages, so a stock grpc-js client or server speaks the contract without proto-loader.
 */
export const keyVerifyServiceDefinition = {
  VerifyKey: {
    path: VERIFY_KEY_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializeVerifyKeyRequest,
    requestDeserialize: deserializeVerifyKeyRequest,
    responseSerialize: serializeVerifyKeyResponse,
    responseDeserialize: deserializeVerifyKeyResponse,
    originalName: "verifyKey",
  },
} satisfies ServiceDefinition;
