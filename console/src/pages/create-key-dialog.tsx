/** Create API key: the form, field-level server errors, then the secret shown once. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Group } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { KeyFormFields } from "../components/key-form-fields.js";
import { SecretReveal } from "../components/secret-reveal.js";
import { formErrorsOf } from "../error-messages.js";
import {
  createKeyRequestOf,
  EMPTY_KEY_FORM,
  type FieldErrors,
  formFieldOf,
  type KeyFormValues,
  toLocalDateTime,
} from "../key-form.js";
import { useFocusInvalid } from "../use-focus-invalid.js";

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
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [issued, setIssued] = useState<{ keyId: string; secret: string } | null>(null);
  const form = useRef<HTMLFormElement>(null);
  useFocusInvalid(form, errors);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const parsed = createKeyRequestOf(values, tenantId, new Date());
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const response = await createClient(KeyAdminService, transport).createKey(parsed.value);
      await queryClient.invalidateQueries();
      setIssued({ keyId: response.key?.keyId ?? "", secret: response.secret });
    } catch (error) {
      const fieldErrors = formErrorsOf(error, formFieldOf);
      if (fieldErrors !== null) {
        setErrors(fieldErrors);
      } else {
        setFailure(error);
      }
    } finally {
      setBusy(false);
    }
  };

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
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? "Creating…" : "Create key"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
