import { describe, expect, it } from "vitest";
import type { DomainError } from "../../../src/domain/errors.js";
import { createKeyFormat } from "../../../src/domain/key-format.js";
import {
  codePointLength,
  DEFAULT_PAGE_SIZE,
  durationToMs,
  MAX_KEY_LIFETIME_MS,
  MAX_ROTATION_OVERLAP_MS,
  MIN_KEY_LIFETIME_MS,
  timestampToDate,
  validateDescription,
  validateEndpoint,
  validateExpiry,
  validateGroupId,
  validateKeyId,
  validateName,
  validateNameQuery,
  validatePageSize,
  validatePermission,
  validatePermissions,
  validateReason,
  validateRequestId,
  validateRequiredPermissions,
  validateRotationOverlap,
  validateTenantId,
  validateUserId,
} from "../../../src/domain/validation.js";

/** rejection returns the an invalid-argument error `run` throws, failing the test if it returns or throws anything else. */
function rejection(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toHaveProperty("kind", "invalid_argument");
    return error as DomainError;
  }
  throw new Error("expected an invalid-argument error");
}

const now = new Date("2030-06-15T12:00:00.000Z");
const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);

describe("validateTenantId", () => {
  it.each(["acme", "a", "0", "acme-prod_2", "a".repeat(64)])("accepts %j", (value) => {
    expect(validateTenantId(value)).toBe(value);
  });

  it.each<[string, string, RegExp]>([
    ["empty", "", /is required/],
    ["reserved system tenant", "_system", /reserved/],
    ["reserved system tenant with suffix", "_system2", /reserved/],
    ["leading underscore", "_acme", /lowercase letters/],
    ["leading dash", "-acme", /lowercase letters/],
    ["upper case", "Acme", /lowercase letters/],
    ["65 characters", "a".repeat(65), /1-64/],
    ["space", "ac me", /lowercase letters/],
    ["dot", "acme.com", /lowercase letters/],
    ["NUL", "acme\u0000", /lowercase letters/],
    ["non-ASCII letter", "acmé", /lowercase letters/],
    ["Mongo operator", "$gt", /lowercase letters/],
  ])("refuses %s", (_label, value, message) => {
    const error = rejection(() => validateTenantId(value));
    expect(error.field).toBe("tenant_id");
    expect(error.message).toMatch(message);
  });
});

describe("validateName", () => {
  it.each<[string, string, string]>([
    ["plain", "Production key", "Production key"],
    ["two characters", "ab", "ab"],
    ["200 characters", "n".repeat(200), "n".repeat(200)],
    ["trimmed", "  spaced out  ", "spaced out"],
    ["unicode, NFC", "Clé 🔑 prod ключ", "Clé 🔑 prod ключ"],
    ["decomposed é stored as NFC", "Cle\u0301 key", "Clé key"],
    ["emoji count as one character each", "🔑🔑", "🔑🔑"],
    ["operator-looking text is just text", '{"$gt":""}', '{"$gt":""}'],
    ["$where", "$where", "$where"],
    ["200 astral characters", "😀".repeat(200), "😀".repeat(200)],
  ])("accepts %s", (_label, value, expected) => {
    expect(validateName(value)).toBe(expected);
  });

  it.each<[string, string, RegExp]>([
    ["empty", "", /is required/],
    ["only spaces", "    ", /is required/],
    ["one character", "a", /2-200 characters after trimming, got 1/],
    ["one character after trimming", "  a  ", /got 1/],
    ["one astral character", "🔑", /got 1/],
    ["201 characters", "n".repeat(201), /got 201/],
    ["201 astral characters", "😀".repeat(201), /got 201/],
    ["10,000 characters", "n".repeat(10_000), /at most 200/],
    ["right-to-left override", "abc\u202Etxt.exe", /U\+202E \(right-to-left override\) at position 3/],
    ["zero width space", "ab\u200Bcd", /U\+200B \(zero width space\)/],
    ["NUL", "ab\u0000cd", /U\+0000 \(NUL\)/],
    ["line feed", "ab\ncd", /U\+000A \(line feed\)/],
    ["carriage return", "ab\rcd", /U\+000D/],
    ["trailing newline is not trimmed away", "name\n", /line feed/],
    ["tab", "ab\tcd", /tab/],
    ["DEL", "ab\u007fcd", /U\+007F/],
    ["C1 control", "ab\u0085cd", /U\+0085/],
    ["byte order mark", "\uFEFFname", /byte order mark/],
    ["left-to-right isolate", "ab\u2066cd", /U\+2066/],
    ["pop directional isolate", "ab\u2069cd", /U\+2069/],
    ["left-to-right embedding", "ab\u202Acd", /U\+202A/],
    ["right-to-left mark", "ab\u200Fcd", /U\+200F/],
    ["zero width joiner", "ab\u200Dcd", /U\+200D/],
    ["line separator", "ab\u2028cd", /U\+2028/],
    ["word joiner", "ab\u2060cd", /U\+2060/],
    ["Arabic letter mark", "ab\u061Ccd", /U\+061C/],
    ["lone surrogate", "ab\uD800cd", /U\+D800/],
  ])("refuses %s", (_label, value, message) => {
    const error = rejection(() => validateName(value));
    expect(error.field).toBe("name");
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/\p{Cc}|\u202E/u);
  });

  it("uses the given field name", () => {
    expect(rejection(() => validateName("", "group.name")).field).toBe("group.name");
  });
});

