/**
 * Verification test setup: the real repositories and change feed on a test database, a verification
 * runtime over them with a manual clock, and an AuditSink that keeps what it is given.
 */
import type { Db, MongoClient } from "mongodb";
import type { NewAuditEvent } from "../../../src/domain/audit-event.js";
import type { AuditSink, ChangeFeed, GroupRepository, KeyRepository } from "../../../src/domain/ports.js";
import type { VerdictCounter } from "../../../src/domain/usage-stats.js";
import { loadConfig } from "../../../src/server/config.js";
import { verificationSettingsOf } from "../../../src/server/verification-config.js";
import { createMongoChangeFeed, type MongoChangeFeed } from "../../../src/storage/change-feed.js";
import { createMongoGroupRepository } from "../../../src/storage/group-repository.js";
import { createMongoKeyRepository } from "../../../src/storage/key-repository.js";
import {
  createVerificationRuntime,
  type VerificationRuntime,
  type VerificationSettings,
} from "../../../src/verify/verification-runtime.js";
import { ManualClock, testFormat, testHasher } from "../../helpers/key-fixtures.js";

/** CollectingSink is an AuditSink that keeps every event (tests read `events`). */
export interface CollectingSink extends AuditSink {
  readonly events: NewAuditEvent[];
}

/** collectingSink makes an empty CollectingSink. */
export function collectingSink(): CollectingSink {
  const events: NewAuditEvent[] = [];
  return {
    events,
    emit: (event) => void events.push(event),
    checkAdminBacklog: () => undefined,
    record: async (event) => void events.push(event),
  };
}

/** Stores are the repositories and feed of one database. */
export interface Stores {
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  /** feed is what the runtime follows and publishes to (a test may substitute a failing one). */
  readonly feed: ChangeFeed;
  /** mongoFeed is the real feed on the database, with its maintenance operations. */
  readonly mongoFeed: MongoChangeFeed;
}

/** storesOf builds the repositories and feed on `db`. */
export function storesOf(db: Db): Stores {
  const feed = createMongoChangeFeed(db);
  return {
    keys: createMongoKeyRepository(db),
    groups: createMongoGroupRepository(db),
    feed,
    mongoFeed: feed,
  };
}

/** TestReplica is one replica's verification runtime with its clock and usage sink. */
export interface TestReplica {
  readonly runtime: VerificationRuntime;
  readonly clock: ManualClock;
  readonly sink: CollectingSink;
  readonly stores: Stores;
}

/** startReplica builds and starts a runtime on `db` (through `client`'s connection pool). */
export async function startReplica(
  client: MongoClient,
  dbName: string,
  settings: Partial<VerificationSettings> = {},
  options: {
    clock?: ManualClock;
    monotonicNow?: () => number;
    stores?: Partial<Stores>;
    /** auditSink replaces the collecting sink (which then stays empty). */
    auditSink?: AuditSink;
    statistics?: VerdictCounter;
  } = {},
): Promise<TestReplica> {
  const base = storesOf(client.db(dbName));
  const stores: Stores = { ...base, ...options.stores };
  const clock = options.clock ?? new ManualClock();
  const sink = collectingSink();
  const runtime = createVerificationRuntime({
    format: testFormat,
    hasher: testHasher,
    clock,
    keys: stores.keys,
    groups: stores.groups,
    feed: stores.feed,
    sink: options.auditSink ?? sink,
    replica: "test-replica",
    settings: { ...verificationSettingsOf(loadConfig({})), ...settings },
    ...(options.monotonicNow === undefined ? {} : { monotonicNow: options.monotonicNow }),
    ...(options.statistics === undefined ? {} : { statistics: options.statistics }),
  });
  await runtime.start();
  return { runtime, clock, sink, stores };
}
