/**
 * Labels: the documented bounds, sorted storage, the "key=value" filter, and the compiled key holding them
 * frozen so every verdict of a cached key shares one object (no per-call copy).
 */
import { describe, expect, it } from "vitest";
import {
  MAX_LABELS,
  NO_LABELS,
  parseLabelSelector,
  sameLabels,
  validateLabels,
} from "../../../src/domain/labels.js";
import { compileVerifiableKey } from "../../../src/domain/verifiable-key.js";
import { buildKey } from "../../helpers/key-fixtures.js";

describe("validateLabels", () => {
  it("accepts the documented alphabet and bounds, and returns the labels sorted by key", () => {
    const labels = validateLabels(
      { tier: "gold", "customer.id": "c-42", a: "", [`k${"x".repeat(61)}`]: "v".repeat(256) },
      "labels",
    );
    expect(Object.keys(labels)).toEqual(["a", "customer.id", `k${"x".repeat(61)}`, "tier"]);
    expect(validateLabels({}, "labels")).toBe(NO_LABELS);
    const most = Object.fromEntries(Array.from({ length: MAX_LABELS }, (_, i) => [`k${i}`, "v"]));
    expect(Object.keys(validateLabels(most, "labels"))).toHaveLength(MAX_LABELS);
  });

  it("stores values as NFC", () => {
    expect(validateLabels({ city: "Cle\u0301" }, "labels")).toEqual({ city: "Clé" });
  });

  it.each([
    ["_tier", "labels"],
    ["tier-", "labels"],
    ["Tier", "labels"],
    ["ti er", "labels"],
    ["ti$er", "labels"],
  ])("refuses the label key %j", (key, field) => {
    expect(() => validateLabels({ [key]: "v" }, "labels")).toThrow(new RegExp(`^${field}: `));
  });
});

describe("parseLabelSelector", () => {
  it("reads key=value with an empty value or an '=' in the value; '' is no filter", () => {
    expect(parseLabelSelector("tier=gold", "label")).toEqual({ key: "tier", value: "gold" });
    expect(parseLabelSelector("tier=", "label")).toEqual({ key: "tier", value: "" });
    expect(parseLabelSelector("expr=a=b", "label")).toEqual({ key: "expr", value: "a=b" });
    expect(parseLabelSelector("", "label")).toBeNull();
    expect(() => parseLabelSelector("tier", "label")).toThrow(/^label: /);
    expect(() => parseLabelSelector("=gold", "label")).toThrow(/^label: /);
  });
});

describe("labels on a compiled key", () => {
  it("are frozen once and shared by every verdict", () => {
    const { record } = buildKey();
    const compiled = compileVerifiableKey({ ...record, labels: { tier: "gold" } });
    expect(Object.isFrozen(compiled.details.labels)).toBe(true);
    expect(compiled.details.labels).toEqual({ tier: "gold" });
    expect(compileVerifiableKey(record).details.labels).toBe(NO_LABELS);
    expect(sameLabels(compiled.details.labels, { tier: "gold" })).toBe(true);
    expect(sameLabels(compiled.details.labels, { tier: "silver" })).toBe(false);
  });
});