describe("validateDescription and validateReason", () => {
  it.each<[string, string, string]>([
    ["empty", "", ""],
    ["line feeds and tabs kept", "line 1\n\tline 2", "line 1\n\tline 2"],
    ["CRLF stored as LF", "line 1\r\nline 2", "line 1\nline 2"],
    ["not trimmed", "  indented\n", "  indented\n"],
    ["1000 characters", "d".repeat(1000), "d".repeat(1000)],
    ["1000 astral characters", "😀".repeat(1000), "😀".repeat(1000)],
    ["NFC", "Cafe\u0301", "Café"],
  ])("accepts %s", (_label, value, expected) => {
    expect(validateDescription(value)).toBe(expected);
    expect(validateReason(value)).toBe(expected);
  });

  it.each<[string, string, RegExp]>([
    ["1001 characters", "d".repeat(1001), /at most 1000 characters, got 1001/],
    ["far too long", "d".repeat(100_000), /at most 1000/],
    ["lone carriage return", "a\rb", /U\+000D/],
    ["NUL", "a\u0000b", /NUL/],
    ["vertical tab", "a\u000bb", /U\+000B/],
    ["escape", "a\u001b[31mred", /U\+001B/],
    ["right-to-left override", "a\u202Eb", /right-to-left override/],
    ["zero width space", "a\u200Bb", /zero width space/],
  ])("refuses %s", (_label, value, message) => {
    expect(rejection(() => validateDescription(value)).message).toMatch(message);
    expect(rejection(() => validateDescription(value)).field).toBe("description");
    expect(rejection(() => validateReason(value)).field).toBe("reason");
  });
});

describe("validateUserId", () => {
  it.each(["", "user-42", "alice@example.com", "Ünïcode user", "u".repeat(128), "😀".repeat(128)])(
    "accepts %j unchanged",
    (value) => {
      expect(validateUserId(value)).toBe(value);
    },
  );

  it.each<[string, string, RegExp]>([
    ["129 characters", "u".repeat(129), /at most 128 characters, got 129/],
    ["far too long", "u".repeat(10_000), /at most 128/],
    ["leading space", " alice", /whitespace/],
    ["trailing space", "alice ", /whitespace/],
    ["newline", "alice\n", /line feed/],
    ["NUL", "al\u0000ice", /NUL/],
    ["bidi override", "al\u202Eice", /right-to-left override/],
  ])("refuses %s", (_label, value, message) => {
    const error = rejection(() => validateUserId(value));
    expect(error.field).toBe("user_id");
    expect(error.message).toMatch(message);
  });
});

