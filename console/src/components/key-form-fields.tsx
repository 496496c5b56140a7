/** The key form's fields, shared by Create and Edit. */
import type { Group } from "../../../src/gen/apikeys/v1/key_pb.js";
import type { FieldErrors, KeyFormField, KeyFormValues } from "../key-form.js";
import { Field } from "./field.js";

export function KeyFormFields({
  values,
  errors,
  groups,
  onChange,
  expiryHint,
  minExpiry,
}: {
  readonly values: KeyFormValues;
  readonly errors: FieldErrors;
  readonly groups: readonly Group[];
  readonly onChange: (field: KeyFormField, value: string) => void;
  readonly expiryHint: string;
  readonly minExpiry: string;
}) {
  const bind = (field: KeyFormField) => ({
    value: values[field],
    onChange: (event: { target: { value: string } }) => onChange(field, event.target.value),
  });
  return (
    <>
      <Field label="Name" hint="2 to 200 characters, e.g. “ERP Integration”." error={errors.name}>
        <input {...bind("name")} required autoComplete="off" />
      </Field>
      <Field label="Description" hint="Optional: what the key is for." error={errors.description}>
        <textarea {...bind("description")} rows={2} />
      </Field>
      <Field
        label="Associated user"
        hint="Optional: the user the key acts for; that user can see it with their own key."
        error={errors.userId}
      >
        <input {...bind("userId")} autoComplete="off" spellCheck={false} />
      </Field>
      <Field label="Group" hint="The key gets the group's current permissions." error={errors.groupId}>
        <select {...bind("groupId")}>
          <option value="">No group</option>
          {groups.map((group) => (
            <option key={group.groupId} value={group.groupId}>
              {group.name}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label="Permissions"
        hint="Optional, separated by spaces or commas, e.g. orders:read orders:write."
        error={errors.permissions}
      >
        <input {...bind("permissions")} autoComplete="off" spellCheck={false} />
      </Field>
      <Field label="Expires" hint={expiryHint} error={errors.expires}>
        <input type="datetime-local" {...bind("expires")} min={minExpiry} />
      </Field>
      <Field
        label="IP allowlist"
        hint="Optional: one address or CIDR range per line (10.0.0.0/8, 2001:db8::/32). Empty allows any address."
        error={errors.ipAllowlist}
      >
        <textarea {...bind("ipAllowlist")} rows={3} spellCheck={false} />
      </Field>
      <Field
        label="Labels"
        hint="Optional: one key=value per line (tier=gold), returned with every successful verification. Keys: lowercase letters, digits, _ . -"
        error={errors.labels}
      >
        <textarea {...bind("labels")} rows={3} spellCheck={false} />
      </Field>
    </>
  );
}
