/**
 * apikeys client library: verify the API keys your service receives against the apikeys service.
 *
 * - createVerifyClient: a VerifyKey client on @grpc/grpc-js, with a deadline on every call.
 * - createExpressMiddleware, createFastifyHook / fastifyApiKeyPlugin, createConnectInterceptor: ready-made
 *   protection that extracts the credential, the end user's IP (explicit trusted-proxy setting) and the
 *   endpoint, calls VerifyKey, answers 401/403/503, and hands the verified key to the handler.
 * - createRequestVerifier, extractCredential, resolveClientIp, formatEndpoint: the framework-neutral core,
 *   for other frameworks.
 * - createAdminClient: typed KeyAdminService and AuditService clients (the generated messages are under
 *   "@apikeys/client/gen/apikeys/v1/*.js").
 *
 * Express and Fastify are only imported as types: a service needs neither unless it uses that adapter.
 */
export type { AdminClient, AdminClientOptions, AdminProtocol } from "./admin-client.js";
export { createAdminClient, REQUEST_ID_METADATA, requestIdOf } from "./admin-client.js";
export type { SocketRequest, TrustProxy, TrustProxySetting } from "./client-ip.js";
export { compileTrustProxy, normalizeIp, resolveClientIp } from "./client-ip.js";
export type {
  ConnectContextValuesOptions,
  ConnectInterceptorOptions,
  ConnectRouteOptions,
} from "./connect-interceptor.js";
export {
  createConnectContextValues,
  createConnectInterceptor,
  kApiKey,
  kClientIp,
} from "./connect-interceptor.js";
export type { CredentialSource, ExtractedCredential, HeaderSource } from "./credential-extraction.js";
export { extractCredential } from "./credential-extraction.js";
export { formatEndpoint, MAX_ENDPOINT_BYTES } from "./endpoint.js";
export type { ExpressApiKeyMiddleware } from "./express-middleware.js";
export { createExpressMiddleware } from "./express-middleware.js";
export type { FastifyApiKeyHook, FastifyApiKeyHookFactory } from "./fastify-hook.js";
export { createFastifyHook, fastifyApiKeyPlugin } from "./fastify-hook.js";
export { AuditService } from "./gen/apikeys/v1/audit_service_pb.js";
export { KeyAdminService } from "./gen/apikeys/v1/key_admin_service_pb.js";
export { KeyVerifyService } from "./gen/apikeys/v1/key_verify_service_pb.js";
export type {
  Admission,
  ApiKeyAuthOptions,
  Denial,
  DenialBody,
  DenialCode,
  RequestVerifier,
  RouteOptions,
  UnavailablePolicy,
  Verdict,
  VerificationRequest,
  VerifiedApiKey,
} from "./request-verifier.js";
export { createRequestVerifier } from "./request-verifier.js";
export type { VerifyFailureKind } from "./verify-call-error.js";
export { VerifyCallError } from "./verify-call-error.js";
export type {
  VerificationCodeName,
  VerifyCallOptions,
  VerifyClient,
  VerifyClientOptions,
  VerifyCredential,
  VerifyInput,
  VerifyResult,
} from "./verify-client.js";
export {
  CALLER_TOKEN_METADATA,
  createVerifyClient,
  DEFAULT_VERIFY_DEADLINE_MS,
} from "./verify-client.js";
export { keyVerifyServiceDefinition, VERIFY_KEY_PATH } from "./verify-service-definition.js";
