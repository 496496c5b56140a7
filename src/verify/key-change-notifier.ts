/**
 * KeyChangeNotifier on the KeyCache and the ChangeFeed, called by the admin use cases after every write to a
 * key or group: it drops the local copy synchronously, then publishes a durable notice for the other replicas;
 * a notice that fails to publish is re-published in the background (docs/architecture.md, "Cache
 * invalidation across replicas").
 */
import { DomainError } from "../domain/errors.js";
import type { ChangeFeed, ChangeNotice, KeyChangeNotifier } from "../domain/ports.js";
import type { KeyCache } from "./key-cache.js";

/** CacheKeyChangeNotifierOptions configure the notifier. */
export interface CacheKeyChangeNotifierOptions {
  readonly cache: Pick<KeyCache, "invalidateKey" | "invalidateGroup">;
  readonly feed: Pick<ChangeFeed, "publish">;
  /** retryIntervalMs is the pause between background re-publish rounds (default 500). */
  readonly retryIntervalMs?: number;
  /** maxPending bounds the notices kept for re-publishing (default 10,000); beyond it they are dropped. */
  readonly maxPending?: number;
  /** onError hears about failed publishes (for logging); it must not throw. */
  readonly onError?: (error: unknown, notice: { kind: ChangeNotice["kind"]; id: string }) => void;
}

/** CacheKeyChangeNotifierStats count publishes for the metrics. */
export interface CacheKeyChangeNotifierStats {
  readonly published: number;
  readonly publishFailures: number;
  /** pending is the number of notices waiting to be re-published. */
  readonly pending: number;
  /** dropped counts notices lost because the pending set was full (other replicas rely on max age). */
  readonly dropped: number;
}

/** CacheKeyChangeNotifier is the KeyChangeNotifier with background retry control. */
export interface CacheKeyChangeNotifier extends KeyChangeNotifier {
  /** retryPending re-publishes pending notices now; resolves when the round is over. Never rejects. */
  retryPending(): Promise<void>;
  /** close stops the background retries. */
  close(): void;
  stats(): CacheKeyChangeNotifierStats;
}

/** createCacheKeyChangeNotifier builds the notifier. */
export function createCacheKeyChangeNotifier(options: CacheKeyChangeNotifierOptions): CacheKeyChangeNotifier {
  const { cache, feed } = options;
  const retryIntervalMs = options.retryIntervalMs ?? 500;
  const maxPending = options.maxPending ?? 10_000;
  const onError = options.onError;
  // Insertion-ordered and deduplicated: one pending notice per key or group is enough.
  const pending = new Map<string, { kind: ChangeNotice["kind"]; id: string }>();
  let published = 0;
  let publishFailures = 0;
  let dropped = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let retrying: Promise<void> | null = null;
  let closed = false;

  function report(error: unknown, notice: { kind: ChangeNotice["kind"]; id: string }): void {
    publishFailures += 1;
    if (onError !== undefined) {
      try {
        onError(error, notice);
      } catch {
        // Logging must not change the outcome.
      }
    }
  }

  function keep(notice: { kind: ChangeNotice["kind"]; id: string }): void {
    const slot = `${notice.kind}:${notice.id}`;
    if (!pending.has(slot) && pending.size >= maxPending) {
      dropped += 1;
      return;
    }
    pending.set(slot, notice);
    armRetry();
  }

  function armRetry(): void {
    if (timer !== null || closed) {
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      retryPending().then(() => {
        if (pending.size > 0) {
          armRetry();
        }
      });
    }, retryIntervalMs);
    timer.unref();
  }

  function retryPending(): Promise<void> {
    if (retrying !== null) {
      return retrying;
    }
    const round = (async () => {
      for (const [slot, notice] of [...pending]) {
        try {
          await feed.publish(notice.kind, notice.id);
          published += 1;
          pending.delete(slot);
        } catch (error) {
          report(error, notice);
          // The feed is still down; try the rest next round.
          return;
        }
      }
    })().finally(() => {
      retrying = null;
    });
    retrying = round;
    return round;
  }

  async function changed(kind: ChangeNotice["kind"], id: string): Promise<void> {
    if (kind === "group") {
      cache.invalidateGroup(id);
    } else {
      cache.invalidateKey(id);
    }
    try {
      await feed.publish(kind, id);
      published += 1;
    } catch (error) {
      const notice = { kind, id };
      report(error, notice);
      keep(notice);
      throw new DomainError(
        "unavailable",
        "the change is saved, but other replicas could not be told yet; they will be, and a retry is safe",
        { cause: error },
      );
    }
  }

  return {
    keyChanged: (keyId) => changed("key", keyId),
    groupChanged: (groupId) => changed("group", groupId),
    retryPending,
    close() {
      closed = true;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
    },
    stats() {
      return { published, publishFailures, pending: pending.size, dropped };
    },
  };
}
