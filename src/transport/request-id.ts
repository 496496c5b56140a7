/**
 * Request ids for logs. Generated ids are a per-process random prefix plus a counter: unique, cheap (no
 * random bytes per call), and never derived from request content.
 */
import { randomBytes } from "node:crypto";

/** REQUEST_ID_HEADER is the metadata key a caller may set to correlate its logs with ours. */
export const REQUEST_ID_HEADER = "x-request-id";

const processPrefix = randomBytes(4).toString("hex");
let counter = 0;
const acceptable = /^[A-Za-z0-9._:-]{1,64}$/;

/** requestIdFor keeps the caller's id when short and plain (it cannot forge log content), else makes one. */
export function requestIdFor(presented: string | null | undefined): string {
  if (presented !== null && presented !== undefined && acceptable.test(presented)) {
    return presented;
  }
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${processPrefix}-${counter.toString(36)}`;
}
