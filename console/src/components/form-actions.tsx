/** The buttons under a dialog form: Cancel, and the submit button, disabled while the request runs. */
export function FormActions({
  onCancel,
  busy,
  label,
  busyLabel = label,
}: {
  readonly onCancel: () => void;
  readonly busy: boolean;
  readonly label: string;
  readonly busyLabel?: string;
}) {
  return (
    <div className="dialog-actions">
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="button-primary" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}
