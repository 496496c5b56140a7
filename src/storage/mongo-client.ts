/**
 * The process's MongoClient, tuned for a request path: with the database down an operation fails within the
 * selection timeout instead of the driver's 30 s default, and the driver reconnects by itself.
 */
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { DomainError } from "../domain/errors.js";

export interface MongoClientSettings {
  /** uri is the connection string (it may carry credentials: it is never logged or put in errors). */
  readonly uri: string;
  readonly serverSelectionTimeoutMS?: number | undefined;
  readonly connectTimeoutMS?: number | undefined;
  /** socketTimeoutMS bounds one round trip on an open connection (a hung server). */
  readonly socketTimeoutMS?: number | undefined;
  /** maxPoolSize: 20 by default, plenty for short single-document operations. */
  readonly maxPoolSize?: number | undefined;
  readonly heartbeatFrequencyMS?: number | undefined;
  readonly appName?: string | undefined;
  /** monitorCommands enables the driver's command events (the benchmark counts database commands). */
  readonly monitorCommands?: boolean | undefined;
}

export function createMongoClient(settings: MongoClientSettings): MongoClient {
  const serverSelectionTimeoutMS = settings.serverSelectionTimeoutMS ?? 2_000;
  const options: MongoClientOptions = {
    appName: settings.appName ?? "apikeys",
    serverSelectionTimeoutMS,
    connectTimeoutMS: settings.connectTimeoutMS ?? 2_000,
    socketTimeoutMS: settings.socketTimeoutMS ?? 10_000,
    heartbeatFrequencyMS: settings.heartbeatFrequencyMS ?? 5_000,
    maxPoolSize: settings.maxPoolSize ?? 20,
    minPoolSize: 0,
    // With every connection busy on a stalled server, waiting for a free one is bounded like selection.
    waitQueueTimeoutMS: serverSelectionTimeoutMS,
    retryWrites: true,
    retryReads: true,
    monitorCommands: settings.monitorCommands ?? false,
  };
  return new MongoClient(settings.uri, options);
}

export function mongoHosts(client: MongoClient): string {
  const hosts = client.options.hosts.map((host) => host.toString());
  return hosts.length > 0 ? hosts.join(",") : "(no host)";
}

/**
 * connectAndPing connects and checks that `db` answers, within the client's selection timeout. On failure
 * it rejects with one unavailable error naming the hosts (never the URI, which may carry credentials).
 */
export async function connectAndPing(client: MongoClient, db: Db): Promise<void> {
  const timeoutMs = client.options.serverSelectionTimeoutMS;
  try {
    await client.connect();
    await db.command({ ping: 1 }, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw new DomainError(
      "unavailable",
      `cannot reach MongoDB at ${mongoHosts(client)} within ${timeoutMs} ms`,
      {
        cause,
      },
    );
  }
}

export interface ReadinessCheckOptions {
  readonly timeoutMs?: number;
}

/**
 * createReadinessCheck gives a probe that resolves true when `db` answers a ping within the timeout and
 * false otherwise (never rejects), for health checks that must not hang when the database does.
 */
export function createReadinessCheck(db: Db, options: ReadinessCheckOptions = {}): () => Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1_000;
  return async () => {
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const reply = await db.command({ ping: 1, maxTimeMS: timeoutMs }, { signal });
      return reply.ok === 1;
    } catch {
      return false;
    }
  };
}
