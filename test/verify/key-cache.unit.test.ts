/**
 * KeyCache on its own, with a repository the test answers by hand and a monotonic clock it moves: shared
 * lookups, lookups made stale by an invalidation, the staleness bound, the lookup budget and fast-fail.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApiKeyRecord } from "../../src/domain/api-key.js";
import { DomainError } from "../../src/domain/errors.js";
import type { VerifiableKey } from "../../src/domain/verifiable-key.js";
import { createKeyCache, type KeyCache } from "../../src/verify/key-cache.js";
import { ManualClock } from "../helpers/fake-clock.js";
import { buildKey } from "../helpers/key-fixtures.js";

const SETTINGS = {
  maxEntries: 100,
  maxBytes: 1024 * 1024,
  negativeMaxEntries: 100,
  negativeTtlMs: 1_000,
  maxStaleMs: 5_000,
  lookupTimeoutMs: 200,
  maxConcurrentLookups: 4,
} as const;
const BACKOFF_MS = 1_000;

/** PendingLookup is one findById the test has not answered yet. */
interface PendingLookup {
  readonly id: string;
  resolve(record: ApiKeyRecord | null): void;
  reject(error: unknown): void;
}

function harness() {
  const clock = new ManualClock(10_000);
  const pending: PendingLookup[] = [];
  const cache: KeyCache = createKeyCache({
    ...SETTINGS,
    unavailableBackoffMs: BACKOFF_MS,
    monotonicNow: () => clock.now().getTime(),
    keys: {
      findById: (id) =>
        new Promise<ApiKeyRecord | null>((resolve, reject) => {
          pending.push({ id, resolve, reject });
        }),
    },
    groups: { findById: async () => null },
  });
  return {
    cache,
    pending,
    advance(ms: number) {
      clock.advance(ms);
    },
    now: () => clock.now().getTime(),
  };
}

const unavailable = () => new DomainError("unavailable", "the database is down");

afterEach(() => {
  vi.useRealTimers();
});

describe("KeyCache", () => {
  it("shares one lookup between concurrent misses for the same id, then answers from memory", async () => {
    const { cache, pending, now } = harness();
    const issued = buildKey();
    cache.markFeedFresh(now());
    const first = cache.key(issued.keyId);
    const second = cache.key(issued.keyId);
    expect(first).toBeInstanceOf(Promise);
    expect(pending.map((lookup) => lookup.id)).toEqual([issued.keyId]);
    pending[0]?.resolve(issued.record);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect((a as VerifiableKey).details.keyId).toBe(issued.keyId);
    expect(cache.key(issued.keyId)).toBe(a);
    expect(cache.stats().lookups).toBe(1);
  });

  it("answers the waiting callers from a lookup an invalidation made stale, but never caches it", async () => {
    const { cache, pending, now } = harness();
    const issued = buildKey();
    cache.markFeedFresh(now());
    const waiting = cache.key(issued.keyId);
    cache.invalidateKey(issued.keyId);
    pending[0]?.resolve(issued.record);
    expect(((await waiting) as VerifiableKey).details.keyId).toBe(issued.keyId);
    // The read started before the change: the next call looks the key up again.
    expect(cache.key(issued.keyId)).toBeInstanceOf(Promise);
    expect(pending).toHaveLength(2);
  });

  it("trusts an entry for maxStaleMs past the last fresh feed, then looks it up again", async () => {
    const { cache, pending, advance, now } = harness();
    const issued = buildKey();
    cache.markFeedFresh(now());
    const loading = cache.key(issued.keyId);
    pending[0]?.resolve(issued.record);
    const key = await loading;
    advance(SETTINGS.maxStaleMs - 1);
    expect(cache.key(issued.keyId)).toBe(key);
    advance(1);
    const again = cache.key(issued.keyId);
    expect(again).toBeInstanceOf(Promise);
    pending[1]?.reject(unavailable());
    await expect(again).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("a fresh feed report extends the trust of what is cached", async () => {
    const { cache, pending, advance, now } = harness();
    const issued = buildKey();
    cache.markFeedFresh(now());
    const loading = cache.key(issued.keyId);
    pending[0]?.resolve(issued.record);
    const key = await loading;
    advance(SETTINGS.maxStaleMs - 10);
    cache.markFeedFresh(now());
    advance(SETTINGS.maxStaleMs - 10);
    expect(cache.key(issued.keyId)).toBe(key);
  });

  it("answers UNAVAILABLE when a lookup outlasts its budget", async () => {
    vi.useFakeTimers();
    const { cache, pending, now } = harness();
    cache.markFeedFresh(now());
    const outcome = cache.key(buildKey().keyId) as Promise<unknown>;
    const settled = outcome.then(
      () => "resolved",
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(SETTINGS.lookupTimeoutMs - 1);
    expect(pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe("unavailable");
    expect(cache.stats().lookupTimeouts).toBe(1);
  });

  it("fails new lookups at once after a failure, until the backoff ends or the feed reports fresh", async () => {
    const { cache, pending, advance, now } = harness();
    cache.markFeedFresh(now());
    const failing = cache.key(buildKey().keyId);
    pending[0]?.reject(unavailable());
    await expect(failing).rejects.toMatchObject({ kind: "unavailable" });

    await expect(cache.key(buildKey().keyId)).rejects.toMatchObject({ kind: "unavailable" });
    expect(pending).toHaveLength(1);
    expect(cache.stats().fastFailures).toBe(1);

    advance(BACKOFF_MS);
    void cache.key(buildKey().keyId);
    expect(pending).toHaveLength(2);
    pending[1]?.reject(unavailable());
    await Promise.resolve();
    await expect(cache.key(buildKey().keyId)).rejects.toMatchObject({ kind: "unavailable" });
    cache.markFeedFresh(now());
    void cache.key(buildKey().keyId);
    expect(pending).toHaveLength(3);
  });

  it("remembers an unknown id for negativeTtlMs, then asks again", async () => {
    const { cache, pending, advance, now } = harness();
    cache.markFeedFresh(now());
    const id = buildKey().keyId;
    const loading = cache.key(id);
    pending[0]?.resolve(null);
    expect(await loading).toBeNull();
    advance(SETTINGS.negativeTtlMs - 1);
    expect(cache.key(id)).toBeNull();
    advance(1);
    expect(cache.key(id)).toBeInstanceOf(Promise);
  });
});
