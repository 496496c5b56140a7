/**
 * Revision history with values, over real servers on both transports: ListAdminEvents shows, for each field
 * a mutation changed, its previous and new value (lists for permissions and allowlists, an object for
 * labels, RFC 3339 text for times, generations for secrets); the tenant admin sees its own tenant's, an
 * ordinary key none; the CLI's history prints them; and no secret or hash ever appears in an event, as
 * answered or as stored.
 */
import { toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { AdminAction, type AuditEvent, AuditEventSchema } from "../../src/gen/apikeys/v1/audit_pb.js";
import { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { AUDIT_EVENTS_COLLECTION } from "../../src/storage/audit-event-store.js";
import { KEYS_COLLECTION } from "../../src/storage/key-document.js";
import { rpcFailure, TRANSPORTS, useAdminServer } from "../admin/helpers/admin-server.js";
import { createdTenant } from "../admin/helpers/created-tenant.js";
import { runInProcess } from "../cli/helpers/cli-runner.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { createGrpcJsClient } from "../helpers/grpc-client.js";

const admin = useAdminServer("historyvalues");

afterAll(async () => {
  await admin.expectNoSecretLeaks();
});

const json = (value: Value | undefined) => (value === undefined ? null : toJson(ValueSchema, value));

describe.each(TRANSPORTS)("admin history with values over %s", (transport) => {
  const api = () => admin.api(transport);
  const su = () => ({ key: admin.superuserKey() });
  const audit = () =>
    transport === "grpc-js"
      ? createGrpcJsClient(AuditService, admin.server.grpcAddress)
      : createConnectClient(AuditService, admin.server.httpBaseUrl);
  const options = (key: string) =>
    (transport === "grpc-js"
      ? { metadata: { authorization: `Bearer ${key}` } }
      : { headers: { authorization: `Bearer ${key}` } }) as never;

  let tenantId = "";
  let keyId = "";
  let tenantAdminKey = "";
  let holderKey = "";
  let events: AuditEvent[] = [];

  beforeAll(async () => {
    tenantId = await createdTenant(api(), admin.superuserKey(), "hist");
    const created = await api().createKey(
      { tenantId, name: "ERP", permissions: ["orders:read"], ipAllowlist: ["10.0.0.0/8"] },
      su(),
    );
    keyId = created.key?.keyId ?? "";
    await api().updateKey(
      {
        key: { keyId, name: "ERP 2", ipAllowlist: ["10.0.0.0/8", "192.168.0.0/16"], permissions: [] },
        updateMask: { paths: ["name", "ip_allowlist", "permissions"] },
      },
      su(),
    );
    await api().rotateKey({ keyId }, su());
    await api().revokeKey({ keyId, reason: "leaked in a log" }, su());
    tenantAdminKey = (
      await api().createKey({ tenantId, name: "admin", permissions: ["apikeys:admin"] }, su())
    ).secret;
    holderKey = (await api().createKey({ tenantId, name: "holder", userId: "u1" }, su())).secret;
    events = (await audit().listAdminEvents({ tenantId, keyId }, options(admin.superuserKey()))).events;
  });

  const changesOf = (action: AdminAction) => {
    const event = events.find((e) => e.detail.case === "admin" && e.detail.value.action === action);
    if (event?.detail.case !== "admin") {
      throw new Error(`no ${AdminAction[action]} event`);
    }
    return Object.fromEntries(
      event.detail.value.changes.map((c) => [c.field, [json(c.oldValue), json(c.newValue)]]),
    );
  };

  it("shows the values a key was created with", () => {
    expect(changesOf(AdminAction.KEY_CREATED)).toEqual({
      name: [null, "ERP"],
      permissions: [null, ["orders:read"]],
      ip_allowlist: [null, ["10.0.0.0/8"]],
    });
  });

  it("shows each updated field before and after, lists as lists", () => {
    expect(changesOf(AdminAction.KEY_UPDATED)).toEqual({
      name: ["ERP", "ERP 2"],
      ip_allowlist: [["10.0.0.0/8"], ["10.0.0.0/8", "192.168.0.0/16"]],
      permissions: [["orders:read"], []],
    });
  });

  it("shows a rotation as secret generations and a revocation with its time and reason", () => {
    expect(changesOf(AdminAction.KEY_ROTATED)).toEqual({
      secrets: [[{ generation: 1, expire_time: null }], [{ generation: 2, expire_time: null }]],
    });
    const revoked = changesOf(AdminAction.KEY_REVOKED);
    expect(revoked.revoke_reason).toEqual(["", "leaked in a log"]);
    expect(revoked.revoke_time?.[0]).toBeNull();
    expect(typeof revoked.revoke_time?.[1]).toBe("string");
  });

  it("shows a disable and an enable with the time and reason", async () => {
    const other = (await api().createKey({ tenantId, name: "paused" }, su())).key?.keyId ?? "";
    await api().disableKey({ keyId: other, reason: "investigating" }, su());
    await api().enableKey({ keyId: other }, su());
    const history = (await audit().listAdminEvents({ tenantId, keyId: other }, options(admin.superuserKey())))
      .events;
    const changes = (action: AdminAction) => {
      const event = history.find((e) => e.detail.case === "admin" && e.detail.value.action === action);
      return event?.detail.case === "admin"
        ? Object.fromEntries(
            event.detail.value.changes.map((c) => [c.field, [json(c.oldValue), json(c.newValue)]]),
          )
        : null;
    };
    const disabled = changes(AdminAction.KEY_DISABLED);
    expect(disabled?.disable_reason).toEqual(["", "investigating"]);
    expect(disabled?.disable_time?.[0]).toBeNull();
    const enabled = changes(AdminAction.KEY_ENABLED);
    expect(enabled?.disable_time?.[0]).toBe(disabled?.disable_time?.[1]);
    expect(enabled?.disable_time?.[1]).toBeNull();
  });

  it("shows the values to the tenant's admin and to no ordinary key", async () => {
    const own = await audit().listAdminEvents({ keyId }, options(tenantAdminKey));
    expect(own.events.some((e) => e.detail.case === "admin" && e.detail.value.changes.length > 0)).toBe(true);
    const refused = await rpcFailure(audit().listAdminEvents({ keyId }, options(holderKey)));
    expect(refused.code).toBe("PERMISSION_DENIED");
  });

  it("never shows a secret or a hash, as answered or as stored", async () => {
    const stored = await admin.server.db.collection(KEYS_COLLECTION).findOne({ _id: keyId as never });
    const hashes = JSON.stringify(stored?.secrets ?? [])
      .match(/"hash":"([^"]+)"/g)
      ?.map((entry) => entry.slice(8, -1));
    expect(hashes?.length).toBeGreaterThan(0);
    const answered = JSON.stringify(events.map((event) => toJson(AuditEventSchema, event)));
    const storedEvents = JSON.stringify(
      await admin.server.db.collection(AUDIT_EVENTS_COLLECTION).find({ tenantId }).toArray(),
    );
    for (const text of [answered, storedEvents]) {
      for (const secret of [...admin.secrets, ...(hashes ?? [])]) {
        expect(text.includes(secret)).toBe(false);
      }
      expect(text).not.toMatch(/"hash"|pepper|"hint"/i);
    }
  });

  it("has the CLI's history print the values", async () => {
    const target =
      transport === "grpc-js" ? ["--server", admin.server.grpcAddress] : ["--url", admin.server.httpBaseUrl];
    const run = await runInProcess([...target, "audit", "history", "--tenant", tenantId, "--key-id", keyId], {
      env: { APIKEYS_ADMIN_KEY: admin.superuserKey() },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('    name: "ERP" -> "ERP 2"\n');
    expect(run.stdout).toContain('    ip_allowlist: ["10.0.0.0/8"] -> ["10.0.0.0/8","192.168.0.0/16"]\n');
  });
});
