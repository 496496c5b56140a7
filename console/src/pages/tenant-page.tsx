/** Tenant settings (super users): the tenant's display name and key limit (or the server default); Create tenant. */
import { createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { useConsole } from "../console-context.js";
import { formErrorsOf } from "../error-messages.js";
import {
  EMPTY_TENANT_FORM,
  type TenantFieldErrors,
  type TenantFormValues,
  tenantFormFieldOf,
  tenantFormOf,
  tenantUpdateOf,
} from "../tenant-form.js";
import { CreateTenantDialog } from "./create-tenant-dialog.js";

export function TenantPage() {
  const { tenantId } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const result = useQuery(KeyAdminService.method.getTenant, { tenantId });
  const tenant = result.data?.tenant;
  const [values, setValues] = useState<TenantFormValues>(EMPTY_TENANT_FORM);
  const [errors, setErrors] = useState<TenantFieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [saved, setSaved] = useState("");
  const [creating, setCreating] = useState(false);
  // A new read (after a save or a reload) refills the form with the tenant as it is now.
  useEffect(() => {
    if (tenant !== undefined) {
      setValues(tenantFormOf(tenant));
    }
  }, [tenant]);

  const save = async (next: TenantFormValues) => {
    setFailure(null);
    setSaved("");
    if (tenant === undefined) {
      return;
    }
    const parsed = tenantUpdateOf(tenant, next);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    if (parsed.value.updateMask.paths.length === 0) {
      setSaved("Nothing changed.");
      return;
    }
    try {
      await createClient(KeyAdminService, transport).updateTenant(parsed.value);
      await queryClient.invalidateQueries();
      setSaved(
        parsed.value.keyLimit === undefined
          ? "Saved. The server default key limit applies."
          : `Saved. Key limit set to ${parsed.value.keyLimit}.`,
      );
    } catch (failed) {
      const fieldErrors = formErrorsOf(failed, tenantFormFieldOf);
      if (fieldErrors !== null) {
        setErrors(fieldErrors);
      } else {
        setFailure(failed);
      }
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(values);
  };
  const bind = (field: "displayName" | "keyLimit") => ({
    value: values[field],
    onChange: (event: { target: { value: string } }) =>
      setValues((current) => ({ ...current, [field]: event.target.value })),
  });

  return (
    <>
      <div className="page-header">
        <div>
          <h1 tabIndex={-1}>Tenant settings</h1>
          <p className="subtitle">Tenant {tenantId}.</p>
        </div>
        <div className="page-actions">
          <button type="button" className="button-primary" onClick={() => setCreating(true)}>
            Create tenant
          </button>
        </div>
      </div>
      <ErrorNotice error={result.error} />
      {tenant === undefined ? null : (
        <section className="card" aria-labelledby="limit-heading">
          <h2 id="limit-heading">Name and key limit</h2>
          <p>
            Uses{" "}
            <strong>
              {tenant.usedKeys}/{tenant.keyLimit} keys
            </strong>{" "}
            ({tenant.keyLimitOverridden ? "set for this tenant" : "the server default"}). Active, disabled and
            expired keys count until they are revoked or deleted; a lower limit keeps existing keys working
            and refuses new ones.
          </p>
          <form onSubmit={submit} noValidate>
            <Field
              label="Display name"
              hint="Optional: 2 to 200 characters, shown in the tenant switcher."
              error={errors.displayName}
            >
              <input {...bind("displayName")} autoComplete="off" />
            </Field>
            <Field
              label="Key limit"
              hint="1 to 1,000,000 keys; empty uses the server default."
              error={errors.keyLimit}
            >
              <input type="number" min={1} max={1_000_000} {...bind("keyLimit")} />
            </Field>
            <ErrorNotice error={failure} />
            <p role="status">{saved}</p>
            <div className="dialog-actions">
              {tenant.keyLimitOverridden ? (
                <button
                  type="button"
                  className="button"
                  onClick={() => void save({ ...values, keyLimit: "" })}
                >
                  Use the server default
                </button>
              ) : null}
              <button type="submit" className="button-primary">
                Save settings
              </button>
            </div>
          </form>
        </section>
      )}
      {creating ? <CreateTenantDialog onClose={() => setCreating(false)} /> : null}
    </>
  );
}
