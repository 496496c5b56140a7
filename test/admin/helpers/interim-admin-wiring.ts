/**
 * INTERIM: KeyAdminService wired for the RPC tests the way wire-services.ts will wire it (wireKeyAdmin on
 * the verification runtime's authenticator and notifier, admin events into the real audit store), until
 * the shared verification and audit wiring lands in wire-services.ts. Then useAdminServer switches to the
 * production wiring and this file goes.
 */
import pino from "pino";
import { createBufferedAuditSink } from "../../../src/domain/buffered-audit-sink.js";
import { createKeyFormat } from "../../../src/domain/key-format.js";
import { createKeyHasher } from "../../../src/domain/key-hash.js";
import { loadConfig } from "../../../src/server/config.js";
import { wireKeyAdmin } from "../../../src/server/wire-key-admin.js";
import { auditEventIndexes, createMongoAuditEventStore } from "../../../src/storage/audit-event-store.js";
import { changeFeedIndexes, createMongoChangeFeed } from "../../../src/storage/change-feed.js";
import { createMongoGroupRepository } from "../../../src/storage/group-repository.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { createMongoKeyRepository } from "../../../src/storage/key-repository.js";
import { createVerificationRuntime } from "../../../src/verify/verification-runtime.js";
import type { TestDatabase } from "../../helpers/start-server.js";
import { testEnv } from "../../helpers/start-server.js";

/** startInterimAdminWiring builds and starts the admin service's collaborators on `database`. */
export async function startInterimAdminWiring(database: TestDatabase, env: Readonly<Record<string, string>>) {
  const config = loadConfig(testEnv(database, env));
  const { db } = database;
  const keyFormat = createKeyFormat(config.keys.prefix);
  const hasher = createKeyHasher(
    { version: config.keys.pepper.version, secret: Buffer.from(config.keys.pepper.pepper, "utf8") },
    config.keys.previousPeppers.map((p) => ({ version: p.version, secret: Buffer.from(p.pepper, "utf8") })),
  );
  const clock = { now: () => new Date() };
  const sink = createBufferedAuditSink({
    store: createMongoAuditEventStore(db),
    maxBuffered: 10_000,
    maxBatch: 500,
    flushIntervalMs: 50,
  });
  const runtime = createVerificationRuntime({
    format: keyFormat,
    hasher,
    clock,
    keys: createMongoKeyRepository(db),
    groups: createMongoGroupRepository(db),
    feed: createMongoChangeFeed(db),
    sink,
    replica: "admin-tests",
  });
  const admin = wireKeyAdmin({
    config,
    logger: pino({ level: "silent" }),
    db,
    keyFormat,
    hasher,
    callers: runtime.authenticator,
    notifier: runtime.notifier,
    audit: sink,
  });
  await ensureIndexes(db, [...admin.indexes, ...changeFeedIndexes, ...auditEventIndexes()]);
  await runtime.start();
  return {
    service: admin.service,
    async stop() {
      await runtime.stop();
      await sink.close();
    },
  };
}
