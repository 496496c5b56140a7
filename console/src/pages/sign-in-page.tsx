/** Sign in with an API key issued by this service; the key is checked with GetCaller before it is kept. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ErrorNotice } from "../components/error-notice.js";
import { forgetKey, rememberKey } from "../session.js";

export function SignInPage({
  notice,
  onSignedIn,
}: {
  readonly notice: string | null;
  readonly onSignedIn: () => void;
}) {
  const transport = useTransport();
  const [key, setKey] = useState("");
  const [keepForTab, setKeepForTab] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    rememberKey(key.trim(), keepForTab);
    try {
      await createClient(KeyAdminService, transport).getCaller({});
      setKey("");
      onSignedIn();
    } catch (failure) {
      forgetKey();
      setError(failure);
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>Sign in to the API Keys console</h1>
      {notice === null ? null : (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form method="post" onSubmit={submit} className="card">
        <div className="field">
          <label htmlFor="sign-in-key">API key</label>
          <input
            ref={input}
            id="sign-in-key"
            type="password"
            value={key}
            onChange={(event) => setKey(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            required
            aria-describedby="sign-in-hint"
          />
          <p className="field-hint" id="sign-in-hint">
            A key issued by this service: a super-user or admin key manages keys; any other key shows the keys
            of its own user, read-only. It is sent as <code>authorization: Bearer …</code> and kept in memory
            only.
          </p>
        </div>
        <div className="field field-inline">
          <input
            id="sign-in-keep"
            type="checkbox"
            checked={keepForTab}
            onChange={(event) => setKeepForTab(event.target.checked)}
          />
          <label htmlFor="sign-in-keep">Stay signed in until this tab closes (session storage)</label>
        </div>
        <ErrorNotice error={error} />
        <button type="submit" className="button-primary" disabled={busy || key.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
