/**
 * isCalendarDateTime: the check every parser of time text makes before trusting Date.parse or protobuf-es,
 * which roll impossible dates and times over into real ones.
 */
import { describe, expect, it } from "vitest";
import { isCalendarDateTime } from "../../../src/domain/validation.js";

describe("isCalendarDateTime", () => {
  it.each([
    "2030-01-01",
    "2030-02-28T23:59:59Z",
    "2028-02-29T00:00:00Z",
    "2000-02-29",
    "2030-04-30 12:00",
    "2030-12-31T23:59:59.999999999+14:00",
    "0001-01-01T00:00:00Z",
  ])("accepts %s", (text) => {
    expect(isCalendarDateTime(text)).toBe(true);
  });

  it.each([
    ["February 30", "2030-02-30T00:00:00Z"],
    ["February 29 of a common year", "2031-02-29"],
    ["February 29 of a century not divisible by 400", "2100-02-29"],
    ["April 31", "2030-04-31T00:00:00Z"],
    ["day 0", "2030-01-00"],
    ["month 0", "2030-00-10"],
    ["month 13", "2030-13-01"],
    ["hour 24", "2030-01-01T24:00:00Z"],
    ["minute 60", "2030-01-01T23:60:00Z"],
    ["second 60", "2030-01-01T23:59:60Z"],
    ["not a date", "tomorrow"],
    ["empty", ""],
  ])("refuses %s (%s)", (_name, text) => {
    expect(isCalendarDateTime(text)).toBe(false);
  });
});
