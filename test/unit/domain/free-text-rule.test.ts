/**
 * One text rule for every free-text field the service stores or logs: control characters, every Unicode
 * format character (bidi controls, zero-width characters, tags), line and paragraph separators, blank
 * Hangul fillers and noncharacters are refused, naming the field.
 */
import { describe, expect, it } from "vitest";
import {
  validateDescription,
  validateEndpoint,
  validateName,
  validateNameQuery,
  validateReason,
  validateUserId,
} from "../../../src/domain/validation.js";
import { captureError } from "../../helpers/capture-error.js";

const FIELDS: Array<[string, (value: string) => unknown]> = [
  ["name", (v) => validateName(v)],
  ["description", (v) => validateDescription(v)],
  ["reason", (v) => validateReason(v)],
  ["user_id", (v) => validateUserId(v)],
  ["name_query", (v) => validateNameQuery(v)],
  ["endpoint", (v) => validateEndpoint(v)],
];

const REFUSED: Array<[string, string]> = [
  ["NUL", "\u0000"],
  ["escape (ANSI sequences)", "\u001b[31m"],
  ["carriage return", "\r"],
  ["C1 next line", "\u0085"],
  ["left-to-right embedding", "\u202a"],
  ["right-to-left embedding", "\u202b"],
  ["pop directional formatting", "\u202c"],
  ["left-to-right override", "\u202d"],
  ["right-to-left override", "\u202e"],
  ["left-to-right isolate", "\u2066"],
  ["right-to-left isolate", "\u2067"],
  ["first strong isolate", "\u2068"],
  ["pop directional isolate", "\u2069"],
  ["left-to-right mark", "\u200e"],
  ["right-to-left mark", "\u200f"],
  ["arabic letter mark", "\u061c"],
  ["zero width space", "\u200b"],
  ["zero width joiner", "\u200d"],
  ["word joiner", "\u2060"],
  ["soft hyphen", "\u00ad"],
  ["byte order mark", "\ufeff"],
  ["line separator", "\u2028"],
  ["paragraph separator", "\u2029"],
  ["deprecated inhibit symmetric swapping", "\u206a"],
  ["interlinear annotation anchor", "\ufff9"],
  ["tag character (invisible text)", "\u{e0041}"],
  ["Hangul filler (renders blank)", "\u3164"],
  ["noncharacter", "\uffff"],
  ["lone surrogate", "\ud800"],
];

describe.each(FIELDS)("%s", (field, validate) => {
  it.each(REFUSED)("refuses %s", (_name, character) => {
    const thrown = captureError(() => validate(`ab${character}cd`));
    expect(thrown).toHaveProperty("kind", "invalid_argument");
    expect((thrown as Error).message.startsWith(`${field}: `), (thrown as Error).message).toBe(true);
  });

  it.each(["Clé 🔑 prod ключ", "שלום עולם", "مرحبا بالعالم", "日本語の名前", "e\u0301lan"])(
    "accepts ordinary text %j",
    (text) => {
      expect(() => validate(text)).not.toThrow();
    },
  );
});
