/**
 * UsageEvent: the usage event of one VerifyKey call as a single object. A call builds one on every verdict,
 * and under load most are dropped unread (the audit buffer is full) or read once, when their batch is
 * written. So the event keeps its fields flat and builds what only a reader needs when it is first read:
 * the id (minted then, stable afterwards) and the `detail` object. That is one allocation per call
 * instead of four (event, detail, id and its counter text).
 *
 * Everything it holds is already validated by the verifier (bounded, no control characters); no credential
 * is part of it.
 */
import type { NewAuditEvent, UsageDetail, VerificationCode } from "../domain/audit-event.js";
import type { EventIdSource } from "./event-ids.js";

/** UsageEventOrigin is what every event of one recorder shares: the replica name and the id source. */
export interface UsageEventOrigin {
  readonly replica: string;
  readonly ids: EventIdSource;
}

/** UsageEvent is a NewAuditEvent of kind "usage" (see the module comment). */
export class UsageEvent implements NewAuditEvent {
  readonly time: Date;
  readonly tenantId: string;
  private readonly origin: UsageEventOrigin;
  private readonly keyId: string;
  private readonly endpoint: string;
  private readonly clientIp: string;
  private readonly code: VerificationCode;
  private readonly httpStatus: number;
  private mintedId: string | undefined = undefined;
  private builtDetail: UsageDetail | undefined = undefined;

  constructor(
    origin: UsageEventOrigin,
    time: Date,
    tenantId: string,
    keyId: string,
    endpoint: string,
    clientIp: string,
    code: VerificationCode,
    httpStatus: number,
  ) {
    this.origin = origin;
    this.time = time;
    this.tenantId = tenantId;
    this.keyId = keyId;
    this.endpoint = endpoint;
    this.clientIp = clientIp;
    this.code = code;
    this.httpStatus = httpStatus;
  }

  /** id is minted on first read and never changes afterwards (a retried batch resends the same ids). */
  get id(): string {
    this.mintedId ??= this.origin.ids();
    return this.mintedId;
  }

  get detail(): UsageDetail {
    this.builtDetail ??= Object.freeze({
      kind: "usage",
      keyId: this.keyId,
      endpoint: this.endpoint,
      clientIp: this.clientIp,
      code: this.code,
      httpStatus: this.httpStatus,
      replica: this.origin.replica,
    });
    return this.builtDetail;
  }

  /** toJSON gives the plain NewAuditEvent shape (for logs and tests that serialize events). */
  toJSON(): NewAuditEvent {
    return { id: this.id, time: this.time, tenantId: this.tenantId, detail: this.detail };
  }
}
