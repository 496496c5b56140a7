/** The request-id fence: one request_id, one effect, even when a write lands late (docs/architecture.md). */
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { randomBase62 } from "./base62.js";
import { KEY_ID_RANDOM_LENGTH } from "./key-format.js";
import type { RandomSource } from "./ports.js";

/** REQUEST_ID_RETENTION_MS is how long a client request id is remembered (24 hours). */
export const REQUEST_ID_RETENTION_MS = 24 * 60 * 60 * 1000;

// Fixed labels key the derivations, so each derived value means one thing only.
const KEY_ID_LABEL = "apikeys/request-fence/key-id/v1";
const EVENT_ID_LABEL = "apikeys/request-fence/admin-event-id/v1";

/** derivedBytes is a deterministic byte stream of `parts` under `label` (HMAC-SHA256 blocks with a counter). */
function derivedBytes(label: string, parts: readonly (string | number)[]): RandomSource {
  const input = JSON.stringify(parts);
  let block = 0;
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let filled = 0; filled < length; block += 1) {
        const digest = createHmac("sha256", label).update(`${block}:${input}`).digest();
        const take = Math.min(digest.length, length - filled);
        out.set(digest.subarray(0, take), filled);
        filled += take;
      }
      return out;
    },
  };
}

/** requestKeyId is the key id a CreateKey with `requestId` in `tenantId` stores its key under. */
export function requestKeyId(prefix: string, tenantId: string, requestId: string): string {
  return prefix + randomBase62(derivedBytes(KEY_ID_LABEL, [tenantId, requestId]), KEY_ID_RANDOM_LENGTH);
}

/** requestEventId is the admin event id of one effect of a request id, as a UUID (version 8). */
export function requestEventId(parts: readonly (string | number)[]): string {
  const bytes = derivedBytes(EVENT_ID_LABEL, parts).bytes(16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** withinRequestRetention tells whether an effect made at `at` can be one of a request still remembered. */
export function withinRequestRetention(at: Date, now: Date): boolean {
  return now.getTime() - at.getTime() < REQUEST_ID_RETENTION_MS;
}
