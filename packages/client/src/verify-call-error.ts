import { status } from "@grpc/grpc-js";

/**
 * VerifyFailureKind tells how a failed VerifyKey call should be treated: "unavailable" means the answer could
 * not be known (service unreachable, overloaded or too slow: UNAVAILABLE, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED), "rejected" means the service refused the call itself (for example
 * UNAUTHENTICATED for a wrong caller token, INVALID_ARGUMENT, INTERNAL), which retrying will not fix.
 */
export type VerifyFailureKind = "unavailable" | "rejected";

const unavailableCodes: ReadonlySet<number> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
]);

/**
 * VerifyCallError is thrown by VerifyClient.verify when the RPC itself fails (as opposed to a key being
 * refused, which is a normal result). It carries the gRPC status code and never any credential.
 */
export class VerifyCallError extends Error {
  /** grpcCode is the numeric gRPC status code of the failed call. */
  readonly grpcCode: number;
  /** kind classifies the failure for fail-closed/fail-open decisions. */
  readonly kind: VerifyFailureKind;

  constructor(grpcCode: number, details: string, options?: { cause?: unknown }) {
    const codeName = status[grpcCode] ?? `CODE_${grpcCode}`;
    super(`VerifyKey failed: ${codeName}${details === "" ? "" : `: ${details}`}`, options);
    this.name = "VerifyCallError";
    this.grpcCode = grpcCode;
    this.kind = unavailableCodes.has(grpcCode) ? "unavailable" : "rejected";
  }

  /** codeName is the gRPC status name, for example "UNAVAILABLE". */
  get codeName(): string {
    return status[this.grpcCode] ?? `CODE_${this.grpcCode}`;
  }
}
