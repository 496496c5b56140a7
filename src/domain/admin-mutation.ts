/** The one order every admin mutation follows, with Stripe-style request ids (docs/architecture.md). */
import { createHash } from "node:crypto";
import { type AdminEventTarget, recordAdminEvent } from "./admin-audit.js";
import type { Actor } from "./api-key.js";
import type { AdminAction } from "./audit-event.js";
import { DomainError } from "./errors.js";
import { type EtagKind, requireEtag } from "./etag.js";
import type { AuditSink, IdempotencyStore } from "./ports.js";
import { validateRequestId } from "./validation.js";

/** IDEMPOTENCY_MISMATCH is the reason of the FAILED_PRECONDITION for a reused request id. */
export const IDEMPOTENCY_MISMATCH = "IDEMPOTENCY_KEY_MISMATCH";

/** MAX_WRITE_ATTEMPTS bounds the re-reads after a version guard lost to a concurrent change. */
const MAX_WRITE_ATTEMPTS = 5;

/** GuardedRequest is what a change of one record sends besides its values; etag "" or absent = no check. */
export interface GuardedRequest {
  readonly requestId: string;
  readonly etag?: string;
}

/** BackgroundErrorReporter hears about failures that cannot change the answer any more (for logging). */
export type BackgroundErrorReporter = (error: unknown, context: string) => void;

export interface MutationPorts {
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditSink;
  readonly reportError?: BackgroundErrorReporter;
}

/** MutationOutcome is what a first run answers, stores for replays (an id, never a secret) and records. */
export interface MutationOutcome<T> {
  readonly value: T;
  readonly stored: string;
  /** audit is the event to emit, or null when nothing changed. */
  readonly audit: {
    readonly action: AdminAction;
    readonly target: Omit<AdminEventTarget, "requestId">;
  } | null;
}

export interface Mutation<T> {
  readonly actor: Actor;
  /** operation is the RPC name; with the actor's tenant it scopes the request id. */
  readonly operation: string;
  /** requestId is the client's request_id as sent ("" = none); it is validated here, after every other field. */
  readonly requestId: string;
  /** parameters are the normalised input (fixed property order, JSON values only) the fingerprint is of. */
  readonly parameters: unknown;
  readonly now: Date;
  /** run makes the change; `requestId` is the validated request id (null = none) a write may carry. */
  run(requestId: string | null): Promise<MutationOutcome<T>>;
  /** replay answers a repeated request_id from what the first run stored. */
  replay(stored: string): Promise<T>;
}

/**
 * runMutation runs `mutation` at most once per request id and emits its audit event. A failure to store the
 * outcome after the change is only reported: failing the call would lose a secret the client never gets again.
 */
export async function runMutation<T>(ports: MutationPorts, mutation: Mutation<T>): Promise<T> {
  const { actor, now } = mutation;
  const requestId = validateRequestId(mutation.requestId, "request_id");
  const report = ports.reportError ?? (() => undefined);
  // Refuse before changing anything when the admin audit backlog is full: no change without its event.
  ports.audit.checkAdminBacklog();
  const run = async () => {
    const outcome = await mutation.run(requestId);
    if (outcome.audit !== null) {
      // Durable before the answer: the mutation is acknowledged only once its admin event is stored.
      await recordAdminEvent(ports.audit, actor, outcome.audit.action, now, {
        ...outcome.audit.target,
        requestId,
      });
    }
    return outcome;
  };
  if (requestId === null) {
    return (await run()).value;
  }
  const scope = JSON.stringify([actor.tenantId, mutation.operation]);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([mutation.operation, mutation.parameters]))
    .digest("base64url");
  const claim = await ports.idempotency.claim(scope, requestId, fingerprint, now);
  switch (claim.state) {
    case "completed":
      return mutation.replay(claim.result);
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
  let outcome: MutationOutcome<T>;
  try {
    outcome = await run();
  } catch (error) {
    await ports.idempotency.abandon(scope, requestId).catch((abandonError: unknown) => {
      report(abandonError, "idempotency abandon failed");
    });
    throw error;
  }
  await ports.idempotency.complete(scope, requestId, outcome.stored).catch((completeError: unknown) => {
    report(completeError, "idempotency complete failed");
  });
  return outcome.value;
}

export interface GuardedRecord {
  readonly id: string;
  readonly version: number;
}

export interface GuardedWrite<R extends GuardedRecord> {
  /** what names the record in the ABORTED message and its etag ("key", "group", "tenant"). */
  readonly what: EtagKind;
  /**
   * etag is the client's etag (null or absent = no check): every attempt first refuses a record that is not
   * at that version (ABORTED, ETAG_MISMATCH), so of two changes sent with one etag at most one is written.
   */
  readonly etag?: string | null;
  /** reload reads the freshest copy after a lost race (and refuses one that is gone). */
  reload(): Promise<R>;
  /** change computes the record to write from `current`, or null when there is nothing to write. */
  change(current: R): R | null | Promise<R | null>;
  write(next: R, version: number): Promise<boolean>;
  /** retry false answers ABORTED at the first lost race (for a change that must not be recomputed). */
  readonly retry?: boolean;
}

/** writeGuarded applies the change to `first`, re-reading after each lost race, then gives up (ABORTED). */
export async function writeGuarded<R extends GuardedRecord>(
  first: R,
  guarded: GuardedWrite<R>,
): Promise<{ readonly before: R; readonly after: R; readonly written: boolean }> {
  let current = first;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
    requireEtag(guarded.what, current, guarded.etag ?? null);
    const next = await guarded.change(current);
    if (next === null) {
      return { before: current, after: current, written: false };
    }
    if (await guarded.write(next, current.version)) {
      return { before: current, after: next, written: true };
    }
    if (guarded.retry === false) {
      break;
    }
    current = await guarded.reload();
  }
  throw new DomainError("aborted", `the ${guarded.what} was changed concurrently; try again`);
}
