/** Rotate: a new secret for the same key, optionally keeping the old one working for an overlap; shown once. */

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Key } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { FormActions } from "../components/form-actions.js";
import { SecretReveal } from "../components/secret-reveal.js";
import { fieldErrorOf } from "../error-messages.js";
import { parseLocalDateTime, toLocalDateTime } from "../key-form.js";

const OVERLAPS: readonly [number, string][] = [
  [0, "None: the current secret stops working at once"],
  [3600, "1 hour"],
  [86_400, "24 hours"],
  [604_800, "7 days"],
];

export function RotateKeyDialog({ apiKey, onClose }: { readonly apiKey: Key; readonly onClose: () => void }) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [overlap, setOverlap] = useState(0);
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<{ overlap?: string; expires?: string }>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const expiry = parseLocalDateTime(expires);
    if (expiry === "invalid") {
      setErrors({ expires: "Enter a date and time." });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const response = await createClient(KeyAdminService, transport).rotateKey({
        keyId: apiKey.keyId,
        etag: apiKey.etag,
        ...(overlap === 0 ? {} : { overlap: { seconds: BigInt(overlap) } }),
        ...(expiry === null ? {} : { expireTime: timestampFromDate(expiry) }),
      });
      await queryClient.invalidateQueries();
      setSecret(response.secret);
    } catch (error) {
      const fieldError = fieldErrorOf(error);
      if (fieldError?.field === "overlap" || fieldError?.field === "expire_time") {
        setErrors({ [fieldError.field === "overlap" ? "overlap" : "expires"]: fieldError.message });
      } else {
        setFailure(error);
      }
    } finally {
      setBusy(false);
    }
  };

  if (secret !== null) {
    return (
      <Dialog title="Key rotated" onClose={onClose}>
        <SecretReveal secret={secret} keyId={apiKey.keyId} />
        <div className="dialog-actions">
          <button type="button" className="button-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog title={`Rotate “${apiKey.name}”`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p>
          Rotating issues a new secret for this key and keeps its configuration. Applications using the
          current secret must be updated before it stops working.
        </p>
        <Field
          label="Overlap"
          hint="How long the current secret keeps working beside the new one."
          error={errors.overlap}
        >
          <select value={overlap} onChange={(event) => setOverlap(Number(event.target.value))}>
            {OVERLAPS.map(([seconds, label]) => (
              <option key={seconds} value={seconds}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="New expiry" hint="Optional; empty keeps the current expiry." error={errors.expires}>
          <input
            type="datetime-local"
            value={expires}
            min={toLocalDateTime(new Date())}
            onChange={(event) => setExpires(event.target.value)}
          />
        </Field>
        <ErrorNotice error={failure} />
        <FormActions onCancel={onClose} busy={busy} label="Rotate key" busyLabel="Rotating…" />
      </form>
    </Dialog>
  );
}
