/**
 * Authorization groups: named permission sets with labels; create, edit, delete (a group in use is refused by the
 * API).
 */
import { createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { KeyAdminService } from "../../../src/gen/apikeys/v1/key_admin_service_pb.js";
import type { Group } from "../../../src/gen/apikeys/v1/key_pb.js";
import { Dialog } from "../components/dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { Field } from "../components/field.js";
import { FormActions } from "../components/form-actions.js";
import { LabelChips } from "../components/label-chips.js";
import { useConsole } from "../console-context.js";
import { fieldErrorOf } from "../error-messages.js";
import { formatTime } from "../format.js";
import { labelsText, parseLabels, parsePermissions } from "../key-form.js";
import { ConfirmDialog } from "./confirm-dialog.js";

/** GROUP_FIELDS are the group fields the dialog edits: the update mask, and the errors shown beside a field. */
const GROUP_FIELDS: readonly string[] = ["name", "description", "permissions", "labels"];

type Editing = { readonly mode: "create" } | { readonly mode: "edit"; readonly group: Group } | null;

export function GroupsPage() {
  const { tenantId } = useConsole();
  const transport = useTransport();
  const queryClient = useQueryClient();
  const groups = useQuery(KeyAdminService.method.listGroups, { tenantId, pageSize: 1000 });
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Group | null>(null);
  const list = groups.data?.groups ?? [];
  return (
    <>
      <div className="page-header">
        <div>
          <h1 tabIndex={-1}>Groups</h1>
          <p className="subtitle">
            Authorization groups of tenant {tenantId}: a key gets its group's current permissions.
          </p>
        </div>
        <div className="page-actions">
          <button type="button" className="button-primary" onClick={() => setEditing({ mode: "create" })}>
            Create group
          </button>
        </div>
      </div>
      <ErrorNotice error={groups.error} />
      {groups.data !== undefined && list.length === 0 ? <p className="empty">No groups yet.</p> : null}
      {list.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Groups</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Permissions</th>
                <th scope="col">Labels</th>
                <th scope="col">Keys</th>
                <th scope="col">Changed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((group) => (
                <tr key={group.groupId}>
                  <th scope="row">{group.name}</th>
                  <td>{group.description || "—"}</td>
                  <td>{group.permissions.length === 0 ? "—" : group.permissions.join(", ")}</td>
                  <td>
                    <LabelChips labels={group.labels} />
                  </td>
                  <td>{group.keyCount}</td>
                  <td>{formatTime(group.updateTime)}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="button"
                      aria-label={`Edit group ${group.name}`}
                      onClick={() => setEditing({ mode: "edit", group })}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="button-danger"
                      aria-label={`Delete group ${group.name}`}
                      onClick={() => setDeleting(group)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing === null ? null : (
        <GroupDialog
          tenantId={tenantId}
          group={editing.mode === "edit" ? editing.group : null}
          onClose={() => setEditing(null)}
        />
      )}
      {deleting === null ? null : (
        <ConfirmDialog
          title="Delete group"
          confirmLabel="Delete group"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await createClient(KeyAdminService, transport).deleteGroup({ groupId: deleting.groupId });
            await queryClient.invalidateQueries();
          }}
        >
          <p>
            Delete the group <strong>“{deleting.name}”</strong>? A group that keys still use cannot be
            deleted.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function GroupDialog({
  tenantId,
  group,
  onClose,
}: {
  readonly tenantId: string;
  readonly group: Group | null;
  readonly onClose: () => void;
}) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const [permissions, setPermissions] = useState(group?.permissions.join(" ") ?? "");
  const [labels, setLabels] = useState(labelsText(group?.labels ?? {}));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    setErrors({});
    const parsedLabels = parseLabels(labels);
    if (!parsedLabels.ok) {
      setErrors(parsedLabels.errors);
      return;
    }
    setBusy(true);
    const client = createClient(KeyAdminService, transport);
    const values = {
      name: name.trim(),
      description: description.trim(),
      permissions: parsePermissions(permissions),
      labels: parsedLabels.value,
    };
    try {
      if (group === null) {
        await client.createGroup({ tenantId, ...values });
      } else {
        await client.updateGroup({
          group: { groupId: group.groupId, ...values },
          updateMask: { paths: [...GROUP_FIELDS] },
        });
      }
      await queryClient.invalidateQueries();
      onClose();
    } catch (error) {
      const fieldError = fieldErrorOf(error);
      if (fieldError !== null && GROUP_FIELDS.includes(fieldError.field)) {
        setErrors({ [fieldError.field]: fieldError.message });
      } else {
        setFailure(error);
      }
      setBusy(false);
    }
  };
  return (
    <Dialog title={group === null ? "Create group" : `Edit group “${group.name}”`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Field label="Group name" hint="Unique in the tenant, 2 to 200 characters." error={errors.name}>
          <input value={name} onChange={(event) => setName(event.target.value)} required autoComplete="off" />
        </Field>
        <Field label="Group description" hint="Optional." error={errors.description}>
          <textarea value={description} rows={2} onChange={(event) => setDescription(event.target.value)} />
        </Field>
        <Field
          label="Group permissions"
          hint="Separated by spaces or commas, e.g. inventory:read inventory:write."
          error={errors.permissions}
        >
          <input
            value={permissions}
            onChange={(event) => setPermissions(event.target.value)}
            spellCheck={false}
          />
        </Field>
        <Field
          label="Group labels"
          hint="Optional: one key=value per line (team=payments). Keys: lowercase letters, digits, _ . -"
          error={errors.labels}
        >
          <textarea
            value={labels}
            rows={3}
            onChange={(event) => setLabels(event.target.value)}
            spellCheck={false}
          />
        </Field>
        <ErrorNotice error={failure} />
        <FormActions onCancel={onClose} busy={busy} label={group === null ? "Create group" : "Save group"} />
      </form>
    </Dialog>
  );
}
