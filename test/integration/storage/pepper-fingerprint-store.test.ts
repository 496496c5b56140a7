import { beforeEach, describe, expect, it } from "vitest";
import {
  checkPepperFingerprint,
  PEPPER_FINGERPRINT_ID,
  type PepperFingerprintDocument,
  PepperMismatchError,
  pepperFingerprint,
  SETTINGS_COLLECTION,
} from "../../../src/storage/pepper-fingerprint-store.js";
import { useTestDatabase } from "../../helpers/mongo.js";

const FIRST = { version: 1, pepper: "first-pepper-0123456789abcdefghijklmnopqrstuv" };
const SECOND = { version: 2, pepper: "second-pepper-0123456789abcdefghijklmnopqrstu" };
const STRANGER = { version: 1, pepper: "stranger-pepper-0123456789abcdefghijklmnopqr" };

describe("pepper fingerprint store", () => {
  const { db } = useTestDatabase("pepperfp");
  const settings = db.collection<PepperFingerprintDocument>(SETTINGS_COLLECTION);

  beforeEach(async () => {
    await settings.deleteMany({});
  });

  it("records the pepper on a first start, then accepts the same pepper on every later start", async () => {
    expect(await checkPepperFingerprint(db, FIRST, [])).toBe("recorded");
    expect(await checkPepperFingerprint(db, FIRST, [])).toBe("matches");
    expect(await settings.findOne({ _id: PEPPER_FINGERPRINT_ID })).toMatchObject({
      fingerprint: pepperFingerprint(FIRST.pepper),
      pepperVersion: 1,
    });
  });

  it("refuses another pepper with one line saying what changed, and keeps the record", async () => {
    const recordedAt = new Date("2026-01-02T03:04:05.000Z");
    await checkPepperFingerprint(db, FIRST, [], recordedAt);
    const refusal = checkPepperFingerprint(db, STRANGER, []);
    await expect(refusal).rejects.toBeInstanceOf(PepperMismatchError);
    const message = await refusal.catch((error: Error) => error.message);
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/^KEY_HASH_PEPPER: changed since this database's keys were hashed/);
    expect(message).toContain(
      `records pepper version 1, fingerprint ${pepperFingerprint(FIRST.pepper).slice(0, 8)} (since 2026-01-02T03:04:05.000Z)`,
    );
    expect(message).toContain(
      `configured one is version 1, fingerprint ${pepperFingerprint(STRANGER.pepper).slice(0, 8)}`,
    );
    expect(message).toContain("KEY_HASH_PREVIOUS_PEPPERS is empty");
    expect(message).not.toContain(FIRST.pepper);
    expect(message).not.toContain(STRANGER.pepper);
    expect(await settings.findOne({ _id: PEPPER_FINGERPRINT_ID })).toMatchObject({
      fingerprint: pepperFingerprint(FIRST.pepper),
    });
  });

  it("accepts a rotation (new pepper, the recorded one among the previous) and then records the new pepper", async () => {
    await checkPepperFingerprint(db, FIRST, []);
    expect(await checkPepperFingerprint(db, SECOND, [FIRST])).toBe("rotated");
    expect(await settings.findOne({ _id: PEPPER_FINGERPRINT_ID })).toMatchObject({
      fingerprint: pepperFingerprint(SECOND.pepper),
      pepperVersion: 2,
    });
    // Once every replica runs the new pepper, the old one may leave the configuration.
    expect(await checkPepperFingerprint(db, SECOND, [])).toBe("matches");
    // A process still configured with only the old pepper would miss every key hashed since: refused.
    await expect(checkPepperFingerprint(db, FIRST, [])).rejects.toBeInstanceOf(PepperMismatchError);
  });

  it("refuses a rotation whose previous peppers do not include the recorded one", async () => {
    await checkPepperFingerprint(db, FIRST, []);
    await expect(checkPepperFingerprint(db, SECOND, [STRANGER])).rejects.toThrow(
      "none of the 1 in KEY_HASH_PREVIOUS_PEPPERS is it",
    );
  });

  it("never stores a pepper", async () => {
    await checkPepperFingerprint(db, FIRST, []);
    await checkPepperFingerprint(db, SECOND, [FIRST]);
    const stored = JSON.stringify(await settings.find({}).toArray());
    for (const { pepper } of [FIRST, SECOND]) {
      expect(stored).not.toContain(pepper);
      expect(stored).not.toContain(Buffer.from(pepper).toString("hex"));
      expect(stored).not.toContain(Buffer.from(pepper).toString("base64"));
    }
  });

  it("settles concurrent first starts on one record: the same pepper starts everywhere, another is refused", async () => {
    const same = await Promise.all([
      checkPepperFingerprint(db, FIRST, []),
      checkPepperFingerprint(db, FIRST, []),
      checkPepperFingerprint(db, FIRST, []),
    ]);
    expect(same.filter((outcome) => outcome === "recorded")).toHaveLength(1);
    expect(same.filter((outcome) => outcome === "matches")).toHaveLength(2);

    await settings.deleteMany({});
    const mixed = await Promise.allSettled([
      checkPepperFingerprint(db, FIRST, []),
      checkPepperFingerprint(db, STRANGER, []),
    ]);
    expect(mixed.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const refused = mixed.find((result) => result.status === "rejected");
    expect(refused?.status === "rejected" && refused.reason).toBeInstanceOf(PepperMismatchError);
  });
});
