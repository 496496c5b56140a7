/** One key: configuration, Edit / Rotate / Revoke / Delete, its usage log and its history. */
import { createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { type Key, KeyStatus } from "../../../src/gen/apikeys/v1/key_pb.js";
import { ExpirationBadge, StatusBadge } from "../components/badges.js";
import { ErrorNotice } from "../components/error-notice.js";
import { LabelChips } from "../components/label-chips.js";
import { useConsole } from "../console-context.js";
import { formatCount, formatTime, isoTime } from "../format.js";
import { Link, navigate } from "../router.js";
import { ConfirmDialog } from "./confirm-dialog.js";
import { EditKeyDialog } from "./edit-key-dialog.js";
import { KeyHistory, KeyUsageLog } from "./key-activity.js";
import { KeyUsageStats } from "./key-usage-stats.js";
import { RotateKeyDialog } from "./rotate-key-dialog.js";

type Action = "edit" | "rotate" | "disable" | "enable" | "revoke" | "delete" | null;

export function KeyDetailPage({ keyId }: { readonly keyId: string }) {
  const { isAdmin } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<Action>(null);
  const [revokeReason, setRevokeReason] = useState("");
  const result = useQuery(KeyAdminService.method.getKey, { keyId });
  const key = result.data?.key;
  const groups = useQuery(
    KeyAdminService.method.listGroups,
    { tenantId: key?.tenantId ?? "", pageSize: 1000 },
    { enabled: isAdmin && key !== undefined },
  );
  const groupName = (groupId: string) =>
    groups.data?.groups.find((group) => group.groupId === groupId)?.name ?? groupId;

  if (key === undefined) {
    return (
      <>
        <p>
          <Link to="/">← API Keys</Link>
        </p>
        <h1 tabIndex={-1}>Key {keyId}</h1>
        {result.error ? <ErrorNotice error={result.error} /> : <p aria-busy="true">Loading…</p>}
      </>
    );
  }
  const deleted = key.deleteTime !== undefined;
  const revoked = key.status === KeyStatus.REVOKED;
  const disabled = key.disableTime !== undefined;
  const refresh = () => queryClient.invalidateQueries();
  const client = createClient(KeyAdminService, transport);

  return (
    <>
      <p>
        <Link to="/">← API Keys</Link>
      </p>
      <div className="page-header">
        <div>
          <h1 tabIndex={-1}>{key.name}</h1>
          <p className="subtitle">
            <code>{key.displayHint}</code> <StatusBadge status={key.status} />{" "}
            <ExpirationBadge state={key.expirationState} />
            {deleted ? <span className="badge badge-bad">Deleted</span> : null}
          </p>
        </div>
        {isAdmin && !deleted ? (
          <div className="page-actions">
            {revoked ? null : (
              <>
                <button type="button" className="button" onClick={() => setAction("edit")}>
                  Edit
                </button>
                <button type="button" className="button" onClick={() => setAction("rotate")}>
                  Rotate
                </button>
                <button
                  type="button"
                  className="button"
                  onClick={() => setAction(disabled ? "enable" : "disable")}
                >
                  {disabled ? "Enable" : "Disable"}
                </button>
                <button type="button" className="button-danger" onClick={() => setAction("revoke")}>
                  Revoke
                </button>
              </>
            )}
            <button type="button" className="button-danger" onClick={() => setAction("delete")}>
              Delete
            </button>
          </div>
        ) : null}
      </div>
      {disabled && !revoked ? (
        <p className="notice notice-error" role="status">
          Disabled on <time dateTime={isoTime(key.disableTime)}>{formatTime(key.disableTime, true)}</time> by{" "}
          <code>{key.disabledBy}</code>
          {key.disableReason === "" ? "." : `: ${key.disableReason}`}
        </p>
      ) : null}
      {revoked ? (
        <p className="notice notice-error" role="status">
          Revoked on <time dateTime={isoTime(key.revokeTime)}>{formatTime(key.revokeTime, true)}</time> by{" "}
          <code>{key.revokedBy}</code>
          {key.revokeReason === "" ? "." : `: ${key.revokeReason}`}
        </p>
      ) : null}

      <section aria-labelledby="configuration-heading">
        <h2 id="configuration-heading">Configuration</h2>
        <KeyConfiguration key={key.keyId} apiKey={key} groupName={groupName} />
      </section>
      {isAdmin ? (
        <>
          <KeyUsageStats keyId={key.keyId} />
          <KeyUsageLog keyId={key.keyId} />
          <KeyHistory keyId={key.keyId} tenantId={key.tenantId} />
        </>
      ) : null}

      {action === "edit" ? (
        <EditKeyDialog
          apiKey={key}
          groups={groups.data?.groups ?? []}
          onClose={() => setAction(null)}
          onRotate={() => setAction("rotate")}
        />
      ) : null}
      {action === "rotate" ? <RotateKeyDialog apiKey={key} onClose={() => setAction(null)} /> : null}
      {action === "revoke" ? (
        <ConfirmDialog
          title="Revoke API key"
          confirmLabel="Revoke key"
          onClose={() => setAction(null)}
          onConfirm={async () => {
            await client.revokeKey({ keyId: key.keyId, reason: revokeReason.trim(), etag: key.etag });
            setRevokeReason("");
            await refresh();
          }}
        >
          <p>
            Are you sure you want to revoke the API key <strong>“{key.name}”</strong>? This cannot be undone:
            every application using it loses access immediately.
          </p>
          <div className="field">
            <label htmlFor="revoke-reason">Reason (optional)</label>
            <input
              id="revoke-reason"
              value={revokeReason}
              onChange={(event) => setRevokeReason(event.target.value)}
            />
          </div>
        </ConfirmDialog>
      ) : null}
      {action === "disable" ? (
        <ConfirmDialog
          title="Disable API key"
          confirmLabel="Disable key"
          onClose={() => setAction(null)}
          onConfirm={async () => {
            await client.disableKey({ keyId: key.keyId, reason: revokeReason.trim(), etag: key.etag });
            setRevokeReason("");
            await refresh();
          }}
        >
          <p>
            Disable the API key <strong>“{key.name}”</strong>? Applications using it are refused until you
            enable it again; it keeps its place in the tenant's key limit.
          </p>
          <div className="field">
            <label htmlFor="disable-reason">Reason (optional)</label>
            <input
              id="disable-reason"
              value={revokeReason}
              onChange={(event) => setRevokeReason(event.target.value)}
            />
          </div>
        </ConfirmDialog>
      ) : null}
      {action === "enable" ? (
        <ConfirmDialog
          title="Enable API key"
          confirmLabel="Enable key"
          onClose={() => setAction(null)}
          onConfirm={async () => {
            await client.enableKey({ keyId: key.keyId, etag: key.etag });
            await refresh();
          }}
        >
          <p>
            Enable the API key <strong>“{key.name}”</strong> again? Applications using it are accepted at
            once.
          </p>
        </ConfirmDialog>
      ) : null}
      {action === "delete" ? (
        <ConfirmDialog
          title="Delete API key"
          confirmLabel="Delete key"
          onClose={() => setAction(null)}
          onConfirm={async () => {
            await client.deleteKey({ keyId: key.keyId, etag: key.etag });
            await refresh();
            navigate("/");
          }}
        >
          <p>
            Are you sure you want to delete the API key <strong>“{key.name}”</strong>? It stops working at
            once and disappears from the list; its audit history stays.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function KeyConfiguration({
  apiKey: key,
  groupName,
}: {
  readonly apiKey: Key;
  readonly groupName: (id: string) => string;
}) {
  const rows: [string, React.ReactNode][] = [
    ["Key ID", <code key="id">{key.keyId}</code>],
    ["Tenant", key.tenantId],
    ["Description", key.description || "—"],
    ["Associated user", key.userId || "—"],
    ["Group", key.groupId === "" ? "—" : groupName(key.groupId)],
    ["Permissions", key.permissions.length === 0 ? "—" : key.permissions.join(", ")],
    ["IP allowlist", key.ipAllowlist.length === 0 ? "Any address" : key.ipAllowlist.join(", ")],
    ["Labels", <LabelChips key="labels" labels={key.labels} />],
    ["Requests in the last 24 hours", formatCount(key.requestsLast24h)],
    ["Created", `${formatTime(key.createTime)} by ${key.createdBy}`],
    ["Last changed", formatTime(key.updateTime)],
    ["Last used", key.lastUsedTime === undefined ? "Never" : formatTime(key.lastUsedTime)],
    ["Expires", key.expireTime === undefined ? "Never" : formatTime(key.expireTime)],
    [
      "Secrets",
      key.secrets
        .map((secret) =>
          secret.expireTime === undefined
            ? `#${secret.generation} ${secret.displayHint} (current)`
            : `#${secret.generation} ${secret.displayHint} (works until ${formatTime(secret.expireTime)})`,
        )
        .join("; ") || "—",
    ],
  ];
  if (key.revokeTime !== undefined) {
    rows.push(["Revoked", `${formatTime(key.revokeTime, true)} by ${key.revokedBy}`]);
  }
  if (key.deleteTime !== undefined) {
    rows.push(["Deleted", formatTime(key.deleteTime, true)]);
  }
  return (
    <dl className="details">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
