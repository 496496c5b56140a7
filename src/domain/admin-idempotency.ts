/**
 * Client request ids for admin mutations (Stripe-style idempotency keys). A mutation that carries a
 * request_id claims it in the IdempotencyStore under a scope (tenant + operation) with a fingerprint of its
 * normalised parameters:
 * - first call: runs, then stores its outcome (an id) for 24 hours;
 * - a retry with the same parameters after it finished: replays the outcome and changes nothing again;
 * - a retry while the first is still running: ABORTED (the client retries a little later);
 * - the same id with other parameters: FAILED_PRECONDITION.
 * A run that fails gives the id back (abandon), so the client can retry it.
 */
import { createHash } from "node:crypto";
import type { Actor } from "./api-key.js";
import { DomainError } from "./errors.js";
import type { IdempotencyStore } from "./ports.js";

/** IDEMPOTENCY_MISMATCH is the reason of the FAILED_PRECONDITION for a reused request id. */
export const IDEMPOTENCY_MISMATCH = "IDEMPOTENCY_KEY_MISMATCH";

/** IdempotentRequest identifies one claimed request id. */
export interface IdempotentRequest {
  /** scope separates request ids per tenant and operation; see idempotencyScope. */
  readonly scope: string;
  readonly requestId: string;
  /** fingerprint identifies the normalised parameters; see requestFingerprint. */
  readonly fingerprint: string;
  readonly now: Date;
}

/** IdempotentOutcome is what a first run returns: its value and the text to store for replays. */
export interface IdempotentOutcome<T> {
  readonly value: T;
  /** stored is what replay() gets back (for example the key id); never a secret. */
  readonly stored: string;
}

/** BackgroundErrorReporter hears about failures that cannot change the answer any more (for logging). */
export type BackgroundErrorReporter = (error: unknown, context: string) => void;

/** idempotencyScope builds the scope of a request id: the tenant and the operation, unambiguously joined. */
export function idempotencyScope(tenantId: string, operation: string): string {
  return JSON.stringify([tenantId, operation]);
}

/**
 * requestFingerprint hashes normalised parameters (SHA-256, base64url). `parameters` must be built with a
 * fixed property order and hold only JSON values and Dates, so equal requests give equal text.
 */
export function requestFingerprint(operation: string, parameters: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify([operation, parameters]))
    .digest("base64url");
}

/**
 * idempotentRequest describes a mutation for runIdempotent: scoped to the caller's tenant and the operation,
 * fingerprinted by its parameters; null when the client sent no request id.
 */
export function idempotentRequest(
  actor: Actor,
  operation: string,
  requestId: string | null,
  parameters: unknown,
  now: Date,
): IdempotentRequest | null {
  return requestId === null
    ? null
    : {
        scope: idempotencyScope(actor.tenantId, operation),
        requestId,
        fingerprint: requestFingerprint(operation, parameters),
        now,
      };
}

/**
 * runIdempotent runs `work` at most once per request id. With `request` null it just runs it. A replay calls
 * `replay` with what the first run stored. If storing the outcome fails after `work` succeeded, the answer is
 * still the success (the change happened; failing now would lose a secret the client can never get again):
 * the failure goes to `report`, and the id stays claimed until its lease runs out.
 */
export async function runIdempotent<T>(
  store: IdempotencyStore,
  request: IdempotentRequest | null,
  work: () => Promise<IdempotentOutcome<T>>,
  replay: (stored: string) => Promise<T>,
  report: BackgroundErrorReporter,
): Promise<T> {
  if (request === null) {
    return (await work()).value;
  }
  const { scope, requestId, fingerprint, now } = request;
  const claim = await store.claim(scope, requestId, fingerprint, now);
  switch (claim.state) {
    case "completed":
      return replay(claim.result);
    case "in_progress":
      throw new DomainError("aborted", "a request with this request_id is still in progress; retry it later");
    case "mismatch":
      throw new DomainError(
        "failed_precondition",
        "request_id was already used with different parameters; use a new request_id for a new request",
        { reason: IDEMPOTENCY_MISMATCH },
      );
    case "claimed":
      break;
  }
  let outcome: IdempotentOutcome<T>;
  try {
    outcome = await work();
  } catch (error) {
    await store.abandon(scope, requestId).catch((abandonError: unknown) => {
      report(abandonError, "idempotency abandon failed");
    });
    throw error;
  }
  await store.complete(scope, requestId, outcome.stored).catch((completeError: unknown) => {
    report(completeError, "idempotency complete failed");
  });
  return outcome.value;
}
