/**
 * `apikeys recover-super-user`, the offline recovery of a lost super user, against a real server's database:
 * after Bootstrap was used (and its secret "lost"), the command issues a super-user key that authenticates
 * admin calls on the running server, the audit log records it as an offline recovery, and a pepper the
 * database does not record is refused before anything is written.
 */
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { checkPepperFingerprint } from "../../src/storage/pepper-fingerprint-store.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { useTestServer } from "../helpers/start-server.js";
import { runInProcess } from "./helpers/cli-runner.js";

const PEPPER = randomBytes(32).toString("hex");
const BOOTSTRAP_TOKEN = randomBytes(24).toString("hex");
const server = useTestServer("recoversu", {
  env: { KEY_HASH_PEPPER: PEPPER, BOOTSTRAP_TOKEN, KEY_PREFIX: "rk_test_" },
});

const SECRET_LINE = /^SECRET \(shown once, store it now\): (\S+)$/m;

function admin() {
  return createConnectClient(KeyAdminService, server.current.httpBaseUrl);
}

function bearer(key: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${key}` } };
}

async function recover(env: Record<string, string>, name = "break glass") {
  const { config } = server.current;
  return runInProcess(
    [
      "recover-super-user",
      "--mongodb-uri",
      config.mongo.uri ?? "",
      "--db",
      config.mongo.dbName,
      "--name",
      name,
    ],
    { env },
  );
}

/** written counts what a recovery could write: keys, audit events, tenant counters, the pepper record. */
async function written() {
  const { db } = server.current;
  return {
    keys: await db.collection("keys").countDocuments({}),
    events: await db.collection("audit_events").countDocuments({}),
    tenants: await db.collection("tenants").find({}).toArray(),
    settings: await db.collection("settings").find({}).toArray(),
  };
}

let lostRootKey = "";

beforeAll(async () => {
  const { db, config } = server.current;
  // What the service records at start (main checks the pepper before serving).
  await checkPepperFingerprint(db, config.keys.pepper, config.keys.previousPeppers);
  const bootstrapped = await admin().bootstrap({ bootstrapToken: BOOTSTRAP_TOKEN });
  lostRootKey = bootstrapped.secret;
  expect(lostRootKey).not.toBe("");
});

describe("apikeys recover-super-user", () => {
  it("refuses a pepper the database does not record, writing nothing", async () => {
    const before = await written();
    const run = await recover({ KEY_HASH_PEPPER: randomBytes(32).toString("hex"), KEY_PREFIX: "rk_test_" });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/^apikeys: recovery refused: KEY_HASH_PEPPER: changed since/);
    expect(run.stdout).not.toMatch(SECRET_LINE);
    expect(await written()).toEqual(before);
  });

  it("refuses to run without KEY_HASH_PEPPER (no development fallback), writing nothing", async () => {
    const before = await written();
    const run = await recover({ KEY_PREFIX: "rk_test_" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("KEY_HASH_PEPPER: is required");
    expect(await written()).toEqual(before);
  });

  it("issues a super-user key that works on the running server, audited as an offline recovery", async () => {
    const run = await recover({ KEY_HASH_PEPPER: PEPPER, KEY_PREFIX: "rk_test_" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const secret = SECRET_LINE.exec(run.stdout)?.[1] ?? "";
    expect(secret).toMatch(/^rk_test_/);
    expect(secret).not.toBe(lostRootKey);

    // An admin call on the server, which read nothing of this key before.
    const caller = await admin().getCaller({}, bearer(secret));
    expect(caller.tenantId).toBe("_system");
    const listing = await admin().listKeys({ tenantId: "_system" }, bearer(secret));
    const recovered = listing.keys.find((key) => secret.startsWith(`${key.keyId}_`));
    expect(recovered?.name).toBe("break glass");
    expect(recovered?.permissions).toEqual(["apikeys:superuser"]);

    const events = await server.current.db
      .collection("audit_events")
      .find({ "detail.kind": "admin", "detail.keyId": recovered?.keyId })
      .toArray();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: "_system",
      detail: {
        action: "key_created",
        actorKeyId: "offline-recovery",
        changedFields: ["name", "permissions"],
      },
    });
    // The secret is shown once, on its line, and stored nowhere.
    expect(JSON.stringify(events)).not.toContain(secret.slice(-20));
    expect(JSON.stringify(await server.current.db.collection("keys").find({}).toArray())).not.toContain(
      secret.slice(-20),
    );
  });

  it("leaves Bootstrap refused, and its refusal names the command", async () => {
    const failure = await admin()
      .bootstrap({ bootstrapToken: BOOTSTRAP_TOKEN })
      .then(
        () => null,
        (error: unknown) => ConnectError.from(error),
      );
    expect(failure?.code).toBe(Code.FailedPrecondition);
    expect(failure?.rawMessage).toContain("apikeys recover-super-user");
  });
});
