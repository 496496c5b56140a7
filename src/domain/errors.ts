/**
 * Domain errors. Each class is one meaning that the transports map to one status code, in one table
 * (src/rpc/error-codes.ts). Messages are written for the caller and must never contain key material.
 */

/** DomainError is the base of every error a use case raises on purpose. */
export abstract class DomainError extends Error {
  /** kind names the meaning, for the error-code table. */
  abstract readonly kind: DomainErrorKind;
}

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

/** InvalidArgumentError means a request field is malformed; `field` names it (proto field path). */
export class InvalidArgumentError extends DomainError {
  readonly kind = "invalid_argument";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "InvalidArgumentError";
  }
}

/** NotFoundError means the resource does not exist, or is not visible to the caller. */
export class NotFoundError extends DomainError {
  readonly kind = "not_found";
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/** AlreadyExistsError means a resource with the same unique name exists. */
export class AlreadyExistsError extends DomainError {
  readonly kind = "already_exists";
  constructor(message: string) {
    super(message);
    this.name = "AlreadyExistsError";
  }
}

/** FailedPreconditionError means the resource's state forbids the operation (for example a revoked key). */
export class FailedPreconditionError extends DomainError {
  readonly kind = "failed_precondition";
  constructor(
    message: string,
    readonly reason = "FAILED_PRECONDITION",
  ) {
    super(message);
    this.name = "FailedPreconditionError";
  }
}

/** AbortedError means a concurrent operation won a race; the caller may retry. */
export class AbortedError extends DomainError {
  readonly kind = "aborted";
  constructor(message: string) {
    super(message);
    this.name = "AbortedError";
  }
}

/** ResourceExhaustedError means a quota or buffer limit was reached. */
export class ResourceExhaustedError extends DomainError {
  readonly kind = "resource_exhausted";
  constructor(
    message: string,
    readonly reason = "RESOURCE_EXHAUSTED",
  ) {
    super(message);
    this.name = "ResourceExhaustedError";
  }
}

/** OutOfRangeError means a position (such as an audit cursor) is outside what is kept. */
export class OutOfRangeError extends DomainError {
  readonly kind = "out_of_range";
  constructor(message: string) {
    super(message);
    this.name = "OutOfRangeError";
  }
}

/** UnauthenticatedError means the caller presented no credential, or a bad one. */
export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
  constructor(message = "a valid API key with admin permissions is required") {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** PermissionDeniedError means the caller is authenticated but not allowed to do this. */
export class PermissionDeniedError extends DomainError {
  readonly kind = "permission_denied";
  constructor(message: string) {
    super(message);
    this.name = "PermissionDeniedError";
  }
}

/** UnavailableError means a dependency (the database) cannot answer now; the caller may retry. */
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
  constructor(message = "the key store is unavailable, try again", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnavailableError";
  }
}
