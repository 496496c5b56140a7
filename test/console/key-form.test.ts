/** The console's key forms: text → request fields, and the checks a person gets before anything is sent. */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  createKeyRequestOf,
  EMPTY_KEY_FORM,
  formFieldOf,
  keyFormOf,
  keyUpdateOf,
  labelsText,
  parseAllowlist,
  parseLabels,
  parseLocalDateTime,
  parsePermissions,
  toLocalDateTime,
} from "../../console/src/key-form.js";
import type { Key } from "../../src/gen/apikeys/v1/key_pb.js";

const NOW = new Date(2030, 0, 15, 12, 0);
const HOUR = 3_600_000;

function keyOf(fields: Partial<Key>): Key {
  return {
    $typeName: "apikeys.v1.Key",
    keyId: "ak_live_abc",
    tenantId: "acme",
    name: "ERP",
    description: "",
    userId: "",
    groupId: "",
    permissions: [],
    ipAllowlist: [],
    status: 1,
    expirationState: 1,
    displayHint: "ak_live_abc_x…",
    createdBy: "bootstrap",
    revokedBy: "",
    revokeReason: "",
    secrets: [],
    labels: {},
    etag: "etag-1",
    ...fields,
  } as Key;
}

describe("list parsing", () => {
  it("splits permissions on spaces, commas and line breaks, dropping blanks and duplicates", () => {
    expect(parsePermissions(" orders:read, orders:write\ninventory:read  orders:read ,")).toEqual([
      "orders:read",
      "orders:write",
      "inventory:read",
    ]);
    expect(parsePermissions("   ")).toEqual([]);
  });

  it("reads one allowlist entry per line, trimmed, blank lines ignored, nothing else rewritten", () => {
    expect(parseAllowlist("10.0.0.0/8\r\n\n  2001:db8::/32  \n10.1.2.3")).toEqual([
      "10.0.0.0/8",
      "2001:db8::/32",
      "10.1.2.3",
    ]);
    // A comma is not a separator here: the server names the entry as it was typed.
    expect(parseAllowlist("10.0.0.1, 10.0.0.2")).toEqual(["10.0.0.1, 10.0.0.2"]);
  });

  it("reads datetime-local values in the browser's zone and round-trips them", () => {
    expect(parseLocalDateTime("")).toBeNull();
    expect(parseLocalDateTime("tomorrow")).toBe("invalid");
    expect(parseLocalDateTime("2030-13-45T99:99")).toBe("invalid");
    const date = parseLocalDateTime("2030-01-15T13:30");
    expect(date).toEqual(new Date(2030, 0, 15, 13, 30));
    expect(toLocalDateTime(date as Date)).toBe("2030-01-15T13:30");
  });
});

describe("labels", () => {
  it("reads one key=value per line: trimmed, empty values kept, the value may hold '='", () => {
    expect(parseLabels(" tier=gold \r\n\nnote=a=b\nflag=")).toEqual({
      ok: true,
      value: { tier: "gold", note: "a=b", flag: "" },
    });
    expect(parseLabels("")).toEqual({ ok: true, value: {} });
  });

  it("names the line of an entry without a key or a key given twice", () => {
    expect(parseLabels("tier=gold\njust text")).toEqual({
      ok: false,
      errors: { labels: "Line 2: write each label as key=value." },
    });
    expect(parseLabels("=x")).toMatchObject({ ok: false });
    expect(parseLabels("a=1\n\na=2")).toEqual({
      ok: false,
      errors: { labels: "Line 3: the label “a” is given twice." },
    });
  });

  it("writes labels back sorted by key, as the form and the chips show them", () => {
    expect(labelsText({ tier: "gold", customer: "c-42" })).toBe("customer=c-42\ntier=gold");
  });

  it("keeps a create form with a bad label line from being sent", () => {
    expect(createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "ok", labels: "gold" }, "acme", NOW)).toEqual({
      ok: false,
      errors: { labels: "Line 1: write each label as key=value." },
    });
  });
});

