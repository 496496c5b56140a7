/** Create API key: the form, field-level server errors, then the secret shown once. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Group } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { FormActions } from "../components/form-actions.js";
import { KeyFormFields } from "../components/key-form-fields.js";
import { SecretReveal } from "../components/secret-reveal.js";
import {
  createKeyRequestOf,
  EMPTY_KEY_FORM,
  formFieldOf,
  type KeyFormValues,
  toLocalDateTime,
} from "../key-form.js";
import { useFormSubmit } from "../use-form-submit.js";

export function CreateKeyDialog({
  tenantId,
  groups,
  onClose,
}: {
  readonly tenantId: string;
  readonly groups: readonly Group[];
  readonly onClose: () => void;
}) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<KeyFormValues>(EMPTY_KEY_FORM);
  const [issued, setIssued] = useState<{ keyId: string; secret: string } | null>(null);
  const { form, errors, failure, busy, submit } = useFormSubmit({
    parse: () => createKeyRequestOf(values, tenantId, new Date()),
    send: async (request) => {
      const response = await createClient(KeyAdminService, transport).createKey(request);
      await queryClient.invalidateQueries();
      setIssued({ keyId: response.key?.keyId ?? "", secret: response.secret });
    },
    fieldOf: formFieldOf,
  });

  if (issued !== null) {
    return (
      <Dialog title="API key created" onClose={onClose}>
        <SecretReveal secret={issued.secret} keyId={issued.keyId} />
        <div className="dialog-actions">
          <button type="button" className="button-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog title={`Create API key in ${tenantId}`} onClose={onClose} wide>
      <form ref={form} onSubmit={submit} noValidate>
        <KeyFormFields
          values={values}
          errors={errors}
          groups={groups}
          onChange={(field, value) => setValues((current) => ({ ...current, [field]: value }))}
          expiryHint="Optional: date and time in your time zone; empty never expires."
          minExpiry={toLocalDateTime(new Date())}
        />
        <ErrorNotice error={failure} />
        <FormActions onCancel={onClose} busy={busy} label="Create key" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}
