/**
 * UsageBatch: usage events as they cross from the verify worker to the main thread — columns, not objects.
 *
 * The worker records one usage event per VerifyKey call. Posting objects would cost a structured clone of
 * every field of every event; columns cost one move of a few typed arrays (transferred, not copied) and the
 * values that are new. Values repeat from call to call (a key, a route, a user's address), so each batch
 * carries only what was first seen since the last reset, and events refer to it by index in tables both
 * sides grow in the same order: one of keys (tenant and key id, looked up by the verdict's key details,
 * one object per cached key) and one of strings (endpoints and client IPs). The tables are bounded: when
 * either is full the next batch starts new ones (`reset`), which the decoder follows.
 */
import { VERIFICATION_CODES, verificationCodeIndex } from "../domain/audit-event.js";
import type { VerifiedKeyDetails } from "../domain/verifiable-key.js";
import type { UsageEventFields } from "../verify/usage-event.js";
import type { UsageEventArgs } from "../verify/usage-recorder.js";

/** NO_KEY is the key reference of an event whose key was not identified (not_found). */
const NO_KEY = -1;

/** UsageBatch is a batch of usage events in columns (see the module comment). */
export interface UsageBatch {
  readonly count: number;
  /** times are the events' instants in epoch milliseconds. */
  readonly times: Float64Array;
  /** keyRefs index the key table (NO_KEY: none). */
  readonly keyRefs: Int32Array;
  /** stringRefs holds two string-table indexes per event: endpoint, client IP. */
  readonly stringRefs: Int32Array;
  /** codes holds each event's index in VERIFICATION_CODES. */
  readonly codes: Uint8Array;
  readonly httpStatuses: Uint16Array;
  /** keys are appended to the key table, in order: tenant id then key id for each. */
  readonly keys: readonly string[];
  /** strings are appended to the string table, in order. */
  readonly strings: readonly string[];
  /** reset empties both tables before `keys` and `strings` are appended. */
  readonly reset: boolean;
}

/** UsageBatchEncoder fills one batch at a time. */
export interface UsageBatchEncoder {
  /** add appends an event and returns the batch's size with it. */
  add(...event: UsageEventArgs): number;
  /** size is the number of events in the batch being filled. */
  readonly size: number;
  /** take hands over the batch being filled (and the buffers to transfer), or null when it is empty. */
  take(): { readonly batch: UsageBatch; readonly transfer: readonly ArrayBuffer[] } | null;
}

/** createUsageBatchEncoder fills batches of up to `capacity` events; each table holds `maxEntries`. */
export function createUsageBatchEncoder(capacity: number, maxEntries: number): UsageBatchEncoder {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError("capacity must be a positive integer");
  }
  const keyTable = new Map<VerifiedKeyDetails, number>();
  const stringTable = new Map<string, number>();
  let times = new Float64Array(capacity);
  let keyRefs = new Int32Array(capacity);
  let stringRefs = new Int32Array(capacity * 2);
  let codes = new Uint8Array(capacity);
  let httpStatuses = new Uint16Array(capacity);
  let keys: string[] = [];
  let strings: string[] = [];
  let reset = false;
  let size = 0;

  function stringRef(text: string): number {
    let index = stringTable.get(text);
    if (index === undefined) {
      index = stringTable.size;
      stringTable.set(text, index);
      strings.push(text);
    }
    return index;
  }

  function keyRef(key: VerifiedKeyDetails | null): number {
    if (key === null) {
      return NO_KEY;
    }
    let index = keyTable.get(key);
    if (index === undefined) {
      index = keyTable.size;
      keyTable.set(key, index);
      keys.push(key.tenantId, key.keyId);
    }
    return index;
  }

  return {
    add(at, key, endpoint, clientIp, code, httpStatus) {
      if (size === 0 && (keyTable.size >= maxEntries || stringTable.size >= maxEntries)) {
        // Only between batches: the events of one batch all refer to one pair of tables.
        keyTable.clear();
        stringTable.clear();
        reset = true;
      }
      times[size] = at.getTime();
      keyRefs[size] = keyRef(key);
      stringRefs[2 * size] = stringRef(endpoint);
      stringRefs[2 * size + 1] = stringRef(clientIp);
      codes[size] = verificationCodeIndex(code);
      httpStatuses[size] = httpStatus;
      size += 1;
      return size;
    },
    get size() {
      return size;
    },
    take() {
      if (size === 0) {
        return null;
      }
      const batch: UsageBatch = {
        count: size,
        times,
        keyRefs,
        stringRefs,
        codes,
        httpStatuses,
        keys,
        strings,
        reset,
      };
      const transfer = [times.buffer, keyRefs.buffer, stringRefs.buffer, codes.buffer, httpStatuses.buffer];
      times = new Float64Array(capacity);
      keyRefs = new Int32Array(capacity);
      stringRefs = new Int32Array(capacity * 2);
      codes = new Uint8Array(capacity);
      httpStatuses = new Uint16Array(capacity);
      keys = [];
      strings = [];
      reset = false;
      size = 0;
      return { batch, transfer };
    },
  };
}

/** UsageEventVisitor receives one decoded event ("" tenant and key id when the key was not identified). */
export type UsageEventVisitor = (...fields: UsageEventFields) => void;

/** UsageBatchDecoder reads the batches of one encoder, in the order it made them. */
export interface UsageBatchDecoder {
  decode(batch: UsageBatch, visit: UsageEventVisitor): void;
}

function entryOf(table: readonly string[], index: number): string {
  const found = table[index];
  if (found === undefined) {
    throw new RangeError(`usage batch refers to entry ${index}, beyond its table`);
  }
  return found;
}

/** createUsageBatchDecoder mirrors one encoder's tables. */
export function createUsageBatchDecoder(): UsageBatchDecoder {
  let keyTable: string[] = [];
  let stringTable: string[] = [];
  return {
    decode(batch, visit) {
      if (batch.reset) {
        keyTable = [];
        stringTable = [];
      }
      for (const added of batch.keys) {
        keyTable.push(added);
      }
      for (const added of batch.strings) {
        stringTable.push(added);
      }
      for (let i = 0; i < batch.count; i++) {
        const keyRef = batch.keyRefs[i] as number;
        const known = keyRef !== NO_KEY;
        visit(
          new Date(batch.times[i] as number),
          known ? entryOf(keyTable, 2 * keyRef) : "",
          known ? entryOf(keyTable, 2 * keyRef + 1) : "",
          entryOf(stringTable, batch.stringRefs[2 * i] as number),
          entryOf(stringTable, batch.stringRefs[2 * i + 1] as number),
          VERIFICATION_CODES[batch.codes[i] as number] ?? "not_found",
          batch.httpStatuses[i] as number,
        );
      }
    },
  };
}