describe("permissions", () => {
  it.each(["orders:read", "a", "0", "apikeys:admin", "billing.invoices:write", "x-y_z.w:v", "p".repeat(128)])(
    "accepts the permission %j",
    (value) => {
      expect(validatePermission(value)).toBe(value);
    },
  );

  it.each([
    ["empty", ""],
    ["upper case", "Orders:read"],
    ["space", "orders read"],
    ["leading separator", ":read"],
    ["trailing separator", "orders:"],
    ["double separator", "orders::read"],
    ["wildcard", "orders:*"],
    ["slash", "orders/read"],
    ["129 characters", "p".repeat(129)],
    ["non-ASCII", "ordérs"],
    ["newline", "orders\n"],
  ])("refuses the permission %s", (_label, value) => {
    expect(rejection(() => validatePermission(value)).field).toBe("permission");
  });

  it("deduplicates and sorts a list", () => {
    expect(validatePermissions(["orders:write", "orders:read", "orders:write", "billing:read"])).toEqual([
      "billing:read",
      "orders:read",
      "orders:write",
    ]);
    expect(validatePermissions([])).toEqual([]);
  });

  it("names the wrong entry", () => {
    const error = rejection(() => validatePermissions(["orders:read", "Bad Permission"]));
    expect(error.field).toBe("permissions[1]");
    expect(error.message).toContain('"Bad Permission"');
  });

  it("allows 100 permissions and refuses 101", () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(validatePermissions(list(100))).toHaveLength(100);
    expect(rejection(() => validatePermissions(list(101))).message).toMatch(/101 entries; at most 100/);
  });

  it("allows 32 required permissions on verify and refuses 33", () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(validateRequiredPermissions(list(32))).toHaveLength(32);
    const error = rejection(() => validateRequiredPermissions(list(33)));
    expect(error.field).toBe("required_permissions");
    expect(rejection(() => validateRequiredPermissions(["ok", "NOT OK"])).field).toBe(
      "required_permissions[1]",
    );
  });
});

describe("validateRequestId", () => {
  it.each<[string, string | null]>([
    ["", null],
    ["a", "a"],
    ["req-2030-06-15/42 retry", "req-2030-06-15/42 retry"],
    ["r".repeat(255), "r".repeat(255)],
    ["~!@#$%^&*()", "~!@#$%^&*()"],
  ])("accepts %j", (value, expected) => {
    expect(validateRequestId(value)).toBe(expected);
  });

  it.each([
    ["256 characters", "r".repeat(256)],
    ["newline", "req\n"],
    ["tab", "req\t1"],
    ["non-ASCII", "réq"],
    ["DEL", "req\u007f"],
  ])("refuses %s", (_label, value) => {
    expect(rejection(() => validateRequestId(value)).field).toBe("request_id");
  });
});

describe("validateExpiry", () => {
  it.each<[string, Date]>([
    ["exactly one minute ahead", at(MIN_KEY_LIFETIME_MS)],
    ["a year ahead", at(365 * 86_400_000)],
    ["exactly 10 years ahead", at(MAX_KEY_LIFETIME_MS)],
  ])("accepts %s", (_label, value) => {
    expect(validateExpiry(value, now).getTime()).toBe(value.getTime());
  });

  it.each<[string, Date, RegExp]>([
    ["in the past", at(-1), /at least one minute in the future/],
    ["now", at(0), /at least one minute/],
    ["59.999 s ahead", at(MIN_KEY_LIFETIME_MS - 1), /at least one minute/],
    ["beyond 10 years", at(MAX_KEY_LIFETIME_MS + 1), /at most 10 years/],
    ["invalid date", new Date(Number.NaN), /not a valid timestamp/],
  ])("refuses %s", (_label, value, message) => {
    const error = rejection(() => validateExpiry(value, now));
    expect(error.field).toBe("expire_time");
    expect(error.message).toMatch(message);
  });
});

