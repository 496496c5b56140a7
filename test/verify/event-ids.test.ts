/**
 * Usage-event ids: unique within a process by the counter, and across processes by the random prefix.
 */
import { describe, expect, it } from "vitest";
import { createEventIdSource } from "../../src/verify/event-ids.js";

describe("createEventIdSource", () => {
  it("mints distinct ids in one process", () => {
    const next = createEventIdSource();
    const ids = new Set(Array.from({ length: 10_000 }, () => next()));
    expect(ids.size).toBe(10_000);
  });

  it("gives two processes (sources) different prefixes", () => {
    const a = createEventIdSource()();
    const b = createEventIdSource()();
    expect(a).toMatch(/^[A-Za-z0-9_-]{16}\.1$/);
    expect(a.slice(0, 16)).not.toBe(b.slice(0, 16));
  });

  it("takes its prefix from the random source", () => {
    const next = createEventIdSource((size) => new Uint8Array(size).fill(0xff));
    expect(next()).toBe("________________.1");
    expect(next()).toBe("________________.2");
  });
});
