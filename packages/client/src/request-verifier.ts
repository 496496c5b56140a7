import {
  compileTrustProxy,
  resolveClientIp,
  type SocketRequest,
  type TrustProxySetting,
} from "./client-ip.js";
import { extractCredential, type HeaderSource } from "./credential-extraction.js";
import { VerifyCallError } from "./verify-call-error.js";
import type { VerifyClient, VerifyResult } from "./verify-client.js";

/**
 * VerifiedApiKey is what a protected handler learns about the caller once its key verified: the key, its
 * tenant, the user it acts for, its group and its effective permissions. It never holds the secret.
 */
export interface VerifiedApiKey {
  /** keyId is the public key id, for example "ak_live_7gQ2kX9pLm3RtY8w". */
  readonly keyId: string;
  /** tenantId is the tenant that owns the key. */
  readonly tenantId: string;
  /** name is the key's human name. */
  readonly name: string;
  /** userId is the user the key acts for; null when none. */
  readonly userId: string | null;
  /** groupId is the key's authorization group; null when none. */
  readonly groupId: string | null;
  /** permissions are the key's effective permissions (its own plus its group's current ones). */
  readonly permissions: readonly string[];
  /** expireTime is when the key expires; null when never. */
  readonly expireTime: Date | null;
  /** secretSuperseded is true when the caller used a rotated-out secret still inside its overlap window. */
  readonly secretSuperseded: boolean;
  /** labels are the key's labels, as an admin set them (plan tier, customer id...). */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * UnavailablePolicy decides what happens when VerifyKey cannot answer (service unreachable, overloaded,
 * deadline exceeded): "deny" (default) answers 503 — fail closed; "allow" lets the request through with
 * `apiKey` set to null, for endpoints where availability matters more than authentication.
 */
export type UnavailablePolicy = "deny" | "allow";

/** ApiKeyAuthOptions configure every adapter (Express, Fastify, Connect) and the framework-neutral core. */
export interface ApiKeyAuthOptions {
  /** client calls VerifyKey (see createVerifyClient). */
  readonly client: VerifyClient;
  /**
   * trustProxy says which peers may set X-Forwarded-For (see TrustProxySetting). Default false: the end
   * user's IP is the socket peer and X-Forwarded-For is ignored.
   */
  readonly trustProxy?: TrustProxySetting;
  /** onUnavailable is the fail-closed/fail-open policy; default "deny" (503). */
  readonly onUnavailable?: UnavailablePolicy;
  /** realm is the realm of the WWW-Authenticate challenge of 401 answers; default "api". */
  readonly realm?: string;
  /**
   * onVerifyError is told about every failed VerifyKey RPC (and unexpected error) so the service can log
   * or count it; the error never contains the credential.
   */
  readonly onVerifyError?: (error: Error) => void;
}

/** RouteOptions are the per-route settings of an adapter. */
export interface RouteOptions {
  /** permissions must all be granted to the key (or its group); otherwise 403 INSUFFICIENT_PERMISSIONS. */
  readonly permissions?: readonly string[];
  /** onUnavailable overrides the adapter's policy for this route. */
  readonly onUnavailable?: UnavailablePolicy;
}

/** VerificationRequest is the framework-neutral view of an incoming request. */
export interface VerificationRequest {
  /** headers of the request (credential headers are read from them). */
  readonly headers: HeaderSource;
  /** clientIp is the end user's IP address, "" when unknown (see resolveClientIp). */
  readonly clientIp: string;
  /** endpoint is "METHOD /path" (see formatEndpoint). */
  readonly endpoint: string;
  /** signal cancels the verification when the request goes away. */
  readonly signal?: AbortSignal;
}

/**
 * DenialCode is the machine-readable reason of a denial: a VerifyKey code, MISSING_CREDENTIAL (no
 * credential in the request), VERIFY_UNAVAILABLE (the service could not answer) or VERIFY_FAILED (the
 * service refused the call, e.g. a wrong caller token).
 */
export type DenialCode =
  | "MISSING_CREDENTIAL"
  | "NOT_FOUND"
  | "EXPIRED"
  | "REVOKED"
  | "IP_NOT_ALLOWED"
  | "INSUFFICIENT_PERMISSIONS"
  | "DISABLED"
  | "UNSPECIFIED"
  | "VERIFY_UNAVAILABLE"
  | "VERIFY_FAILED";

/** DenialBody is the small JSON body of a denial answer. */
export interface DenialBody {
  /** error is the HTTP-level meaning. */
  readonly error: "unauthorized" | "forbidden" | "service_unavailable" | "internal_error";
  /** code is the precise reason. */
  readonly code: DenialCode;
  /** missing_permissions lists what the key lacks, for INSUFFICIENT_PERMISSIONS. */
  readonly missing_permissions?: readonly string[];
}

/** Denial is a refused request: the status, headers and body to answer with. */
export interface Denial {
  readonly outcome: "deny";
  /** status is 401, 403, 500 or 503. */
  readonly status: 401 | 403 | 500 | 503;
  /** headers to set on the answer (WWW-Authenticate for 401, Retry-After for 503). */
  readonly headers: Readonly<Record<string, string>>;
  /** body is the JSON body. */
  readonly body: DenialBody;
}

/** Admission is an accepted request. */
export interface Admission {
  readonly outcome: "allow";
  /** apiKey is the verified key; null only when admitted by onUnavailable "allow" without a verdict. */
  readonly apiKey: VerifiedApiKey | null;
}

/** Verdict is the result of verifying one incoming request. */
export type Verdict = Admission | Denial;

/** RequestVerifier is the framework-neutral core every adapter uses. */
export interface RequestVerifier {
  /** verify decides one request; it never throws (errors become 500/503 denials, or admissions per policy). */
  verify(request: VerificationRequest, route?: RouteOptions): Promise<Verdict>;
  /** clientIpOf resolves the end user's IP of a Node request with the configured trustProxy. */
  clientIpOf(request: SocketRequest): string;
}

/**
 * createRequestVerifier builds the framework-neutral core: extract the credential, call VerifyKey with the
 * client IP, endpoint and required permissions, and turn the answer into an HTTP verdict — 401 for
 * NOT_FOUND/EXPIRED/REVOKED/DISABLED or no credential (with a WWW-Authenticate challenge), 403 for IP_NOT_ALLOWED and
 * INSUFFICIENT_PERMISSIONS, 503 when the service cannot answer (unless onUnavailable is "allow"), 500 when
 * it refuses the call.
 */
export function createRequestVerifier(options: ApiKeyAuthOptions): RequestVerifier {
  const trust = compileTrustProxy(options.trustProxy);
  const policy = checkPolicy(options.onUnavailable ?? "deny");
  const realm = options.realm ?? "api";
  if (!/^[\x20-\x7e]*$/.test(realm) || realm.includes('"') || realm.includes("\\")) {
    throw new TypeError("realm must be printable ASCII without quotes or backslashes");
  }
  const challenge = `Bearer realm="${realm}"`;
  const report = options.onVerifyError ?? (() => undefined);

  return {
    clientIpOf(request) {
      return resolveClientIp(request, trust);
    },
    async verify(request, route = {}) {
      const found = extractCredential(request.headers);
      if (found === null) {
        return deny(
          401,
          { error: "unauthorized", code: "MISSING_CREDENTIAL" },
          { "www-authenticate": challenge },
        );
      }
      let result: VerifyResult;
      try {
        result = await options.client.verify(
          {
            credential: found.credential,
            clientIp: request.clientIp,
            endpoint: request.endpoint,
            requiredPermissions: route.permissions ?? [],
          },
          request.signal === undefined ? {} : { signal: request.signal },
        );
      } catch (error) {
        const failure = error instanceof Error ? error : new Error("VerifyKey failed");
        report(failure);
        if (failure instanceof VerifyCallError && failure.kind === "unavailable") {
          if ((route.onUnavailable ?? policy) === "allow") {
            return { outcome: "allow", apiKey: null };
          }
          return deny(
            503,
            { error: "service_unavailable", code: "VERIFY_UNAVAILABLE" },
            { "retry-after": "1" },
          );
        }
        return deny(500, { error: "internal_error", code: "VERIFY_FAILED" }, {});
      }
      if (result.valid && result.keyId !== null && result.tenantId !== null) {
        return { outcome: "allow", apiKey: toVerifiedApiKey(result) };
      }
      if (result.code === "INSUFFICIENT_PERMISSIONS") {
        const body: DenialBody = {
          error: "forbidden",
          code: result.code,
          missing_permissions: result.missingPermissions,
        };
        return deny(403, body, {});
      }
      if (result.code === "IP_NOT_ALLOWED") {
        return deny(403, { error: "forbidden", code: result.code }, {});
      }
      // A "valid" answer without a key identity, or VALID without valid, is inconsistent: refuse it.
      const code: DenialCode = result.code === "VALID" ? "UNSPECIFIED" : result.code;
      return deny(
        401,
        { error: "unauthorized", code },
        { "www-authenticate": `${challenge}, error="invalid_token"` },
      );
    },
  };
}

/** checkRouteOptions validates per-route options once, when the route is declared, and returns them. */
export function checkRouteOptions(route: RouteOptions | undefined): RouteOptions {
  const options = route ?? {};
  for (const permission of options.permissions ?? []) {
    if (typeof permission !== "string" || permission.trim() === "") {
      throw new TypeError("route permissions must be non-empty strings");
    }
  }
  if (options.onUnavailable !== undefined) {
    checkPolicy(options.onUnavailable);
  }
  return options;
}

function checkPolicy(policy: UnavailablePolicy): UnavailablePolicy {
  if (policy !== "deny" && policy !== "allow") {
    throw new TypeError('onUnavailable must be "deny" or "allow"');
  }
  return policy;
}

function deny(status: Denial["status"], body: DenialBody, headers: Record<string, string>): Denial {
  return { outcome: "deny", status, headers, body };
}

/** toVerifiedApiKey keeps the non-secret identity of a valid VerifyResult. */
export function toVerifiedApiKey(result: VerifyResult): VerifiedApiKey {
  return {
    keyId: result.keyId ?? "",
    tenantId: result.tenantId ?? "",
    name: result.name ?? "",
    userId: result.userId,
    groupId: result.groupId,
    permissions: result.permissions,
    expireTime: result.expireTime,
    secretSuperseded: result.secretSuperseded,
    labels: result.labels,
  };
}
