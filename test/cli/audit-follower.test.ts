import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type AuditStreamFn, followAuditEvents, type ReconnectNotice } from "../../src/cli/audit-follower.js";
import { type AuditEvent, AuditEventSchema } from "../../src/gen/apikeys/v1/audit_pb.js";
import type {
  StreamAuditEventsRequest,
  StreamAuditEventsResponse,
} from "../../src/gen/apikeys/v1/audit_service_pb.js";

type Script = (
  request: Parameters<AuditStreamFn>[0],
  signal: AbortSignal,
) => AsyncIterable<StreamAuditEventsResponse>;

function event(n: number): StreamAuditEventsResponse {
  return {
    $typeName: "apikeys.v1.StreamAuditEventsResponse",
    message: { case: "event", value: create(AuditEventSchema, { eventId: `e${n}`, cursor: `c${n}` }) },
  };
}

function heartbeat(cursor: string): StreamAuditEventsResponse {
  return {
    $typeName: "apikeys.v1.StreamAuditEventsResponse",
    message: { case: "heartbeat", value: { $typeName: "apikeys.v1.Heartbeat", cursor } },
  };
}

async function follow(scripts: Script[], overrides: Partial<Parameters<typeof followAuditEvents>[0]> = {}) {
  const requests: StreamAuditEventsRequest["start"][] = [];
  const received: AuditEvent[] = [];
  const notices: ReconnectNotice[] = [];
  const sleeps: number[] = [];
  let call = 0;
  const result = await followAuditEvents({
    open: (request, { signal }) => {
      requests.push(request.start);
      const script = scripts[call++];
      if (script === undefined) {
        throw new Error("no more scripted streams");
      }
      return script(request, signal);
    },
    tenantId: "acme",
    keyId: "",
    kinds: [],
    start: { kind: "now" },
    onEvent: (e) => received.push(e),
    onReconnect: (n) => notices.push(n),
    signal: new AbortController().signal,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => new Date("2025-06-01T00:00:00Z"),
    random: () => 0.5,
    ...overrides,
  });
  return { result, requests, received, notices, sleeps };
}

describe("followAuditEvents", () => {
  it("resumes from the last event's cursor after UNAVAILABLE and misses nothing", async () => {
    const { result, requests, received, notices } = await follow(
      [
        async function* () {
          yield event(1);
          yield event(2);
          throw new ConnectError("replica going away", Code.Unavailable);
        },
        async function* () {
          yield event(3);
          yield event(4);
        },
      ],
      { maxEvents: 4 },
    );
    expect(received.map((e) => e.eventId)).toEqual(["e1", "e2", "e3", "e4"]);
    expect(requests[0]).toEqual({ case: undefined });
    expect(requests[1]).toEqual({ case: "resumeCursor", value: "c2" });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ cursor: "c2", attempt: 1 });
    expect(notices[0]?.reason).toContain("unavailable");
    expect(result).toEqual({ cursor: "c4", events: 4 });
  });

  it("advances the resume position on heartbeats", async () => {
    const { requests } = await follow(
      [
        async function* () {
          yield heartbeat("c41");
          throw new ConnectError("slow consumer", Code.ResourceExhausted);
        },
        async function* () {
          yield event(42);
        },
      ],
      { maxEvents: 1 },
    );
    expect(requests[1]).toEqual({ case: "resumeCursor", value: "c41" });
  });

  it("reconnects when the server ends the stream, and when it goes silent past the idle timeout", async () => {
    const { requests, notices, received } = await follow(
      [
        async function* () {
          yield event(1);
        },
        (_request, signal) => ({
          async *[Symbol.asyncIterator]() {
            await new Promise((_resolve, reject) =>
              signal.addEventListener("abort", () => reject(new ConnectError("aborted", Code.Canceled))),
            );
          },
        }),
        async function* () {
          yield event(2);
        },
      ],
      { maxEvents: 2, idleTimeoutMs: 50 },
    );
    expect(received.map((e) => e.eventId)).toEqual(["e1", "e2"]);
    expect(notices.map((n) => n.reason)).toEqual([
      "stream ended by the server",
      "no event or heartbeat for 0.05 s",
    ]);
    expect(requests.slice(1)).toEqual([
      { case: "resumeCursor", value: "c1" },
      { case: "resumeCursor", value: "c1" },
    ]);
  });

  it('restarts at the time following began when it fails before any cursor (never a gap after "now")', async () => {
    const { requests } = await follow(
      [
        async function* () {
          yield* [];
          throw new ConnectError("down", Code.Unavailable);
        },
        async function* () {
          yield event(1);
        },
      ],
      { maxEvents: 1 },
    );
    expect(requests[1]?.case).toBe("startTime");
    const start = requests[1]?.case === "startTime" ? timestampDate(requests[1].value).toISOString() : "";
    expect(start).toBe("2025-06-01T00:00:00.000Z");
  });

  it("starts at the given cursor or time", async () => {
    const fromCursor = await follow(
      [
        async function* () {
          yield event(8);
        },
      ],
      {
        start: { kind: "cursor", cursor: "c7" },
        maxEvents: 1,
      },
    );
    expect(fromCursor.requests[0]).toEqual({ case: "resumeCursor", value: "c7" });
    const fromTime = await follow(
      [
        async function* () {
          yield event(1);
        },
      ],
      {
        start: { kind: "time", time: new Date("2025-05-31T00:00:00Z") },
        maxEvents: 1,
      },
    );
    expect(fromTime.requests[0]?.case).toBe("startTime");
  });

  it("backs off exponentially up to the ceiling, and resets after a message", async () => {
    const failing: Script = async function* () {
      yield* [];
      throw new ConnectError("down", Code.Unavailable);
    };
    const { sleeps } = await follow(
      [
        failing,
        failing,
        failing,
        failing,
        failing,
        async function* () {
          yield event(1);
          throw new ConnectError("down", Code.Unavailable);
        },
        async function* () {
          yield event(2);
        },
      ],
      { maxEvents: 2, initialBackoffMs: 100, maxBackoffMs: 1_000 },
    );
    // random()=0.5 gives 3/4 of the ceiling: 100, 200, 400, 800, 1000 (capped), then reset to 100.
    expect(sleeps).toEqual([75, 150, 300, 600, 750, 75]);
  });

  it.each([[Code.Unauthenticated], [Code.PermissionDenied], [Code.InvalidArgument], [Code.OutOfRange]])(
    "gives up on non-retryable code %i",
    async (code) => {
      const error = await follow([
        async function* () {
          yield* [];
          throw new ConnectError("no", code);
        },
      ]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(code);
    },
  );

  it("stops cleanly when interrupted, returning the cursor to resume from", async () => {
    const interrupt = new AbortController();
    const { result } = await follow(
      [
        (_request, signal) => ({
          async *[Symbol.asyncIterator]() {
            yield event(5);
            interrupt.abort();
            expect(signal.aborted, "the interrupt aborts the open stream").toBe(true);
            throw new ConnectError("aborted", Code.Canceled);
          },
        }),
      ],
      { signal: interrupt.signal },
    );
    expect(result).toEqual({ cursor: "c5", events: 1 });
  });
});
