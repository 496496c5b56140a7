/**
 * KeyCache: the VerificationSource of every replica — compiled keys, unknown ids and group permissions in
 * bounded LRU maps, looked up in MongoDB only on a miss, with single-flight lookups under a time budget, a
 * staleness bound and fast-fail during outages. The design and its races: docs/architecture.md ("What is
 * cached", "Cache invalidation across replicas", "MongoDB down").
 */

import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, GroupRecord } from "../domain/api-key.js";
import { outsideCallDeadline } from "../domain/call-deadline.js";
import { DomainError, KEY_STORE_UNAVAILABLE } from "../domain/errors.js";
import type { GroupPermissions, VerificationSource } from "../domain/key-verifier.js";
import type { GroupRepository, KeyRepository } from "../domain/ports.js";
import { compileVerifiableKey, type VerifiableKey } from "../domain/verifiable-key.js";

/** KeyCacheSettings are the configured bounds (src/server/config.ts documents each). */
export interface KeyCacheSettings {
  /** maxEntries bounds the positive cache. */
  readonly maxEntries: number;
  /** maxBytes bounds the positive cache's approximate memory. */
  readonly maxBytes: number;
  /** negativeMaxEntries bounds the cache of unknown ids. */
  readonly negativeMaxEntries: number;
  /** negativeTtlMs is how long an unknown id is remembered (at most maxStaleMs). */
  readonly negativeTtlMs: number;
  /** maxStaleMs is the longest an entry is trusted without a fresh feed or reload. */
  readonly maxStaleMs: number;
  /** lookupTimeoutMs is the time budget of one lookup, queueing included. */
  readonly lookupTimeoutMs: number;
  /** maxConcurrentLookups bounds database lookups in flight. */
  readonly maxConcurrentLookups: number;
}

// Bounds that are not configuration: they follow from the configured ones or from the request path.
const GROUP_MAX_ENTRIES = 10_000;
/** A trusted entry older than this is refreshed in the background (backstop for a notice never published). */
const MAX_AGE_MS = 300_000;
/** Lookups waiting for a slot; beyond it a lookup fails at once. */
const MAX_QUEUED_LOOKUPS = 1_000;
/** How long lookups fail fast after a failure, unless the feed reaches the database sooner. */
const UNAVAILABLE_BACKOFF_MS = 1_000;

/** KeyCacheOptions are the settings plus collaborators. */
export interface KeyCacheOptions extends KeyCacheSettings {
  /** unavailableBackoffMs replaces the fast-fail period (tests shorten it). */
  readonly unavailableBackoffMs?: number;
  readonly keys: Pick<KeyRepository, "findById">;
  readonly groups: Pick<GroupRepository, "findById">;
  /** monotonicNow is a monotonic clock in milliseconds; defaults to performance.now. */
  readonly monotonicNow?: () => number;
  /** onLookupError hears about lookups that failed (for logging); it must not throw. */
  readonly onLookupError?: (error: unknown, what: "key" | "group") => void;
}

/** KeyCacheStats are cumulative counters and current sizes, read by the metrics at scrape time. */
export interface KeyCacheStats {
  readonly positiveHits: number;
  readonly positiveSize: number;
  readonly positiveBytes: number;
  readonly negativeHits: number;
  readonly negativeSize: number;
  /** misses counts key lookups that had to go to the database (unknown, evicted, or no longer trusted). */
  readonly misses: number;
  /** untrustedHits counts cached keys that were found but no longer trusted (feed too old). */
  readonly untrustedHits: number;
  readonly groupHits: number;
  readonly groupMisses: number;
  readonly groupSize: number;
  /** lookups counts database lookups started (keys and groups; shared lookups count once). */
  readonly lookups: number;
  readonly lookupFailures: number;
  readonly lookupTimeouts: number;
  /** fastFailures counts lookups refused at once while the database was known down or too busy. */
  readonly fastFailures: number;
  readonly refreshes: number;
  readonly invalidations: number;
  readonly flushes: number;
  readonly lookupsInFlight: number;
  readonly lookupsQueued: number;
}

/** KeyCache is the VerificationSource with invalidation, freshness reports and stats. */
export interface KeyCache extends VerificationSource {
  /** invalidateKey drops a key id from the positive and negative caches and marks its lookup stale. */
  invalidateKey(keyId: string): void;
  /** invalidateGroup drops a group's cached permissions and marks its lookup stale. */
  invalidateGroup(groupId: string): void;
  /** invalidateAll drops everything (the follower missed notices, or starts following). */
  invalidateAll(): void;
  /**
   * markFeedFresh records that every change published before monotonic instant `asOf` has been applied;
   * it also ends the fast-fail period (the database answered).
   */
  markFeedFresh(asOf: number): void;
  stats(): KeyCacheStats;
}

interface PositiveEntry {
  readonly key: VerifiableKey;
  readonly loadedAt: number;
}

interface GroupEntry {
  readonly value: GroupPermissions;
  readonly loadedAt: number;
}

