/** Domain errors: a kind mapped to one status code (src/rpc/error-codes.ts) and an optional reason. */

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

export interface DomainErrorOptions {
  /** reason is specific to the case (KEY_REVOKED, TENANT_KEY_LIMIT_EXCEEDED…); default: the kind in capitals. */
  readonly reason?: string;
  /** field names the malformed request field (proto field path) of an invalid_argument error. */
  readonly field?: string;
  /** violations are every bad field of an invalid_argument error; default: `field` with the message. */
  readonly violations?: readonly FieldViolation[];
  readonly cause?: unknown;
}

/** FieldViolation is one bad request field: its proto field path ("key.ip_allowlist[2]") and what is wrong. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** DomainError is an error a use case raises on purpose. */
export class DomainError extends Error {
  readonly reason: string;
  readonly field: string | undefined;
  /** violations list the bad fields of an invalid_argument error (empty when none was named). */
  readonly violations: readonly FieldViolation[];
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "DomainError";
    this.reason = options.reason ?? kind.toUpperCase();
    this.field = options.field;
    this.violations =
      options.violations ??
      (options.field === undefined ? [] : [{ field: options.field, description: message }]);
  }
}

/** invalidArgument is the error for a malformed request field; the message starts with the field's name. */
export function invalidArgument(field: string, message: string): DomainError {
  return new DomainError("invalid_argument", `${field}: ${message}`, {
    field,
    violations: [{ field, description: message }],
  });
}

/** validateFields runs one validator per field; several bad fields are refused together, to fix at once. */
export function validateFields<T extends Record<string, unknown>>(
  validators: {
    readonly [K in keyof T]: () => T[K];
  },
): T {
  const values: Partial<T> = {};
  const errors: DomainError[] = [];
  for (const name of Object.keys(validators) as (keyof T)[]) {
    try {
      values[name] = validators[name]();
    } catch (error) {
      if (
        !(error instanceof DomainError) ||
        error.kind !== "invalid_argument" ||
        error.violations.length === 0
      ) {
        throw error;
      }
      errors.push(error);
    }
  }
  const [first] = errors;
  if (first === undefined) {
    return values as T;
  }
  if (errors.length === 1) {
    throw first;
  }
  throw new DomainError("invalid_argument", errors.map((error) => error.message).join("; "), {
    ...(first.field === undefined ? {} : { field: first.field }),
    violations: errors.flatMap((error) => error.violations),
  });
}

/** KEY_STORE_UNAVAILABLE is the message of an unavailable error when the database cannot answer. */
export const KEY_STORE_UNAVAILABLE = "the key store is unavailable, try again";
