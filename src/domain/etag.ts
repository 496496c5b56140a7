/** Etags (AIP-154): an opaque hash naming one stored version of a key, group or tenant. */
import { createHash } from "node:crypto";
import { DomainError, invalidArgument } from "./errors.js";

/** ETAG_MISMATCH is the reason of the ABORTED for a stale etag. */
export const ETAG_MISMATCH = "ETAG_MISMATCH";

/** MAX_ETAG_LENGTH bounds an etag in a request (ours are 22 characters). */
const MAX_ETAG_LENGTH = 64;

export type EtagKind = "key" | "group" | "tenant";

export function etagOf(kind: EtagKind, id: string, version: number): string {
  return createHash("sha256").update(`${kind}\u0000${id}\u0000${version}`).digest("base64url").slice(0, 22);
}

/** validateEtag checks a request's etag: "" means no check (null); otherwise printable ASCII, at most 64. */
export function validateEtag(value: string, field: string): string | null {
  if (typeof value !== "string" || value === "") {
    return null;
  }
  if (value.length > MAX_ETAG_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw invalidArgument(field, "is not an etag of this service (send back the etag a read returned)");
  }
  return value;
}

/** requireEtag refuses a change of `record` when the client's etag (null = no check) is not its current one. */
export function requireEtag(
  kind: EtagKind,
  record: { readonly id: string; readonly version: number },
  etag: string | null,
): void {
  if (etag !== null && etag !== etagOf(kind, record.id, record.version)) {
    throw new DomainError(
      "aborted",
      `the ${kind} ${record.id} was changed since it was read (etag mismatch); read it again and retry`,
      { reason: ETAG_MISMATCH },
    );
  }
}
