/** Create tenant (super users): id, display name and key limit; the new tenant is then put in view. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { useConsole } from "../console-context.js";
import { formErrorsOf } from "../error-messages.js";
import {
  createTenantRequestOf,
  EMPTY_TENANT_FORM,
  type TenantFieldErrors,
  type TenantFormField,
  type TenantFormValues,
  tenantFormFieldOf,
} from "../tenant-form.js";
import { useFocusInvalid } from "../use-focus-invalid.js";

export function CreateTenantDialog({ onClose }: { readonly onClose: () => void }) {
  const { switchTenant } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<TenantFormValues>(EMPTY_TENANT_FORM);
  const [errors, setErrors] = useState<TenantFieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusInvalid(form, errors);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const parsed = createTenantRequestOf(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await createClient(KeyAdminService, transport).createTenant(parsed.value);
      await queryClient.invalidateQueries();
      switchTenant(parsed.value.tenantId);
      onClose();
    } catch (error) {
      const fieldErrors = formErrorsOf(error, tenantFormFieldOf);
      if (fieldErrors !== null) {
        setErrors(fieldErrors);
      } else {
        setFailure(error);
      }
      setBusy(false);
    }
  };
  const bind = (field: TenantFormField) => ({
    value: values[field],
    onChange: (event: { target: { value: string } }) =>
      setValues((current) => ({ ...current, [field]: event.target.value })),
  });

  return (
    <Dialog title="Create tenant" onClose={onClose}>
      <form ref={form} onSubmit={submit} noValidate>
        <Field
          label="Tenant ID"
          hint="Lowercase letters, digits, - and _, up to 64 characters; it cannot be changed later."
          error={errors.tenantId}
        >
          <input {...bind("tenantId")} required autoComplete="off" spellCheck={false} />
        </Field>
        <Field label="Display name" hint="Optional: 2 to 200 characters." error={errors.displayName}>
          <input {...bind("displayName")} autoComplete="off" />
        </Field>
        <Field
          label="Key limit"
          hint="Optional: 1 to 1,000,000 keys; empty uses the server default."
          error={errors.keyLimit}
        >
          <input type="number" min={1} max={1_000_000} {...bind("keyLimit")} />
        </Field>
        <ErrorNotice error={failure} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? "Creating…" : "Create tenant"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
