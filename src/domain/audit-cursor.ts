/** Opaque audit positions: the stream resume cursor (0x01, seq) and the page token (0x02, ms, seq). */
import { Buffer } from "node:buffer";
import { invalidArgument } from "./errors.js";

export const RESUME_CURSOR_FIELD = "resume_cursor";

export const AUDIT_PAGE_TOKEN_FIELD = "page_token";

/** AuditPagePosition is where a newest-first audit listing continues: strictly after (time, seq). */
export interface AuditPagePosition {
  readonly time: Date;
  readonly seq: number;
}

const RESUME_FORMAT = 0x01;
const PAGE_FORMAT = 0x02;
const RESUME_BYTES = 9;
const PAGE_BYTES = 17;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_DATE_MS = 8.64e15;

/** encodeAuditCursor makes the resume cursor for the position right after `seq` (0 = before the first event). */
export function encodeAuditCursor(seq: number): string {
  assertSeq(seq);
  const bytes = Buffer.alloc(RESUME_BYTES);
  bytes[0] = RESUME_FORMAT;
  bytes.writeBigUInt64BE(BigInt(seq), 1);
  return bytes.toString("base64url");
}

/** decodeAuditCursor returns the seq of a resume cursor, or throws invalidArgument("resume_cursor"). */
export function decodeAuditCursor(cursor: string): number {
  const bytes = decodeStrict(cursor, RESUME_BYTES, RESUME_FORMAT);
  if (bytes === null) {
    throw invalidArgument(RESUME_CURSOR_FIELD, "is not a valid audit stream cursor");
  }
  const seq = bytes.readBigUInt64BE(1);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(RESUME_CURSOR_FIELD, "is not a valid audit stream cursor");
  }
  return Number(seq);
}

/** encodeAuditPageToken makes the page token that continues a listing strictly after `position`. */
export function encodeAuditPageToken(position: AuditPagePosition): string {
  assertSeq(position.seq);
  const ms = position.time.getTime();
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError("audit page position time must be a valid date");
  }
  const bytes = Buffer.alloc(PAGE_BYTES);
  bytes[0] = PAGE_FORMAT;
  bytes.writeBigInt64BE(BigInt(ms), 1);
  bytes.writeBigUInt64BE(BigInt(position.seq), 9);
  return bytes.toString("base64url");
}

/** decodeAuditPageToken reads a page token made by encodeAuditPageToken, or throws invalidArgument. */
export function decodeAuditPageToken(token: string): AuditPagePosition {
  const bytes = decodeStrict(token, PAGE_BYTES, PAGE_FORMAT);
  const invalid = () => invalidArgument(AUDIT_PAGE_TOKEN_FIELD, "is not a valid page token");
  if (bytes === null) {
    throw invalid();
  }
  const ms = bytes.readBigInt64BE(1);
  const seq = bytes.readBigUInt64BE(9);
  if (ms > BigInt(MAX_DATE_MS) || ms < BigInt(-MAX_DATE_MS) || seq > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalid();
  }
  return { time: new Date(Number(ms)), seq: Number(seq) };
}

/** decodeStrict returns the payload if `text` is exactly the canonical encoding of `length` bytes of `format`. */
function decodeStrict(text: string, length: number, format: number): Buffer | null {
  if (text.length !== Math.ceil((length * 4) / 3) || !BASE64URL.test(text)) {
    return null;
  }
  const bytes = Buffer.from(text, "base64url");
  // Re-encoding rejects non-canonical spellings (stray low bits in the last character).
  if (bytes.length !== length || bytes[0] !== format || bytes.toString("base64url") !== text) {
    return null;
  }
  return bytes;
}

function assertSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError("audit seq must be a non-negative safe integer");
  }
}
