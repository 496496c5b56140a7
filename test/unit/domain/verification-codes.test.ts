/** verificationCodeIndex (a switch, for the hot path) agrees with VERIFICATION_CODES for every code. */
import { describe, expect, it } from "vitest";
import { VERIFICATION_CODES, verificationCodeIndex } from "../../../src/domain/audit-event.js";

describe("verificationCodeIndex", () => {
  it.each(VERIFICATION_CODES.map((code, index) => [code, index] as const))("%s is at %i", (code, index) => {
    expect(verificationCodeIndex(code)).toBe(index);
  });
});
