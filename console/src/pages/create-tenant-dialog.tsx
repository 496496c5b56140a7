/** Create tenant (super users): id, display name and key limit; the new tenant is then put in view. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { FormActions } from "../components/form-actions.js";
import { useConsole } from "../console-context.js";
import {
  createTenantRequestOf,
  EMPTY_TENANT_FORM,
  type TenantFormField,
  type TenantFormValues,
  tenantFormFieldOf,
} from "../tenant-form.js";
import { useFormSubmit } from "../use-form-submit.js";

export function CreateTenantDialog({ onClose }: { readonly onClose: () => void }) {
  const { switchTenant } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<TenantFormValues>(EMPTY_TENANT_FORM);
  const { form, errors, failure, busy, submit } = useFormSubmit({
    parse: () => createTenantRequestOf(values),
    send: async (request) => {
      await createClient(KeyAdminService, transport).createTenant(request);
      await queryClient.invalidateQueries();
      switchTenant(request.tenantId);
      onClose();
    },
    fieldOf: tenantFormFieldOf,
  });
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
        <FormActions onCancel={onClose} busy={busy} label="Create tenant" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}
