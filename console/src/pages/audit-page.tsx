/** Live audit: the audit stream, newest first, pausable, filtered by kind, resuming after a dropped connection. */
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useEffect, useRef, useState } from "react";
import { type AuditEvent, AuditEventKind } from "../../../src/gen/apikeys/v1/audit_pb.js";
import { AuditService } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { type FollowStatus, followAuditEvents } from "../audit-follower.js";
import { ErrorNotice } from "../components/error-notice.js";
import { useConsole } from "../console-context.js";
import { actionLabel, changedFieldsText, codeLabel, formatTime, isoTime, kindLabel } from "../format.js";

/** The page keeps the newest events only; the full log is in the key pages and ListAdminEvents. */
const KEPT_EVENTS = 500;
const KINDS = [AuditEventKind.UNSPECIFIED, AuditEventKind.USAGE, AuditEventKind.ADMIN];

export function AuditPage() {
  const { tenantId, isSuperuser } = useConsole();
  const transport = useTransport();
  const [kind, setKind] = useState(AuditEventKind.UNSPECIFIED);
  const [paused, setPaused] = useState(false);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [status, setStatus] = useState<FollowStatus>({ state: "connecting" });
  // The resume position survives pauses and filter changes: following on from it misses nothing.
  const cursor = useRef("");

  useEffect(() => {
    if (paused) {
      return;
    }
    const controller = new AbortController();
    void followAuditEvents(createClient(AuditService, transport), {
      tenantId,
      kinds: kind === AuditEventKind.UNSPECIFIED ? [] : [kind],
      resumeCursor: cursor.current,
      signal: controller.signal,
      onEvent: (event) => setEvents((current) => [event, ...current].slice(0, KEPT_EVENTS)),
      onStatus: setStatus,
      onCursor: (next) => {
        cursor.current = next;
      },
    });
    return () => controller.abort();
  }, [transport, tenantId, kind, paused]);

  const statusText = paused
    ? "Paused: new events wait on the server and arrive when you resume."
    : status.state === "live"
      ? "Live: new events appear at the top."
      : status.state === "connecting"
        ? "Connecting…"
        : status.state === "reconnecting"
          ? `Connection lost; reconnecting in ${Math.ceil(status.inMs / 1000)} s from the last event received.`
          : "Stopped.";

  return (
    <>
      <h1 tabIndex={-1}>Live audit</h1>
      <p className="subtitle">
        Every verification and admin change {isSuperuser ? `in tenant ${tenantId}` : "in your tenant"}, as it
        happens.
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor="audit-kind">Kind</label>
          <select
            id="audit-kind"
            value={kind}
            onChange={(event) => setKind(Number(event.target.value) as AuditEventKind)}
          >
            {KINDS.map((value) => (
              <option key={value} value={value}>
                {kindLabel(value)}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button"
          onClick={() => setPaused((value) => !value)}
          aria-pressed={paused}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        <p role="status" className={`stream-status stream-${paused ? "paused" : status.state}`}>
          {statusText}
        </p>
      </div>
      {status.state === "stopped" && !paused ? <ErrorNotice error={status.error} /> : null}
      {events.length === 0 ? <p className="empty">No events yet.</p> : null}
      <ol className="audit-list" aria-label="Audit events, newest first">
        {events.map((event) => (
          <li key={event.eventId} className="audit-event">
            <time dateTime={isoTime(event.time)}>{formatTime(event.time, true)}</time>
            <span className="badge">{kindLabel(event.kind)}</span>
            <AuditSummary event={event} />
          </li>
        ))}
      </ol>
    </>
  );
}

function AuditSummary({ event }: { readonly event: AuditEvent }) {
  if (event.detail.case === "usage") {
    const usage = event.detail.value;
    return (
      <span>
        {codeLabel(usage.code)} ({usage.httpStatus}) · <code>{usage.keyId || "unknown key"}</code> ·{" "}
        {usage.endpoint || "no endpoint"} · {usage.clientIp || "no IP"}
      </span>
    );
  }
  if (event.detail.case === "admin") {
    const admin = event.detail.value;
    const target = admin.keyId || admin.groupId || event.tenantId;
    return (
      <span>
        {actionLabel(admin.action)} · <code>{target}</code> by <code>{admin.actorKeyId}</code>
        {admin.changedFields.length === 0 ? "" : ` · ${changedFieldsText(admin.changedFields)}`}
      </span>
    );
  }
  return <span>—</span>;
}
