/**
 * The audit stream delivers one replica's events in the order the replica decided them, whichever port a
 * call came in on: a VerifyKey answered on the gRPC port, then a RevokeKey, then a VerifyKey answered on
 * the HTTP port appear in exactly that order, every time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/gen/apikeys/v1/audit_pb.js";
import { AdminAction } from "../../src/gen/apikeys/v1/audit_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { useTestDatabase } from "../helpers/mongo.js";
import {
  type AuditNode,
  bearer,
  bootstrapSuperuser,
  createKey,
  openStream,
  startAuditNode,
  waitForFlushed,
} from "./helpers/audit-harness.js";

const ROUNDS = 5;
const database = useTestDatabase("auditorder");
let node: AuditNode;
let superuser: string;

beforeAll(async () => {
  node = await startAuditNode(database, "order-1", { AUDIT_HEARTBEAT_MS: "200" });
  superuser = await bootstrapSuperuser(node);
});

afterAll(async () => {
  await node?.stop();
});

/** summary reduces an event to what the order is judged by. */
function summary(event: AuditEvent): string {
  if (event.detail.case === "usage") {
    return `usage ${event.detail.value.keyId} ${VerificationCode[event.detail.value.code]}`;
  }
  if (event.detail.case === "admin") {
    return `admin ${AdminAction[event.detail.value.action]} ${event.detail.value.keyId}`;
  }
  return "unknown";
}

describe("audit stream order on one replica", () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    "round %i: verify (gRPC), revoke, verify (HTTP) arrive in that order",
    async () => {
      const verified = await createKey(node, superuser, { tenantId: "orders", name: "verified" });
      const revoked = await createKey(node, superuser, { tenantId: "orders", name: "revoked" });
      await waitForFlushed([node]);

      const httpVerify = createConnectClient(KeyVerifyService, node.server.httpBaseUrl);
      const stream = openStream(node, "grpc", { tenantId: "orders" }, superuser);
      const iterator = stream.messages[Symbol.asyncIterator]();
      // The stream starts "now": wait for its first heartbeat so it is live before the calls are made.
      for (;;) {
        const first = await iterator.next();
        if (first.done === true || first.value.message.case === "heartbeat") {
          break;
        }
      }

      const first = await node.grpc.verify.verifyKey({ credential: { case: "key", value: verified.secret } });
      expect(first.code).toBe(VerificationCode.VALID);
      await node.grpc.admin.revokeKey({ keyId: revoked.keyId }, { metadata: bearer(superuser) });
      const second = await httpVerify.verifyKey({ credential: { case: "key", value: verified.secret } });
      expect(second.code).toBe(VerificationCode.VALID);

      const received: string[] = [];
      while (received.length < 3) {
        const next = await iterator.next();
        if (next.done === true) {
          break;
        }
        if (next.value.message.case === "event") {
          received.push(summary(next.value.message.value));
        }
      }
      stream.cancel();
      expect(received).toEqual([
        `usage ${verified.keyId} VALID`,
        `admin KEY_REVOKED ${revoked.keyId}`,
        `usage ${verified.keyId} VALID`,
      ]);
    },
  );
});
