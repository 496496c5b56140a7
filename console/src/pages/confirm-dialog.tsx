/** A confirmation that names what it acts on; the action's error is shown in the dialog. */
import { type ReactNode, useState } from "react";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";

export function ConfirmDialog({
  title,
  confirmLabel,
  onConfirm,
  onClose,
  children,
}: {
  readonly title: string;
  readonly confirmLabel: string;
  readonly onConfirm: () => Promise<void>;
  readonly onClose: () => void;
  readonly children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const confirm = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await onConfirm();
      onClose();
    } catch (error) {
      setFailure(error);
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <ErrorNotice error={failure} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button-danger" disabled={busy} onClick={confirm}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
