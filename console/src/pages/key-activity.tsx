/** A key's usage log (every verification) and history (every admin change), newest first, paged. */
import { useQuery } from "@connectrpc/connect-query";
import { keepPreviousData } from "@tanstack/react-query";
import { AuditService } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { ErrorNotice } from "../components/error-notice.js";
import { PagerControls, usePager } from "../components/pager.js";
import { actionLabel, changedFieldsText, codeLabel, fieldChangeOf, formatTime, isoTime } from "../format.js";

const PAGE_SIZE = 20;

export function KeyUsageLog({ keyId }: { readonly keyId: string }) {
  const pager = usePager(keyId);
  const usage = useQuery(
    AuditService.method.listKeyUsage,
    { keyId, pageSize: PAGE_SIZE, pageToken: pager.token },
    { placeholderData: keepPreviousData },
  );
  const events = usage.data?.events ?? [];
  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">Usage log</h2>
      <ErrorNotice error={usage.error} />
      {usage.data !== undefined && events.length === 0 ? <p className="empty">Not used yet.</p> : null}
      {events.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Usage log</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Client IP</th>
                <th scope="col">Result</th>
                <th scope="col">HTTP status</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => {
                const detail = event.detail.case === "usage" ? event.detail.value : undefined;
                return (
                  <tr key={event.eventId}>
                    <td>
                      <time dateTime={isoTime(event.time)}>{formatTime(event.time, true)}</time>
                    </td>
                    <td>
                      <code>{detail?.endpoint || "—"}</code>
                    </td>
                    <td>{detail?.clientIp || "—"}</td>
                    <td>{detail === undefined ? "—" : codeLabel(detail.code)}</td>
                    <td>{detail?.httpStatus ?? "—"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <PagerControls pager={pager} nextPageToken={usage.data?.nextPageToken} label="Usage log pages" />
    </section>
  );
}

export function KeyHistory({ keyId, tenantId }: { readonly keyId: string; readonly tenantId: string }) {
  const pager = usePager(keyId);
  const history = useQuery(
    AuditService.method.listAdminEvents,
    { tenantId, keyId, pageSize: PAGE_SIZE, pageToken: pager.token },
    { placeholderData: keepPreviousData },
  );
  const events = history.data?.events ?? [];
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ErrorNotice error={history.error} />
      {history.data !== undefined && events.length === 0 ? (
        <p className="empty">No changes recorded.</p>
      ) : null}
      {events.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">History</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">What changed</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => {
                const detail = event.detail.case === "admin" ? event.detail.value : undefined;
                return (
                  <tr key={event.eventId}>
                    <td>
                      <time dateTime={isoTime(event.time)}>{formatTime(event.time, true)}</time>
                    </td>
                    <td>
                      <code>{detail?.actorKeyId ?? "—"}</code>
                      {detail?.actorUserId ? ` (${detail.actorUserId})` : ""}
                    </td>
                    <td>{detail === undefined ? "—" : actionLabel(detail.action)}</td>
                    <td>
                      {detail === undefined ? "—" : changedFieldsText(detail.changedFields)}
                      {detail !== undefined && detail.changes.length > 0 ? (
                        <ul className="field-changes">
                          {detail.changes.map((change) => {
                            const { label, before, after } = fieldChangeOf(change);
                            return (
                              <li key={change.field}>
                                {label}: <del>{before}</del> → <ins>{after}</ins>
                              </li>
                            );
                          })}
                        </ul>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <PagerControls pager={pager} nextPageToken={history.data?.nextPageToken} label="History pages" />
    </section>
  );
}