describe("createKeyRequestOf", () => {
  it("builds the request: trimmed text, parsed lists, expiry as a Timestamp, the tenant in view", () => {
    const parsed = createKeyRequestOf(
      {
        name: "  ERP Integration ",
        description: " nightly ",
        userId: " erp ",
        groupId: "grp_1",
        permissions: "orders:read orders:write",
        expires: "2030-01-16T12:00",
        ipAllowlist: "10.0.0.0/8\n",
        labels: "tier = gold\ncustomer=c-42\n\nempty=",
      },
      "acme",
      NOW,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) {
      return;
    }
    expect(parsed.value).toMatchObject({
      tenantId: "acme",
      name: "ERP Integration",
      description: "nightly",
      userId: "erp",
      groupId: "grp_1",
      permissions: ["orders:read", "orders:write"],
      ipAllowlist: ["10.0.0.0/8"],
      labels: { tier: "gold", customer: "c-42", empty: "" },
    });
    expect(timestampDate(parsed.value.expireTime as never)).toEqual(new Date(2030, 0, 16, 12, 0));
  });

  it("leaves the expiry unset when the field is empty (never expires)", () => {
    const parsed = createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "No expiry" }, "acme", NOW);
    expect(parsed.ok && "expireTime" in parsed.value).toBe(false);
  });

  it("names the fields that keep it from being sent: name length, past or malformed expiry", () => {
    expect(createKeyRequestOf({ ...EMPTY_KEY_FORM, name: " x " }, "acme", NOW)).toEqual({
      ok: false,
      errors: { name: "Enter a name of 2 to 200 characters." },
    });
    expect(
      createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "ok", expires: "2030-01-15T11:00" }, "acme", NOW),
    ).toEqual({ ok: false, errors: { expires: "Choose a time at least a minute from now." } });
    expect(
      createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "ok", expires: "2030-01-15T12:00" }, "acme", NOW).ok,
    ).toBe(false);
    expect(createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "ok", expires: "soon" }, "acme", NOW)).toEqual({
      ok: false,
      errors: { expires: "Enter a date and time." },
    });
    expect(createKeyRequestOf({ ...EMPTY_KEY_FORM, name: "x".repeat(201) }, "acme", NOW).ok).toBe(false);
  });
});

describe("keyUpdateOf", () => {
  const expiry = new Date(NOW.getTime() + 48 * HOUR);
  const key = keyOf({
    name: "ERP",
    permissions: ["orders:read"],
    ipAllowlist: ["10.0.0.0/8"],
    expireTime: timestampFromDate(expiry),
  });

  it("sends nothing when nothing changed", () => {
    expect(keyUpdateOf(key, keyFormOf(key), NOW)).toMatchObject({ ok: true, value: { paths: [] } });
  });

  it("names only the changed fields in the mask", () => {
    const parsed = keyUpdateOf(
      key,
      { ...keyFormOf(key), name: "ERP v2", ipAllowlist: "10.0.0.0/8\n192.168.0.0/16" },
      NOW,
    );
    expect(parsed).toMatchObject({
      ok: true,
      value: {
        paths: ["name", "ip_allowlist"],
        name: "ERP v2",
        ipAllowlist: ["10.0.0.0/8", "192.168.0.0/16"],
      },
    });
  });

  it("lets the expiry move earlier, and refuses a later one or its removal with the reason", () => {
    const earlier = toLocalDateTime(new Date(NOW.getTime() + 24 * HOUR));
    const moved = keyUpdateOf(key, { ...keyFormOf(key), expires: earlier }, NOW);
    expect(moved).toMatchObject({ ok: true, value: { paths: ["expire_time"] } });
    for (const expires of [toLocalDateTime(new Date(NOW.getTime() + 72 * HOUR)), ""]) {
      const refused = keyUpdateOf(key, { ...keyFormOf(key), expires }, NOW);
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.errors.expires).toContain("rotate the key");
    }
  });

  it("sends the whole label map when a label changed, and nothing when only the order did", () => {
    const labelled = keyOf({ name: "ERP", labels: { tier: "gold", customer: "c-42" } });
    expect(
      keyUpdateOf(labelled, { ...keyFormOf(labelled), labels: "tier=gold\ncustomer=c-42" }, NOW),
    ).toMatchObject({ ok: true, value: { paths: [] } });
    expect(keyUpdateOf(labelled, { ...keyFormOf(labelled), labels: "tier=silver" }, NOW)).toMatchObject({
      ok: true,
      value: { paths: ["labels"], labels: { tier: "silver" } },
    });
    expect(keyUpdateOf(labelled, { ...keyFormOf(labelled), labels: "" }, NOW)).toMatchObject({
      ok: true,
      value: { paths: ["labels"], labels: {} },
    });
    expect(keyUpdateOf(labelled, { ...keyFormOf(labelled), labels: "tier" }, NOW).ok).toBe(false);
  });

  it("lets a key without expiry get one (that is earlier than never)", () => {
    const never = keyOf({ name: "ERP" });
    const parsed = keyUpdateOf(never, { ...keyFormOf(never), expires: "2030-02-01T00:00" }, NOW);
    expect(parsed).toMatchObject({ ok: true, value: { paths: ["expire_time"] } });
  });
});

describe("formFieldOf", () => {
  it("maps every request field the server may name to its form input, and nothing else", () => {
    expect(formFieldOf("name")).toBe("name");
    expect(formFieldOf("user_id")).toBe("userId");
    expect(formFieldOf("group_id")).toBe("groupId");
    expect(formFieldOf("ip_allowlist")).toBe("ipAllowlist");
    expect(formFieldOf("expire_time")).toBe("expires");
    expect(formFieldOf("permissions")).toBe("permissions");
    expect(formFieldOf("labels")).toBe("labels");
    expect(formFieldOf("tenant_id")).toBeNull();
  });
});
