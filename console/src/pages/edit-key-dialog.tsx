/** Edit a key's configuration; only changed fields are sent. The expiry may only move earlier. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Group, Key } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { KeyFormFields } from "../components/key-form-fields.js";
import { formErrorsOf } from "../error-messages.js";
import {
  type FieldErrors,
  formFieldOf,
  type KeyFormValues,
  keyFormOf,
  keyUpdateOf,
  toLocalDateTime,
} from "../key-form.js";
import { useFocusInvalid } from "../use-focus-invalid.js";

export function EditKeyDialog({
  apiKey,
  groups,
  onClose,
  onRotate,
}: {
  readonly apiKey: Key;
  readonly groups: readonly Group[];
  readonly onClose: () => void;
  readonly onRotate: () => void;
}) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<KeyFormValues>(() => keyFormOf(apiKey));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusInvalid(form, errors);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const parsed = keyUpdateOf(apiKey, values, new Date());
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    if (parsed.value.paths.length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      const { paths, ...changed } = parsed.value;
      await createClient(KeyAdminService, transport).updateKey({
        // The etag read with the key: a change made meanwhile refuses this one (ABORTED) instead of being lost.
        key: { keyId: apiKey.keyId, etag: apiKey.etag, ...changed },
        updateMask: { paths },
      });
      await queryClient.invalidateQueries();
      onClose();
    } catch (error) {
      const fieldErrors = formErrorsOf(error, formFieldOf);
      if (fieldErrors !== null) {
        setErrors(fieldErrors);
      } else {
        setFailure(error);
      }
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Edit “${apiKey.name}”`} onClose={onClose} wide>
      <form ref={form} onSubmit={submit} noValidate>
        <KeyFormFields
          values={values}
          errors={errors}
          groups={groups}
          onChange={(field, value) => setValues((current) => ({ ...current, [field]: value }))}
          expiryHint="The expiry can only move earlier, so a leaked secret never lives longer than it was issued for. To extend or remove it, rotate the key."
          minExpiry={toLocalDateTime(new Date())}
        />
        {errors.expires === undefined ? null : (
          <p>
            <button type="button" className="button" onClick={onRotate}>
              Rotate instead
            </button>
          </p>
        )}
        <ErrorNotice error={failure} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
