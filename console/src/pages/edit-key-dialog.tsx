/** Edit a key's configuration; only changed fields are sent. The expiry may only move earlier. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Group, Key } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { FormActions } from "../components/form-actions.js";
import { KeyFormFields } from "../components/key-form-fields.js";
import { formFieldOf, type KeyFormValues, keyFormOf, keyUpdateOf, toLocalDateTime } from "../key-form.js";
import { useFormSubmit } from "../use-form-submit.js";

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
  const { form, errors, failure, busy, submit } = useFormSubmit({
    parse: () => keyUpdateOf(apiKey, values, new Date()),
    send: async ({ paths, ...changed }) => {
      if (paths.length > 0) {
        await createClient(KeyAdminService, transport).updateKey({
          // The etag read with the key: a change made meanwhile refuses this one (ABORTED) instead of being lost.
          key: { keyId: apiKey.keyId, etag: apiKey.etag, ...changed },
          updateMask: { paths },
        });
        await queryClient.invalidateQueries();
      }
      onClose();
    },
    fieldOf: formFieldOf,
  });

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
        <FormActions onCancel={onClose} busy={busy} label="Save" busyLabel="Saving…" />
      </form>
    </Dialog>
  );
}
