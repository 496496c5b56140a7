/**
 * Domain errors. Every error a use case raises on purpose is one DomainError: its `kind` is the meaning the
 * transports map to one status code, in one table (src/rpc/error-codes.ts), and its `reason` the
 * machine-readable word a client may branch on. Messages are written for the caller and must never contain
 * key material.
 */

/** DomainErrorKind lists the meanings a DomainError can have. */
export type DomainErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "aborted"
  | "resource_exhausted"
  | "out_of_range"
  | "unauthenticated"
  | "permission_denied"
  | "unavailable";

/** DomainErrorOptions are the optional parts of a DomainError. */
export interface DomainErrorOptions {
  /** reason is specific to the case (KEY_REVOKED, TENANT_KEY_LIMIT_EXCEEDED…); default: the kind in capitals. */
  readonly reason?: string;
  /** field names the malformed request field (proto field path) of an invalid_argument error. */
  readonly field?: string;
  readonly cause?: unknown;
}

/** DomainError is an error a use case raises on purpose. */
export class DomainError extends Error {
  readonly reason: string;
  readonly field: string | undefined;
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "DomainError";
    this.reason = options.reason ?? kind.toUpperCase();
    this.field = options.field;
  }
}

/** invalidArgument is the error for a malformed request field; the message starts with the field's name. */
export function invalidArgument(field: string, message: string): DomainError {
  return new DomainError("invalid_argument", `${field}: ${message}`, { field });
}

/** KEY_STORE_UNAVAILABLE is the message of an unavailable error when the database cannot answer. */
export const KEY_STORE_UNAVAILABLE = "the key store is unavailable, try again";
