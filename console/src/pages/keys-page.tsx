/** API Keys: the tenant's keys with filters, search, pages, usage "used/limit" and Create. */
import { useQuery } from "@connectrpc/connect-query";
import { keepPreviousData } from "@tanstack/react-query";
import { useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ExpirationState, KeyStatus } from "../../../src/gen/apikeys/v1/key_pb.js";
import { ExpirationBadge, StatusBadge } from "../components/badges.js";
import { ErrorNotice } from "../components/error-notice.js";
import { LabelChips } from "../components/label-chips.js";
import { PagerControls, usePager } from "../components/pager.js";
import { useConsole } from "../console-context.js";
import { expirationLabel, formatCount, formatTime, isoTime, statusLabel } from "../format.js";
import { keyPath, Link } from "../router.js";
import { useDebounced } from "../use-debounced.js";
import { CreateKeyDialog } from "./create-key-dialog.js";

const PAGE_SIZE = 20;
const STATUSES = [
  KeyStatus.UNSPECIFIED,
  KeyStatus.ACTIVE,
  KeyStatus.DISABLED,
  KeyStatus.EXPIRED,
  KeyStatus.REVOKED,
];
const EXPIRATION_STATES = [
  ExpirationState.UNSPECIFIED,
  ExpirationState.VALID,
  ExpirationState.EXPIRING_SOON,
  ExpirationState.EXPIRED,
];

export function KeysPage() {
  const { tenantId, isAdmin, isSuperuser, caller } = useConsole();
  const [status, setStatus] = useState(KeyStatus.UNSPECIFIED);
  const [expirationState, setExpirationState] = useState(ExpirationState.UNSPECIFIED);
  const [search, setSearch] = useState("");
  const [showDeleted, setShowDeleted] = useState(false);
  const [creating, setCreating] = useState(false);
  const nameQuery = useDebounced(search.trim(), 250);
  const pager = usePager(JSON.stringify([tenantId, status, expirationState, nameQuery, showDeleted]));
  const listing = useQuery(
    KeyAdminService.method.listKeys,
    {
      // Key holders list their own user's keys in their own tenant: the server fills both in.
      tenantId: isAdmin ? tenantId : "",
      pageSize: PAGE_SIZE,
      pageToken: pager.token,
      status,
      expirationState,
      nameQuery,
      showDeleted: isAdmin && showDeleted,
    },
    { placeholderData: keepPreviousData },
  );
  const groups = useQuery(
    KeyAdminService.method.listGroups,
    { tenantId, pageSize: 1000 },
    { enabled: isAdmin },
  );
  const groupNames = new Map((groups.data?.groups ?? []).map((group) => [group.groupId, group.name]));
  const tenant = listing.data?.tenant;
  const atLimit = tenant !== undefined && tenant.usedKeys >= tenant.keyLimit;
  const keys = listing.data?.keys ?? [];
  const filtered =
    status !== KeyStatus.UNSPECIFIED || expirationState !== ExpirationState.UNSPECIFIED || nameQuery !== "";

  return (
    <>
      <div className="page-header">
        <div>
          <h1 tabIndex={-1}>API Keys</h1>
          <p className="subtitle">
            {isAdmin
              ? `Keys of tenant ${tenantId}.`
              : `Keys of your user ${caller.userId || "(none)"} in ${caller.tenantId}. Read-only.`}
          </p>
        </div>
        {isAdmin ? (
          <div className="page-actions">
            {tenant === undefined ? null : (
              <span className="usage">
                {tenant.usedKeys}/{tenant.keyLimit} keys
              </span>
            )}
            <button
              type="button"
              className="button-primary"
              disabled={atLimit || tenant === undefined}
              aria-describedby={atLimit ? "key-limit-reason" : undefined}
              onClick={() => setCreating(true)}
            >
              Create API key
            </button>
          </div>
        ) : null}
      </div>
      {atLimit && tenant !== undefined ? (
        <p className="notice notice-warning" id="key-limit-reason">
          Key limit reached: the tenant holds {tenant.usedKeys} of {tenant.keyLimit} keys. Revoke or delete a
          key
          {isSuperuser ? ", or raise the limit in Tenant settings," : ""} to create another.
        </p>
      ) : null}

      <form className="filters" aria-label="Filter keys" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-search">Search by name</label>
          <input
            id="filter-search"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            autoComplete="off"
          />
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={status}
            onChange={(event) => setStatus(Number(event.target.value) as KeyStatus)}
          >
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {statusLabel(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-expiration">Expiration</label>
          <select
            id="filter-expiration"
            value={expirationState}
            onChange={(event) => setExpirationState(Number(event.target.value) as ExpirationState)}
          >
            {EXPIRATION_STATES.map((value) => (
              <option key={value} value={value}>
                {expirationLabel(value)}
              </option>
            ))}
          </select>
        </div>
        {isAdmin ? (
          <div className="field field-inline">
            <input
              id="filter-deleted"
              type="checkbox"
              checked={showDeleted}
              onChange={(event) => setShowDeleted(event.target.checked)}
            />
            <label htmlFor="filter-deleted">Show deleted</label>
          </div>
        ) : null}
      </form>

      <ErrorNotice error={listing.error} />
      {listing.isPending ? <p aria-busy="true">Loading keys…</p> : null}
      {listing.data !== undefined && keys.length === 0 ? (
        <p className="empty">{filtered ? "No keys match these filters." : "No keys yet."}</p>
      ) : null}
      {keys.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">User</th>
                <th scope="col">Group</th>
                <th scope="col">Labels</th>
                <th scope="col">Status</th>
                <th scope="col">Expiration</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col" className="numeric">
                  Requests (24 h)
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.keyId} className={key.deleteTime === undefined ? undefined : "row-deleted"}>
                  <th scope="row">
                    <Link to={keyPath(key.keyId)}>{key.name}</Link>
                    {key.deleteTime === undefined ? null : <span className="badge">Deleted</span>}
                  </th>
                  <td>
                    <code>{key.displayHint}</code>
                  </td>
                  <td>{key.userId || "—"}</td>
                  <td>{key.groupId === "" ? "—" : (groupNames.get(key.groupId) ?? key.groupId)}</td>
                  <td>
                    <LabelChips labels={key.labels} />
                  </td>
                  <td>
                    <StatusBadge status={key.status} />
                  </td>
                  <td>
                    <ExpirationBadge state={key.expirationState} />
                  </td>
                  <td>
                    <time dateTime={isoTime(key.createTime)}>{formatTime(key.createTime)}</time>
                  </td>
                  <td>
                    <time dateTime={isoTime(key.expireTime)}>
                      {key.expireTime === undefined ? "Never" : formatTime(key.expireTime)}
                    </time>
                  </td>
                  <td>
                    <time dateTime={isoTime(key.lastUsedTime)}>
                      {key.lastUsedTime === undefined ? "Never" : formatTime(key.lastUsedTime)}
                    </time>
                  </td>
                  <td className="numeric">{formatCount(key.requestsLast24h)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <PagerControls pager={pager} nextPageToken={listing.data?.nextPageToken} label="Key pages" />
      {creating ? (
        <CreateKeyDialog
          tenantId={tenantId}
          groups={groups.data?.groups ?? []}
          onClose={() => setCreating(false)}
        />
      ) : null}
    </>
  );
}
