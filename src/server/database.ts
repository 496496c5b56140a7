/**
 * The process's MongoDB connection: MONGODB_URI, or outside production a provisioned local server; a ping at
 * start makes an unreachable database one clear error within the server-selection timeout, not a hang.
 */
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import { type LocalMongo, startLocalMongo } from "../storage/local-mongo.js";
import {
  connectAndPing,
  createMongoClient,
  createReadinessCheck,
  mongoHosts,
} from "../storage/mongo-client.js";
import type { Config } from "./config.js";

/** How many usage events the provisioned in-memory stand-in keeps (no TTL, linear scans: docs/audit.md). */
export const DEV_USAGE_EVENTS_KEPT = 2_000;

/** devUsageRetentionOf: DEV_USAGE_EVENTS_KEPT for a provisioned in-memory stand-in, null otherwise. */
export function devUsageRetentionOf(database: Pick<Database, "local">): number | null {
  return database.local?.kind === "jongodb" ? DEV_USAGE_EVENTS_KEPT : null;
}

export interface Database {
  readonly client: MongoClient;
  readonly db: Db;
  /** local is the provisioned server, or null when MONGODB_URI was given. */
  readonly local: LocalMongo | null;
  ping(): Promise<boolean>;
  /** close closes the client, then stops the local server if one was started. */
  close(): Promise<void>;
}

/**
 * connectDatabase connects (provisioning a local server first when MONGODB_URI is unset) and pings; it
 * rejects with a one-line message naming the hosts (never credentials) when the server cannot be reached.
 */
export async function connectDatabase(config: Config, logger: Logger): Promise<Database> {
  let local: LocalMongo | null = null;
  let uri = config.mongo.uri;
  if (uri === null) {
    if (config.nodeEnv === "production") {
      throw new Error("MONGODB_URI: is required when NODE_ENV=production");
    }
    local = await startLocalMongo({ dataDir: config.mongo.localDataDir });
    uri = local.uri;
    if (local.kind === "jongodb") {
      // host:port only (a provisioned server has no credentials): a second local replica connects to it.
      logger.warn(
        { kind: local.kind, address: new URL(local.uri).host },
        "MONGODB_URI is not set and no mongod is on PATH: using the in-memory MongoDB-wire server; data is lost when the service stops",
      );
    } else {
      logger.info(
        { kind: local.kind, address: new URL(local.uri).host, dataDir: config.mongo.localDataDir },
        "MONGODB_URI is not set: started a local mongod",
      );
    }
  }
  const client = createMongoClient({
    uri,
    serverSelectionTimeoutMS: config.mongo.serverSelectionTimeoutMs,
    connectTimeoutMS: config.mongo.connectTimeoutMs,
    socketTimeoutMS: config.mongo.socketTimeoutMs,
    // Command events feed apikeys_db_commands_total (the benchmark proves warm verifies issue none). It
    // must be set at construction: connections copy the flag when they open.
    monitorCommands: true,
  });
  const db = client.db(config.mongo.dbName);
  try {
    await connectAndPing(client, db);
  } catch (error) {
    await client.close().catch(() => undefined);
    await local?.stop();
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.name : "error";
    throw new Error(
      `MONGODB_URI: cannot reach MongoDB at ${mongoHosts(client)} within ${config.mongo.serverSelectionTimeoutMs} ms (${reason})`,
      { cause: error },
    );
  }
  return {
    client,
    db,
    local,
    ping: createReadinessCheck(db),
    async close() {
      await client.close();
      await local?.stop();
    },
  };
}
