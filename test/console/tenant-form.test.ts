/** The console's tenant forms: Create tenant and the settings form (display name, key limit, etag). */
import { describe, expect, it } from "vitest";
import {
  createTenantRequestOf,
  EMPTY_TENANT_FORM,
  tenantFormFieldOf,
  tenantFormOf,
  tenantUpdateOf,
} from "../../console/src/tenant-form.js";
import type { Tenant } from "../../src/gen/apikeys/v1/key_pb.js";

function tenantOf(fields: Partial<Tenant>): Tenant {
  return {
    $typeName: "apikeys.v1.Tenant",
    tenantId: "acme",
    keyLimit: 10,
    usedKeys: 2,
    keyLimitOverridden: false,
    displayName: "",
    etag: "etag-7",
    ...fields,
  } as Tenant;
}

describe("createTenantRequestOf", () => {
  it("builds the request: trimmed id and name, the limit as a number, unset when empty", () => {
    expect(
      createTenantRequestOf({ tenantId: " globex ", displayName: " Globex Corp ", keyLimit: "5" }),
    ).toEqual({ ok: true, value: { tenantId: "globex", displayName: "Globex Corp", keyLimit: 5 } });
    expect(createTenantRequestOf({ ...EMPTY_TENANT_FORM, tenantId: "g-1" })).toEqual({
      ok: true,
      value: { tenantId: "g-1", displayName: "" },
    });
  });

  it("names each field that keeps it from being sent", () => {
    const parsed = createTenantRequestOf({ tenantId: "Globex!", displayName: "G", keyLimit: "0" });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && Object.keys(parsed.errors).sort()).toEqual(["displayName", "keyLimit", "tenantId"]);
    for (const keyLimit of ["1.5", "1000001", "ten"]) {
      expect(createTenantRequestOf({ ...EMPTY_TENANT_FORM, tenantId: "g", keyLimit }).ok).toBe(false);
    }
    expect(createTenantRequestOf({ ...EMPTY_TENANT_FORM, tenantId: "-g" }).ok).toBe(false);
    expect(createTenantRequestOf({ ...EMPTY_TENANT_FORM, tenantId: "g".repeat(65) }).ok).toBe(false);
  });
});

describe("tenantUpdateOf", () => {
  it("names only what changed, with the tenant's etag", () => {
    const tenant = tenantOf({ displayName: "Acme", keyLimit: 20, keyLimitOverridden: true });
    expect(tenantFormOf(tenant)).toEqual({ tenantId: "acme", displayName: "Acme", keyLimit: "20" });
    expect(tenantUpdateOf(tenant, tenantFormOf(tenant))).toMatchObject({
      ok: true,
      value: { updateMask: { paths: [] } },
    });
    expect(tenantUpdateOf(tenant, { ...tenantFormOf(tenant), displayName: "Acme Inc" })).toEqual({
      ok: true,
      value: {
        tenantId: "acme",
        etag: "etag-7",
        displayName: "Acme Inc",
        keyLimit: 20,
        updateMask: { paths: ["display_name"] },
      },
    });
  });

  it("clears the override when the limit is emptied, and shows a default limit as empty", () => {
    const overridden = tenantOf({ keyLimit: 3, keyLimitOverridden: true });
    const cleared = tenantUpdateOf(overridden, { ...tenantFormOf(overridden), keyLimit: "" });
    expect(cleared).toMatchObject({ ok: true, value: { updateMask: { paths: ["key_limit"] } } });
    expect(cleared.ok && "keyLimit" in cleared.value).toBe(false);
    const byDefault = tenantOf({ keyLimit: 10 });
    expect(tenantFormOf(byDefault).keyLimit).toBe("");
    expect(tenantUpdateOf(byDefault, { ...tenantFormOf(byDefault), keyLimit: "1" })).toMatchObject({
      ok: true,
      value: { keyLimit: 1, updateMask: { paths: ["key_limit"] } },
    });
    expect(tenantUpdateOf(byDefault, { ...tenantFormOf(byDefault), keyLimit: "-1" })).toMatchObject({
      ok: false,
      errors: { keyLimit: expect.stringContaining("1 to 1,000,000") },
    });
  });

  it("maps the request fields the server names to the form inputs", () => {
    expect(tenantFormFieldOf("tenant_id")).toBe("tenantId");
    expect(tenantFormFieldOf("display_name")).toBe("displayName");
    expect(tenantFormFieldOf("key_limit")).toBe("keyLimit");
    expect(tenantFormFieldOf("update_mask")).toBeNull();
  });
});
