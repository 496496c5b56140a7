/** The one RandomSource of the tests: node:crypto, as production uses. */
import { randomBytes } from "node:crypto";
import type { RandomSource } from "../../src/domain/ports.js";

/** cryptoRandom is a RandomSource on node:crypto. */
export const cryptoRandom: RandomSource = { bytes: (length) => new Uint8Array(randomBytes(length)) };
