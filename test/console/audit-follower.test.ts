/**
 * The console's audit follower against an in-memory Connect router: after a dropped connection it resumes
 * from the last cursor it received (event or heartbeat), shows an event the server repeats around the
 * reconnect only once, and stops on errors a reconnect cannot fix.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type FollowStatus, followAuditEvents } from "../../console/src/audit-follower.js";
import { type AuditEvent, AuditEventKind, AuditEventSchema } from "../../src/gen/apikeys/v1/audit_pb.js";
import {
  AuditService,
  type StreamAuditEventsRequest,
  type StreamAuditEventsResponse,
  StreamAuditEventsResponseSchema,
} from "../../src/gen/apikeys/v1/audit_service_pb.js";

function eventMessage(n: number): StreamAuditEventsResponse {
  return create(StreamAuditEventsResponseSchema, {
    message: {
      case: "event",
      value: create(AuditEventSchema, { eventId: `e${n}`, cursor: `c${n}`, kind: AuditEventKind.ADMIN }),
    },
  });
}

function heartbeat(cursor: string): StreamAuditEventsResponse {
  return create(StreamAuditEventsResponseSchema, { message: { case: "heartbeat", value: { cursor } } });
}

/** A server whose every call plays the next script: messages, then an error (or a clean end). */
function scriptedServer(scripts: Array<{ messages: StreamAuditEventsResponse[]; error?: ConnectError }>) {
  const requests: StreamAuditEventsRequest[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(AuditService, {
      async *streamAuditEvents(request) {
        requests.push(request);
        const script = scripts.shift();
        if (script === undefined) {
          // No more scripts: stay open until the follower stops.
          await new Promise(() => undefined);
          return;
        }
        for (const message of script.messages) {
          yield message;
        }
        if (script.error !== undefined) {
          throw script.error;
        }
      },
    });
  });
  return { client: createClient(AuditService, transport), requests };
}

async function follow(
  server: ReturnType<typeof scriptedServer>,
  until: (events: AuditEvent[], statuses: FollowStatus[]) => boolean,
  resumeCursor = "",
) {
  const events: AuditEvent[] = [];
  const statuses: FollowStatus[] = [];
  const controller = new AbortController();
  const done = followAuditEvents(server.client, {
    tenantId: "acme",
    kinds: [AuditEventKind.ADMIN],
    resumeCursor,
    signal: controller.signal,
    retryDelayMs: () => 1,
    onEvent: (event) => events.push(event),
    onStatus: (status) => {
      statuses.push(status);
    },
  });
  await expect.poll(() => until(events, statuses), { timeout: 5_000 }).toBe(true);
  controller.abort();
  const cursor = await done;
  return { events, statuses, cursor };
}

describe("followAuditEvents", () => {
  it("starts from now, then resumes after a dropped connection from the last event's cursor without repeats", async () => {
    const server = scriptedServer([
      { messages: [eventMessage(1), eventMessage(2)], error: new ConnectError("reset", Code.Unavailable) },
      // At least once: the server may send event 2 again after the reconnect.
      { messages: [eventMessage(2), eventMessage(3)], error: new ConnectError("reset", Code.Internal) },
      { messages: [eventMessage(4)] },
    ]);
    const { events, statuses, cursor } = await follow(
      server,
      (events) => events.length >= 4 && server.requests.length >= 4,
    );
    expect(events.map((event) => event.eventId)).toEqual(["e1", "e2", "e3", "e4"]);
    expect(server.requests.map((request) => request.start)).toEqual([
      { case: undefined },
      { case: "resumeCursor", value: "c2" },
      { case: "resumeCursor", value: "c3" },
      // The third stream ended cleanly: following on from its last event.
      { case: "resumeCursor", value: "c4" },
    ]);
    expect(server.requests.every((request) => request.tenantId === "acme")).toBe(true);
    expect(server.requests.every((request) => request.kinds.join() === String(AuditEventKind.ADMIN))).toBe(
      true,
    );
    expect(statuses.some((status) => status.state === "reconnecting")).toBe(true);
    expect(cursor).toBe("c4");
  });

  it("resumes from a heartbeat's cursor when no event came, and from a given cursor after a pause", async () => {
    const server = scriptedServer([
      { messages: [heartbeat("h7")], error: new ConnectError("reset", Code.Unavailable) },
      { messages: [eventMessage(8)] },
    ]);
    const { events } = await follow(server, (events) => events.length >= 1, "c6");
    expect(events.map((event) => event.eventId)).toEqual(["e8"]);
    expect(server.requests.slice(0, 2).map((request) => request.start)).toEqual([
      { case: "resumeCursor", value: "c6" },
      { case: "resumeCursor", value: "h7" },
    ]);
  });

  it.each([Code.Unauthenticated, Code.PermissionDenied, Code.OutOfRange])(
    "stops on %s instead of reconnecting",
    async (code) => {
      const server = scriptedServer([{ messages: [eventMessage(1)], error: new ConnectError("no", code) }]);
      const { statuses } = await follow(server, (_events, statuses) =>
        statuses.some((status) => status.state === "stopped"),
      );
      const stopped = statuses.find((status) => status.state === "stopped");
      expect(stopped?.state === "stopped" && stopped.error.code).toBe(code);
      expect(server.requests).toHaveLength(1);
    },
  );
});
