import { describe, expect, it } from "vitest";
import { GROUP_ID_PATTERN, isGroupId, newEventId, newGroupId } from "../../../src/domain/ids.js";
import { cryptoRandom } from "../../helpers/random.js";

const random = cryptoRandom;

describe("newGroupId", () => {
  it("mints grp_ + 16 base62 characters that isGroupId accepts", () => {
    const id = newGroupId(random);
    expect(id).toMatch(/^grp_[0-9A-Za-z]{16}$/);
    expect(GROUP_ID_PATTERN.test(id)).toBe(true);
    expect(isGroupId(id)).toBe(true);
  });

  it("mints different ids", () => {
    expect(new Set(Array.from({ length: 500 }, () => newGroupId(random))).size).toBe(500);
  });

  it("is deterministic for a given random source", () => {
    const zeros = { bytes: (n: number) => new Uint8Array(n) };
    expect(newGroupId(zeros)).toBe("grp_0000000000000000");
  });
});

describe("isGroupId", () => {
  it.each([
    ["grp_0123456789abcdEF", true],
    ["grp_0123456789abcde", false],
    ["grp_0123456789abcdEF ", false],
    ["GRP_0123456789abcdEF", false],
    ["key_0123456789abcdEF", false],
    ["", false],
  ])("%j → %s", (value, expected) => {
    expect(isGroupId(value)).toBe(expected);
  });
});

describe("newEventId", () => {
  it("mints distinct version 4 UUIDs", () => {
    const ids = Array.from({ length: 100 }, () => newEventId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(100);
  });
});
