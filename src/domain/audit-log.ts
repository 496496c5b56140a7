/** AuditLog: the reads the audit use cases need on top of the AuditEventStore port. */
import type { AuditPagePosition } from "./audit-cursor.js";
import type { AuditEventKind, AuditEventRecord, VerificationCode } from "./audit-event.js";
import type { AuditEventStore, Page } from "./ports.js";

/** AuditEventFilter selects events of a stream; a null member (or empty `kinds`) does not restrict. */
export interface AuditEventFilter {
  readonly tenantId: string | null;
  /** keyId matches the key of a usage event and the key acted on by an admin event. */
  readonly keyId: string | null;
  readonly kinds: readonly AuditEventKind[];
}

/** AuditScanQuery reads matching events in commit order within (afterSeq, upToSeq]. */
export interface AuditScanQuery {
  readonly afterSeq: number;
  readonly upToSeq: number;
  readonly filter: AuditEventFilter;
  readonly limit: number;
}

/** KeyUsageQuery selects one key's usage events, newest first (time desc, seq desc). */
export interface KeyUsageQuery {
  readonly keyId: string;
  /** tenantId, when set, keeps only events of that tenant (a tenant admin's scope). */
  readonly tenantId: string | null;
  /** from and to keep events with from <= time < to. */
  readonly from: Date | null;
  readonly to: Date | null;
  /** codes keeps events with one of these verdicts; empty keeps all. */
  readonly codes: readonly VerificationCode[];
  readonly limit: number;
  /** after continues strictly after this position (from a previous page), or null for the first page. */
  readonly after: AuditPagePosition | null;
}

/** AdminEventQuery selects a tenant's admin events, optionally for one key and/or one group, newest first. */
export interface AdminEventQuery {
  readonly tenantId: string;
  readonly keyId: string | null;
  readonly groupId: string | null;
  readonly limit: number;
  readonly after: AuditPagePosition | null;
}

/** AuditLog: events in one global commit order, seq 1, 2, 3… with no gaps but those of retention. */
export interface AuditLog extends AuditEventStore {
  /** latestSeq is the highest seq ever committed (0 when none), retained or not: seq never goes back. */
  latestSeq(): Promise<number>;
  /** oldestSeq is the lowest retained seq, or null when no event is retained. */
  oldestSeq(): Promise<number | null>;
  /** firstSeqAtOrAfter: the lowest seq of the earliest retained events at or after `time` (docs/audit.md). */
  firstSeqAtOrAfter(time: Date): Promise<number | null>;
  /** scan returns events matching the filter with afterSeq < seq <= upToSeq, ascending, at most `limit`. */
  scan(query: AuditScanQuery): Promise<AuditEventRecord[]>;
  /** listKeyUsage returns one page of a key's usage log; nextCursor is an audit page token. */
  listKeyUsage(query: KeyUsageQuery): Promise<Page<AuditEventRecord>>;
  /** listAdminEvents returns one page of admin history; nextCursor is an audit page token. */
  listAdminEvents(query: AdminEventQuery): Promise<Page<AuditEventRecord>>;
}

/** matchesAuditEventFilter tells whether `event` passes `filter` (the same rule scan applies in the database). */
export function matchesAuditEventFilter(event: AuditEventRecord, filter: AuditEventFilter): boolean {
  if (filter.tenantId !== null && event.tenantId !== filter.tenantId) {
    return false;
  }
  if (filter.keyId !== null && event.detail.keyId !== filter.keyId) {
    return false;
  }
  return filter.kinds.length === 0 || filter.kinds.includes(event.detail.kind);
}