describe("timestampToDate", () => {
  it.each<[bigint, number, string]>([
    [0n, 0, "1970-01-01T00:00:00.000Z"],
    [1_900_000_000n, 123_456_789, "2030-03-17T17:46:40.123Z"],
    [-62_135_596_800n, 0, "0001-01-01T00:00:00.000Z"],
    [253_402_300_799n, 999_999_999, "9999-12-31T23:59:59.999Z"],
  ])("converts %s s + %s ns", (seconds, nanos, iso) => {
    expect(timestampToDate(seconds, nanos).toISOString()).toBe(iso);
  });

  it.each<[string, bigint, number]>([
    ["seconds 1e15", 1_000_000_000_000_000n, 0],
    ["before year 1", -62_135_596_801n, 0],
    ["after year 9999", 253_402_300_800n, 0],
    ["negative nanos", 0n, -1],
    ["nanos of a whole second", 0n, 1_000_000_000],
    ["fractional nanos", 0n, 0.5],
  ])("refuses %s", (_label, seconds, nanos) => {
    expect(rejection(() => timestampToDate(seconds, nanos)).field).toBe("expire_time");
  });
});

describe("durationToMs", () => {
  it.each<[bigint, number, number]>([
    [0n, 0, 0],
    [3600n, 0, 3_600_000],
    [1n, 500_000_000, 1500],
    [0n, 999_999, 0],
    [-1n, -500_000_000, -1500],
  ])("converts %s s + %s ns to %s ms", (seconds, nanos, ms) => {
    expect(durationToMs(seconds, nanos)).toBe(ms);
  });

  it.each<[string, bigint, number]>([
    ["seconds over 10,000 years", 315_576_000_001n, 0],
    ["nanos over a second", 0n, 1_000_000_000],
    ["mixed signs", 1n, -1],
    ["mixed signs, negative seconds", -1n, 1],
  ])("refuses %s", (_label, seconds, nanos) => {
    expect(rejection(() => durationToMs(seconds, nanos)).field).toBe("overlap");
  });
});

