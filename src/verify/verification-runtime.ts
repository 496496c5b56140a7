/**
 * VerificationRuntime assembles the verification side of one replica: the KeyCache, the invalidation
 * follower, the KeyChangeNotifier (for the admin use cases), the usage recorder, the KeyVerifier (VerifyKey)
 * and the CallerAuthenticator (admin and audit callers) — all sharing one cache. The composition root builds
 * one, starts it before serving and stops it after the servers closed.
 */
import type { KeyFormat } from "../domain/key-format.js";
import type { KeyHasher } from "../domain/key-hash.js";
import { createKeyVerifier, type KeyVerifier, type VerifyObserver } from "../domain/key-verifier.js";
import type {
  AuditSink,
  CallerAuthenticator,
  ChangeFeed,
  Clock,
  GroupRepository,
  KeyRepository,
} from "../domain/ports.js";
import type { VerdictCounter } from "../domain/usage-stats.js";
import { createVerifierCallerAuthenticator } from "./caller-authenticator.js";
import { createInvalidationFollower, type InvalidationFollower } from "./invalidation-follower.js";
import { createKeyCache, type KeyCache, type KeyCacheSettings } from "./key-cache.js";
import { type CacheKeyChangeNotifier, createCacheKeyChangeNotifier } from "./key-change-notifier.js";
import { createVerifyUsageRecorder, type VerifyUsageRecorder } from "./usage-recorder.js";

/** VerificationSettings are the configurable knobs of the verification side (see docs/architecture.md). */
export interface VerificationSettings extends KeyCacheSettings {
  /** invalidationPollMs is the invalidation feed's poll interval. */
  readonly invalidationPollMs: number;
  /** lastUsedWriteIntervalMs coalesces last-used writes per key. */
  readonly lastUsedWriteIntervalMs: number;
  /** refusedUsagePerSecond bounds the usage events recorded for refused or unknown keys (see usage-recorder). */
  readonly refusedUsagePerSecond: number;
  /** unavailableBackoffMs replaces the cache's fast-fail period (tests shorten it). */
  readonly unavailableBackoffMs?: number;
}

/** VerificationLogHooks receive failures worth logging; they must not throw. */
export interface VerificationLogHooks {
  readonly lookupFailed?: (error: unknown, what: "key" | "group") => void;
  readonly pollFailed?: (error: unknown, consecutiveFailures: number) => void;
  readonly publishFailed?: (error: unknown, notice: { kind: "key" | "group"; id: string }) => void;
  readonly lastUsedWriteFailed?: (error: unknown, keys: number) => void;
}

/** VerificationRuntimeOptions are the collaborators of the verification side. */
export interface VerificationRuntimeOptions {
  readonly format: KeyFormat;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly keys: KeyRepository;
  readonly groups: Pick<GroupRepository, "findById">;
  readonly feed: ChangeFeed;
  /** sink receives one usage event per VerifyKey call. */
  readonly sink: AuditSink;
  /** replica names this process in usage events. */
  readonly replica: string;
  readonly settings: VerificationSettings;
  /** observer receives verdict counts and latencies (the metrics). */
  readonly observer?: VerifyObserver;
  /** onInvalidationLag receives the lag of each applied notice, in milliseconds (the metrics). */
  readonly onInvalidationLag?: (lagMs: number) => void;
  readonly log?: VerificationLogHooks;
  /** statistics counts every verdict of an identified key (exact usage statistics); its owner flushes it. */
  readonly statistics?: VerdictCounter;
  /** monotonicNow is the monotonic clock of cache and follower; defaults to performance.now. */
  readonly monotonicNow?: () => number;
}

/** VerificationRuntime is the assembled verification side. */
export interface VerificationRuntime {
  readonly cache: KeyCache;
  readonly follower: InvalidationFollower;
  readonly notifier: CacheKeyChangeNotifier;
  readonly usage: VerifyUsageRecorder;
  readonly verifier: KeyVerifier;
  readonly authenticator: CallerAuthenticator;
  /** start runs one poll of the feed (so the cache follows it before the first call) and starts the loops. */
  start(): Promise<void>;
  /** stop ends the loops and writes the pending last-used timestamps. */
  stop(): Promise<void>;
}

/** createVerificationRuntime builds the verification side; call start() before serving. */
export function createVerificationRuntime(options: VerificationRuntimeOptions): VerificationRuntime {
  const { settings } = options;
  const log = options.log ?? {};
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const cache = createKeyCache({
    ...settings,
    keys: options.keys,
    groups: options.groups,
    monotonicNow,
    ...(log.lookupFailed === undefined ? {} : { onLookupError: log.lookupFailed }),
  });
  const follower = createInvalidationFollower({
    feed: options.feed,
    cache,
    clock: options.clock,
    monotonicNow,
    pollIntervalMs: settings.invalidationPollMs,
    ...(options.onInvalidationLag === undefined ? {} : { onLag: options.onInvalidationLag }),
    ...(log.pollFailed === undefined ? {} : { onError: log.pollFailed }),
  });
  const notifier = createCacheKeyChangeNotifier({
    cache,
    feed: options.feed,
    ...(log.publishFailed === undefined ? {} : { onError: log.publishFailed }),
  });
  const usage = createVerifyUsageRecorder({
    sink: options.sink,
    keys: options.keys,
    replica: options.replica,
    lastUsedIntervalMs: settings.lastUsedWriteIntervalMs,
    refusedPerSecond: settings.refusedUsagePerSecond,
    ...(log.lastUsedWriteFailed === undefined ? {} : { onError: log.lastUsedWriteFailed }),
    ...(options.statistics === undefined ? {} : { statistics: options.statistics }),
  });
  const verifier = createKeyVerifier({
    format: options.format,
    hasher: options.hasher,
    source: cache,
    clock: options.clock,
    usage,
    monotonicNow,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
  const authenticator = createVerifierCallerAuthenticator({ verifier, clock: options.clock, usage });
  return {
    cache,
    follower,
    notifier,
    usage,
    verifier,
    authenticator,
    async start() {
      await follower.pollOnce();
      follower.start();
      usage.start();
    },
    async stop() {
      await follower.stop();
      notifier.close();
      await usage.close();
    },
  };
}
