/**
 * The one-time secret, with a copy button and the warning that it will not be shown again. It lives only in
 * the state of the dialog that shows it: closing the dialog forgets it.
 */
import { useState } from "react";

export function SecretReveal({ secret, keyId }: { readonly secret: string; readonly keyId: string }) {
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <div className="secret">
      <p className="notice notice-warning">
        <strong>Copy this key now. You will not see it again.</strong> Store it in a secrets manager; if it is
        lost, rotate the key to get a new one.
      </p>
      <label htmlFor="secret-value">API key for {keyId}</label>
      <div className="secret-row">
        <input
          id="secret-value"
          className="secret-value"
          readOnly
          value={secret}
          spellCheck={false}
          autoComplete="off"
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" className="button-primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" className="field-hint">
        {copied === "yes"
          ? "Copied to the clipboard."
          : copied === "failed"
            ? "The browser refused the clipboard: select the key and copy it by hand."
            : ""}
      </p>
    </div>
  );
}