interface Flight<T> {
  stale: boolean;
  readonly promise: Promise<T>;
}

interface QueuedLookup {
  start: (() => void) | null;
}

const GROUP_GONE: GroupPermissions = Object.freeze({ permissions: null });

/** createKeyCache builds the cache over the repositories. */
export function createKeyCache(options: KeyCacheOptions): KeyCache {
  const { maxStaleMs, lookupTimeoutMs } = options;
  const negativeTtlMs = Math.min(options.negativeTtlMs, maxStaleMs);
  const maxConcurrent = Math.max(options.maxConcurrentLookups, 1);
  const backoffMs = options.unavailableBackoffMs ?? UNAVAILABLE_BACKOFF_MS;
  const now = options.monotonicNow ?? (() => performance.now());
  const { keys, groups } = options;
  const onLookupError = options.onLookupError;

  const positive = new LRUCache<string, PositiveEntry>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    sizeCalculation: (entry, id) => entry.key.approxBytes + 2 * id.length,
  });
  const negative = new LRUCache<string, number>({ max: options.negativeMaxEntries });
  const groupCache = new LRUCache<string, GroupEntry>({ max: GROUP_MAX_ENTRIES });
  const keyFlights = new Map<string, Flight<VerifiableKey | null>>();
  const groupFlights = new Map<string, Flight<GroupPermissions>>();
  const queue: QueuedLookup[] = [];

  // -Infinity: nothing is trusted on the strength of the feed until the follower has completed a poll.
  let feedFreshAt = Number.NEGATIVE_INFINITY;
  let unavailableUntil = 0;
  let active = 0;
  let positiveHits = 0;
  let negativeHits = 0;
  let misses = 0;
  let untrustedHits = 0;
  let groupHits = 0;
  let groupMisses = 0;
  let lookups = 0;
  let lookupFailures = 0;
  let lookupTimeouts = 0;
  let fastFailures = 0;
  let refreshes = 0;
  let invalidations = 0;
  let flushes = 0;

  function trusted(loadedAt: number, at: number): boolean {
    return Math.max(loadedAt, feedFreshAt) + maxStaleMs > at;
  }

  function releaseSlot(): void {
    active -= 1;
    while (queue.length > 0 && active < maxConcurrent) {
      const next = queue.shift() as QueuedLookup;
      if (next.start !== null) {
        const start = next.start;
        next.start = null;
        start();
        return;
      }
    }
  }

  function noteFailure(error: unknown, what: "key" | "group"): void {
    if (error instanceof DomainError && error.kind === "unavailable") {
      unavailableUntil = now() + backoffMs;
    }
    lookupFailures += 1;
    if (onLookupError !== undefined) {
      try {
        onLookupError(error, what);
      } catch {
        // Logging must never change the answer.
      }
    }
  }

  /**
   * lookup runs `operation` within the budget and the concurrency bound, then hands its result to `settle`
   * (which caches it unless stale) even when the budget ran out first: a late answer is still a correct
   * read, and caching it spares the next caller a lookup.
   */
  function lookup<R, T>(
    what: "key" | "group",
    operation: () => Promise<R>,
    settle: (result: R) => T,
  ): Promise<T> {
    if (unavailableUntil > 0 && now() < unavailableUntil) {
      fastFailures += 1;
      return Promise.reject(new DomainError("unavailable", KEY_STORE_UNAVAILABLE));
    }
    if (active >= maxConcurrent && queue.length >= MAX_QUEUED_LOOKUPS) {
      fastFailures += 1;
      return Promise.reject(new DomainError("unavailable", "the key store is busy, try again"));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const queued: QueuedLookup = { start: null };
      const timer = setTimeout(() => {
        if (done) {
          return;
        }
        done = true;
        if (queued.start !== null) {
          queued.start = null;
          const position = queue.indexOf(queued);
          if (position >= 0) {
            queue.splice(position, 1);
          }
        }
        lookupTimeouts += 1;
        noteFailure(new DomainError("unavailable", "the key store did not answer in time"), what);
        reject(new DomainError("unavailable", "the key store did not answer in time, try again"));
      }, lookupTimeoutMs);
      const run = (): void => {
        active += 1;
        lookups += 1;
        let pending: Promise<R>;
        try {
          // A lookup answers every call waiting for it and has its own budget: no one call's deadline
          // applies to it, so a caller with a tiny deadline cannot fail it for the others.
          pending = outsideCallDeadline(operation);
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(
          (result) => {
            releaseSlot();
            let value: T;
            try {
              value = settle(result);
            } catch (error) {
              if (!done) {
                done = true;
                clearTimeout(timer);
                reject(error);
              }
              return;
            }
            if (!done) {
              done = true;
              clearTimeout(timer);
              resolve(value);
            }
          },
          (error: unknown) => {
            releaseSlot();
            noteFailure(error, what);
            if (!done) {
              done = true;
              clearTimeout(timer);
              reject(error);
            }
          },
        );
      };
      if (active < maxConcurrent) {
        run();
      } else {
        queued.start = run;
        queue.push(queued);
      }
    });
  }

  /**
   * fly runs one lookup per id at a time (later callers share it). `settle` sees whether the flight went
   * stale (an invalidation arrived while it ran), in which case it must not store what it read.
   */
  function fly<R, T>(
    flights: Map<string, Flight<T>>,
    id: string,
    what: "key" | "group",
    find: () => Promise<R>,
    settle: (record: R, stale: boolean, startedAt: number) => T,
  ): Promise<T> {
    const existing = flights.get(id);
    if (existing !== undefined) {
      return existing.promise;
    }
    const startedAt = now();
    const flight: Flight<T> = {
      stale: false,
      promise: lookup(what, find, (record: R) => settle(record, flight.stale, startedAt)),
    };
    flights.set(id, flight);
    const forget = (): void => {
      if (flights.get(id) === flight) {
        flights.delete(id);
      }
    };
    flight.promise.then(forget, forget);
    return flight.promise;
  }

  function loadKey(keyId: string): Promise<VerifiableKey | null> {
    return fly(
      keyFlights,
      keyId,
      "key",
      () => keys.findById(keyId),
      (record: ApiKeyRecord | null, stale, startedAt) => {
        const key = record === null ? null : compileVerifiableKey(record);
        if (!stale) {
          if (key === null) {
            positive.delete(keyId);
            negative.set(keyId, startedAt);
          } else {
            negative.delete(keyId);
            positive.set(keyId, { key, loadedAt: startedAt });
          }
        }
        return key;
      },
    );
  }

  function loadGroup(groupId: string): Promise<GroupPermissions> {
    return fly(
      groupFlights,
      groupId,
      "group",
      () => groups.findById(groupId),
      (record: GroupRecord | null, stale, startedAt) => {
        const value: GroupPermissions =
          record === null
            ? GROUP_GONE
            : Object.freeze({ permissions: Object.freeze([...record.permissions]) });
        if (!stale) {
          groupCache.set(groupId, { value, loadedAt: startedAt });
        }
        return value;
      },
    );
  }

  const ignore = (): void => undefined;

  return {
    key(keyId) {
      const at = now();
      const entry = positive.get(keyId);
      if (entry !== undefined) {
        if (trusted(entry.loadedAt, at)) {
          positiveHits += 1;
          if (at - entry.loadedAt > MAX_AGE_MS && !keyFlights.has(keyId)) {
            refreshes += 1;
            loadKey(keyId).then(ignore, ignore);
          }
          return entry.key;
        }
        untrustedHits += 1;
        misses += 1;
        return loadKey(keyId);
      }
      const unknownSince = negative.get(keyId);
      if (unknownSince !== undefined) {
        if (at - unknownSince < negativeTtlMs) {
          negativeHits += 1;
          return null;
        }
        negative.delete(keyId);
      }
      misses += 1;
      return loadKey(keyId);
    },

    group(groupId) {
      const at = now();
      const entry = groupCache.get(groupId);
      if (entry !== undefined && trusted(entry.loadedAt, at)) {
        groupHits += 1;
        if (at - entry.loadedAt > MAX_AGE_MS && !groupFlights.has(groupId)) {
          refreshes += 1;
          loadGroup(groupId).then(ignore, ignore);
        }
        return entry.value;
      }
      groupMisses += 1;
      return loadGroup(groupId);
    },

    invalidateKey(keyId) {
      invalidations += 1;
      positive.delete(keyId);
      negative.delete(keyId);
      const flight = keyFlights.get(keyId);
      if (flight !== undefined) {
        flight.stale = true;
        keyFlights.delete(keyId);
      }
    },

    invalidateGroup(groupId) {
      invalidations += 1;
      groupCache.delete(groupId);
      const flight = groupFlights.get(groupId);
      if (flight !== undefined) {
        flight.stale = true;
        groupFlights.delete(groupId);
      }
    },

    invalidateAll() {
      flushes += 1;
      positive.clear();
      negative.clear();
      groupCache.clear();
      for (const flight of keyFlights.values()) {
        flight.stale = true;
      }
      for (const flight of groupFlights.values()) {
        flight.stale = true;
      }
      keyFlights.clear();
      groupFlights.clear();
    },

    markFeedFresh(asOf) {
      if (asOf > feedFreshAt) {
        feedFreshAt = asOf;
      }
      unavailableUntil = 0;
    },

    stats() {
      return {
        positiveHits,
        positiveSize: positive.size,
        positiveBytes: positive.calculatedSize,
        negativeHits,
        negativeSize: negative.size,
        misses,
        untrustedHits,
        groupHits,
        groupMisses,
        groupSize: groupCache.size,
        lookups,
        lookupFailures,
        lookupTimeouts,
        fastFailures,
        refreshes,
        invalidations,
        flushes,
        lookupsInFlight: active,
        lookupsQueued: queue.length,
      };
    },
  };
}
