import { describe, expect, it } from "vitest";
import { effectivePermissions, missingPermissions } from "../../../src/domain/permissions.js";

describe("effectivePermissions", () => {
  it.each<[string, string[], string[] | null, string[]]>([
    ["own only, no group", ["b:read", "a:read"], null, ["a:read", "b:read"]],
    ["group only", [], ["orders:write", "orders:read"], ["orders:read", "orders:write"]],
    [
      "union, deduplicated and sorted",
      ["orders:read", "z:x"],
      ["orders:read", "billing:read"],
      ["billing:read", "orders:read", "z:x"],
    ],
    ["empty group", ["a"], [], ["a"]],
    ["nothing at all", [], null, []],
    ["duplicates within own", ["a", "a"], null, ["a"]],
  ])("%s", (_label, own, group, expected) => {
    expect(effectivePermissions(own, group)).toEqual(expected);
  });
});

describe("missingPermissions", () => {
  it.each<[string, string[], string[], string[]]>([
    ["nothing required", ["a"], [], []],
    ["all granted", ["a", "b", "c"], ["c", "a"], []],
    ["one missing", ["a"], ["a", "b"], ["b"]],
    ["all missing, in required order", [], ["z", "a"], ["z", "a"]],
    ["duplicates in required reported once", [], ["b", "b"], ["b"]],
    ["no prefix matching", ["orders"], ["orders:read"], ["orders:read"]],
    ["no wildcard matching", ["orders:*"], ["orders:read"], ["orders:read"]],
    ["exact case", ["orders:read"], ["orders:READ"], ["orders:READ"]],
    [
      "found anywhere in a longer sorted list",
      ["a", "b", "billing:read", "c", "orders:read", "orders:write", "z"],
      ["z", "a", "orders:write", "billing:read", "orders:delete", "c"],
      ["orders:delete"],
    ],
    ["between two granted names", ["a", "c"], ["b"], ["b"]],
  ])("%s", (_label, effective, required, expected) => {
    expect(missingPermissions(effective, required)).toEqual(expected);
  });
});
