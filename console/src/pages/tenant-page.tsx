/** Tenant settings (super users): the tenant's key limit, or the server default. */
import { createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { useConsole } from "../console-context.js";
import { fieldErrorOf } from "../error-messages.js";

export function TenantPage() {
  const { tenantId } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const result = useQuery(KeyAdminService.method.getTenant, { tenantId });
  const tenant = result.data?.tenant;
  const [limit, setLimit] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    if (tenant !== undefined) {
      setLimit(String(tenant.keyLimit));
    }
  }, [tenant]);

  const save = async (keyLimit: number | undefined) => {
    setFailure(null);
    setError(undefined);
    setSaved("");
    try {
      await createClient(KeyAdminService, transport).updateTenant({
        tenantId,
        ...(keyLimit === undefined ? {} : { keyLimit }),
      });
      await queryClient.invalidateQueries();
      setSaved(
        keyLimit === undefined ? "The server default applies again." : `Key limit set to ${keyLimit}.`,
      );
    } catch (failed) {
      const fieldError = fieldErrorOf(failed);
      if (fieldError?.field === "key_limit") {
        setError(fieldError.message);
      } else {
        setFailure(failed);
      }
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = Number(limit);
    if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
      setError("Enter a whole number from 1 to 1,000,000.");
      return;
    }
    void save(value);
  };

  return (
    <>
      <h1 tabIndex={-1}>Tenant settings</h1>
      <p className="subtitle">Tenant {tenantId}.</p>
      <ErrorNotice error={result.error} />
      {tenant === undefined ? null : (
        <section className="card" aria-labelledby="limit-heading">
          <h2 id="limit-heading">Key limit</h2>
          <p>
            Uses{" "}
            <strong>
              {tenant.usedKeys}/{tenant.keyLimit} keys
            </strong>{" "}
            ({tenant.keyLimitOverridden ? "set for this tenant" : "the server default"}). Active and expired
            keys count until they are revoked or deleted; a lower limit keeps existing keys working and
            refuses new ones.
          </p>
          <form onSubmit={submit} noValidate>
            <Field label="Key limit" hint="1 to 1,000,000 keys." error={error}>
              <input
                type="number"
                min={1}
                max={1_000_000}
                value={limit}
                onChange={(event) => setLimit(event.target.value)}
              />
            </Field>
            <ErrorNotice error={failure} />
            <p role="status">{saved}</p>
            <div className="dialog-actions">
              {tenant.keyLimitOverridden ? (
                <button type="button" className="button" onClick={() => void save(undefined)}>
                  Use the server default
                </button>
              ) : null}
              <button type="submit" className="button-primary">
                Save limit
              </button>
            </div>
          </form>
        </section>
      )}
    </>
  );
}
