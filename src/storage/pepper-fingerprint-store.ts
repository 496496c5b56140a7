/**
 * The key hash pepper's fingerprint in the database (an HMAC of a fixed label under the pepper, never the
 * pepper), so a process configured with another pepper refuses to start (docs/architecture.md, "Keys and
 * secrets").
 */
import { createHmac } from "node:crypto";
import type { Db } from "mongodb";
import { isDuplicateKeyError } from "./mongo-errors.js";

export const SETTINGS_COLLECTION = "settings";
export const PEPPER_FINGERPRINT_ID = "key_hash_pepper";
const FINGERPRINT_LABEL = "apikeys:key-hash-pepper-fingerprint:v1";

export interface PepperFingerprintDocument {
  _id: typeof PEPPER_FINGERPRINT_ID;
  fingerprint: string;
  pepperVersion: number;
  recordedAt: Date;
}

export interface ConfiguredPepper {
  readonly version: number;
  readonly pepper: string;
}

/**
 * PepperCheck is how the configured pepper relates to the database: "recorded" on a first start,
 * "matches" when it is the one recorded, "rotated" when the recorded one is among the previous peppers
 * (the record now names the current pepper).
 */
export type PepperCheck = "recorded" | "matches" | "rotated";

export function pepperFingerprint(pepper: string): string {
  return createHmac("sha256", pepper).update(FINGERPRINT_LABEL).digest("hex");
}

/** PepperMismatchError: the configured peppers do not include the one the database's keys are hashed with. */
export class PepperMismatchError extends Error {
  constructor(recorded: PepperFingerprintDocument, current: ConfiguredPepper, previousCount: number) {
    const configured = `version ${current.version}, fingerprint ${shortFingerprint(pepperFingerprint(current.pepper))}`;
    const previous =
      previousCount === 0
        ? "and KEY_HASH_PREVIOUS_PEPPERS is empty"
        : `and none of the ${previousCount} in KEY_HASH_PREVIOUS_PEPPERS is it`;
    super(
      `KEY_HASH_PEPPER: changed since this database's keys were hashed: the database records pepper version ${recorded.pepperVersion}, fingerprint ${shortFingerprint(recorded.fingerprint)} (since ${recorded.recordedAt.toISOString()}), the configured one is ${configured}, ${previous}; start with the recorded pepper, or rotate by adding it to KEY_HASH_PREVIOUS_PEPPERS beside the new one`,
    );
    this.name = "PepperMismatchError";
    // A deployment mistake, not a bug: the frames would only bury the one line that says what changed.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Eight hex digits tell peppers apart in a message; the full fingerprint stays in the database. */
function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 8);
}

export function recordedPepperFingerprint(db: Db): Promise<PepperFingerprintDocument | null> {
  return db
    .collection<PepperFingerprintDocument>(SETTINGS_COLLECTION)
    .findOne({ _id: PEPPER_FINGERPRINT_ID });
}

/**
 * checkPepperFingerprint compares the configured peppers with the database's record, records the current
 * pepper on a first start or after a rotation, and throws PepperMismatchError when the database's keys were
 * hashed with a pepper that is not configured. Concurrent starts settle on one record.
 */
export async function checkPepperFingerprint(
  db: Db,
  current: ConfiguredPepper,
  previous: readonly ConfiguredPepper[],
  now: Date = new Date(),
): Promise<PepperCheck> {
  const settings = db.collection<PepperFingerprintDocument>(SETTINGS_COLLECTION);
  const fingerprint = pepperFingerprint(current.pepper);
  const record: PepperFingerprintDocument = {
    _id: PEPPER_FINGERPRINT_ID,
    fingerprint,
    pepperVersion: current.version,
    recordedAt: now,
  };
  // Another process starting at the same moment may record or rotate in between: then look again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const recorded = await settings.findOne({ _id: PEPPER_FINGERPRINT_ID });
    if (recorded === null) {
      try {
        await settings.insertOne(record);
        return "recorded";
      } catch (error) {
        if (isDuplicateKeyError(error)) {
          continue;
        }
        throw error;
      }
    }
    if (recorded.fingerprint === fingerprint) {
      return "matches";
    }
    if (previous.some((older) => pepperFingerprint(older.pepper) === recorded.fingerprint)) {
      const rotated = await settings.replaceOne(
        { _id: PEPPER_FINGERPRINT_ID, fingerprint: recorded.fingerprint },
        record,
      );
      if (rotated.matchedCount === 1) {
        return "rotated";
      }
      continue;
    }
    throw new PepperMismatchError(recorded, current, previous.length);
  }
  throw new Error("KEY_HASH_PEPPER: the database's pepper record kept changing while this process started");
}
