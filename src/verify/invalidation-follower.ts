/**
 * InvalidationFollower: every replica's reader of the ChangeFeed. It polls `after(lastSeq)` and drops the
 * named keys and groups from the KeyCache; it flushes everything at start and on a gap, reports the feed's
 * freshness to the cache after each complete poll, and never overlaps polls. The races it closes:
 * docs/architecture.md ("Cache invalidation across replicas").
 */
import type { ChangeFeed, ChangeNotice, Clock } from "../domain/ports.js";
import type { KeyCache } from "./key-cache.js";

/** InvalidationFollowerOptions configure a follower. */
export interface InvalidationFollowerOptions {
  readonly feed: Pick<ChangeFeed, "after" | "latestSeq">;
  readonly cache: Pick<KeyCache, "invalidateKey" | "invalidateGroup" | "invalidateAll" | "markFeedFresh">;
  /** pollIntervalMs is the pause between two polls. */
  readonly pollIntervalMs: number;
  /** batchLimit is the most notices read per query (default 500). */
  readonly batchLimit?: number;
  /** maxBatchesPerPoll bounds the queries of one poll while catching up (default 20). */
  readonly maxBatchesPerPoll?: number;
  /** clock reads wall time, to measure lag against the notices' publish time. */
  readonly clock?: Clock;
  /** monotonicNow is a monotonic clock in milliseconds (the same one the cache uses). */
  readonly monotonicNow?: () => number;
  /** onLag hears, per applied notice that carries its publish time, now − publish time in milliseconds. */
  readonly onLag?: (lagMs: number) => void;
  /** onError hears about failed polls (for logging); it must not throw. */
  readonly onError?: (error: unknown, consecutiveFailures: number) => void;
}

/** InvalidationFollowerStats are counters and state for the metrics. */
export interface InvalidationFollowerStats {
  /** lastSeq is the newest seq applied; null before the first successful poll. */
  readonly lastSeq: number | null;
  /** lastSuccessAgeMs is the time since the last successful poll started; null if none succeeded yet. */
  readonly lastSuccessAgeMs: number | null;
  readonly polls: number;
  readonly pollFailures: number;
  readonly noticesApplied: number;
  /** gapFlushes counts whole-cache flushes caused by missed notices. */
  readonly gapFlushes: number;
}

/** InvalidationFollower polls the feed in the background. */
export interface InvalidationFollower {
  /** start begins polling (the first poll runs at once). Idempotent. */
  start(): void;
  /** stop ends polling and waits for a poll in progress to settle. */
  stop(): Promise<void>;
  /** pollOnce runs one poll now (tests, and start-up); resolves true when it succeeded. Never rejects. */
  pollOnce(): Promise<boolean>;
  stats(): InvalidationFollowerStats;
}

const STOP_WAIT_MS = 1_000;

/** createInvalidationFollower builds a follower; call start() to run it. */
export function createInvalidationFollower(options: InvalidationFollowerOptions): InvalidationFollower {
  const { feed, cache } = options;
  const { pollIntervalMs } = options;
  const batchLimit = Math.max(options.batchLimit ?? 500, 1);
  const maxBatches = Math.max(options.maxBatchesPerPoll ?? 20, 1);
  const now = options.monotonicNow ?? (() => performance.now());
  const clock = options.clock ?? { now: () => new Date() };
  const onLag = options.onLag;
  const onError = options.onError;

  let lastSeq: number | null = null;
  let lastSuccessAt: number | null = null;
  let polls = 0;
  let pollFailures = 0;
  let consecutiveFailures = 0;
  let noticesApplied = 0;
  let gapFlushes = 0;
  let running = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: Promise<boolean> | null = null;

  function apply(notice: ChangeNotice, wallNow: number): void {
    if (notice.kind === "group") {
      cache.invalidateGroup(notice.id);
    } else {
      cache.invalidateKey(notice.id);
    }
    noticesApplied += 1;
    if (onLag !== undefined && notice.at !== undefined) {
      onLag(Math.max(0, wallNow - notice.at.getTime()));
    }
  }

  /** catchUp applies notices after lastSeq; resolves true when it reached the end of the feed. */
  async function catchUp(from: number): Promise<boolean> {
    let seq = from;
    for (let batch = 0; batch < maxBatches; batch++) {
      const notices = await feed.after(seq, batchLimit);
      const first = notices[0];
      if (first === undefined) {
        return true;
      }
      if (first.seq !== seq + 1) {
        // Notices between seq and first.seq were pruned before this replica read them.
        gapFlushes += 1;
        cache.invalidateAll();
      }
      const wallNow = clock.now().getTime();
      for (const notice of notices) {
        apply(notice, wallNow);
      }
      seq = (notices[notices.length - 1] as ChangeNotice).seq;
      lastSeq = seq;
      if (notices.length < batchLimit) {
        return true;
      }
    }
    return false;
  }

  async function poll(): Promise<boolean> {
    const startedAt = now();
    polls += 1;
    try {
      let caughtUp: boolean;
      if (lastSeq === null) {
        const latest = await feed.latestSeq();
        cache.invalidateAll();
        lastSeq = latest;
        caughtUp = true;
      } else {
        caughtUp = await catchUp(lastSeq);
      }
      consecutiveFailures = 0;
      if (caughtUp) {
        lastSuccessAt = startedAt;
        cache.markFeedFresh(startedAt);
      }
      return true;
    } catch (error) {
      pollFailures += 1;
      consecutiveFailures += 1;
      if (onError !== undefined) {
        try {
          onError(error, consecutiveFailures);
        } catch {
          // A failing log hook must not stop the follower.
        }
      }
      return false;
    }
  }

  function pollOnce(): Promise<boolean> {
    if (inFlight === null) {
      const current = poll().finally(() => {
        if (inFlight === current) {
          inFlight = null;
        }
      });
      inFlight = current;
    }
    return inFlight;
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      timer = null;
      pollOnce().then(() => {
        if (running) {
          schedule(pollIntervalMs);
        }
      });
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (running) {
        return;
      }
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (inFlight !== null) {
        // Bounded: a poll stuck on a hung database settles on its own later; shutdown need not wait for it.
        let bound: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          inFlight,
          new Promise<void>((resolve) => {
            bound = setTimeout(resolve, STOP_WAIT_MS);
          }),
        ]);
        clearTimeout(bound);
      }
    },
    pollOnce,
    stats() {
      return {
        lastSeq,
        lastSuccessAgeMs: lastSuccessAt === null ? null : now() - lastSuccessAt,
        polls,
        pollFailures,
        noticesApplied,
        gapFlushes,
      };
    },
  };
}