describe("validateRotationOverlap", () => {
  it.each<[string, number, Date | null]>([
    ["zero (stop at once)", 0, null],
    ["zero with an expiry", 0, at(1000)],
    ["one hour, no expiry", 3_600_000, null],
    ["exactly 7 days", MAX_ROTATION_OVERLAP_MS, null],
    ["ending exactly at the key's expiry", 3_600_000, at(3_600_000)],
  ])("accepts %s", (_label, overlap, expiresAt) => {
    expect(validateRotationOverlap(overlap, now, expiresAt)).toBe(overlap);
  });

  it.each<[string, number, Date | null, RegExp]>([
    ["negative", -1, null, /must not be negative/],
    ["NaN", Number.NaN, null, /must not be negative/],
    ["over 7 days", MAX_ROTATION_OVERLAP_MS + 1, null, /at most 7 days \(604800 s\)/],
    ["beyond the key's expiry by 1 ms", 3_600_001, at(3_600_000), /beyond the key's expiry.*at most 3600 s/],
  ])("refuses %s", (_label, overlap, expiresAt, message) => {
    const error = rejection(() => validateRotationOverlap(overlap, now, expiresAt));
    expect(error.field).toBe("overlap");
    expect(error.message).toMatch(message);
  });
});

describe("validatePageSize", () => {
  it.each<[number, number]>([
    [0, DEFAULT_PAGE_SIZE],
    [1, 1],
    [50, 50],
    [1000, 1000],
  ])("%s → %s", (value, expected) => {
    expect(validatePageSize(value)).toBe(expected);
  });

  it.each([-1, 1001, 1_000_000, 2.5, Number.NaN])("refuses %s", (value) => {
    expect(rejection(() => validatePageSize(value)).field).toBe("page_size");
  });
});

describe("validateNameQuery", () => {
  it.each<[string, string | null]>([
    ["", null],
    ["prod", "prod"],
    [" prod ", " prod "],
    ["Cle\u0301", "Clé"],
    ['{"$regex":".*"}', '{"$regex":".*"}'],
    ["q".repeat(200), "q".repeat(200)],
  ])("accepts %j", (value, expected) => {
    expect(validateNameQuery(value)).toBe(expected);
  });

  it.each([
    ["201 characters", "q".repeat(201)],
    ["newline", "prod\n"],
    ["bidi override", "pro\u202Ed"],
  ])("refuses %s", (_label, value) => {
    expect(rejection(() => validateNameQuery(value)).field).toBe("name_query");
  });
});

describe("validateEndpoint", () => {
  it.each([
    "",
    "GET /api/products",
    `GET /${"p".repeat(251)}`,
    `GET /${"é".repeat(125)}`,
    "POST /wéird/ünicode",
  ])("accepts %j", (value) => {
    expect(validateEndpoint(value)).toBe(value);
  });

  it.each([
    ["10 KB", `GET /${"p".repeat(10_000)}`, /at most 256 bytes/],
    ["257 ASCII bytes", `GET /${"p".repeat(252)}`, /at most 256 bytes/],
    ["257 UTF-8 bytes in 131 characters", `GET /${"é".repeat(126)}`, /at most 256 bytes/],
    ["CR LF", "GET /a\r\nX-Injected: 1", /control and invisible formatting characters/],
    ["NUL", "GET /\u0000", /control and invisible formatting characters/],
    ["tab", "GET\t/", /control and invisible formatting characters/],
    ["C1 next line", "GET /\u0085", /control and invisible formatting characters/],
    ["right-to-left override", "GET /\u202eexe.txt", /U\+202E \(right-to-left override\)/],
  ])("refuses %s", (_label, value, message) => {
    const error = rejection(() => validateEndpoint(value));
    expect(error.field).toBe("endpoint");
    expect(error.message).toMatch(message);
  });
});

describe("validateKeyId and validateGroupId", () => {
  const format = createKeyFormat("ak_live_");
  const keyId = `ak_live_${"A1b2C3d4E5f6G7h8"}`;

  it("accepts well-formed ids", () => {
    expect(validateKeyId(keyId, format)).toBe(keyId);
    expect(validateGroupId("grp_0123456789abcdEF")).toBe("grp_0123456789abcdEF");
  });

  it.each([
    ["empty", "", /is required/],
    ["another prefix", "ak_test_A1b2C3d4E5f6G7h8", /ak_live_ followed by 16/],
    ["a whole key", `${keyId}_${"s".repeat(38)}`, /not a key id/],
    ["an ObjectId", "507f1f77bcf86cd799439011", /not a key id/],
    ["too short", keyId.slice(0, -1), /not a key id/],
    ["an operator", '{"$ne":null}', /not a key id/],
  ])("refuses the key id %s", (_label, value, message) => {
    const error = rejection(() => validateKeyId(value, format));
    expect(error.field).toBe("key_id");
    expect(error.message).toMatch(message);
  });

  it.each([
    ["empty", ""],
    ["no prefix", "0123456789abcdef"],
    ["15 characters", "grp_0123456789abcde"],
    ["17 characters", "grp_0123456789abcdefg"],
    ["underscore in the body", "grp_0123456789abcd_f"],
    ["upper-case prefix", "GRP_0123456789abcdef"],
  ])("refuses the group id %s", (_label, value) => {
    expect(rejection(() => validateGroupId(value)).field).toBe("group_id");
  });
});

describe("codePointLength", () => {
  it.each<[string, number]>([
    ["", 0],
    ["abc", 3],
    ["🔑", 1],
    ["a🔑b", 3],
    ["\uD800", 1],
    ["\uD800a", 2],
    ["\uDC00\uD800", 2],
  ])("%j has %s code points", (s, n) => {
    expect(codePointLength(s)).toBe(n);
  });
});
