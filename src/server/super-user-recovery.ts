/**
 * The offline recovery of a lost super user (`apikeys recover-super-user`; no service or RPC involved): the
 * service's configuration rules on the operator's environment, a direct MongoDB connection, the pepper
 * fingerprint check the service makes at start, then the recovery use case.
 */
import { randomBytes } from "node:crypto";
import type { IssuedKey } from "../domain/key-admin.js";
import { recoverSuperUser } from "../domain/super-user-recovery.js";
import { createMongoAuditEventStore } from "../storage/audit-event-store.js";
import { createMongoKeyRepository } from "../storage/key-repository.js";
import { connectAndPing, createMongoClient } from "../storage/mongo-client.js";
import {
  checkPepperFingerprint,
  PepperMismatchError,
  recordedPepperFingerprint,
} from "../storage/pepper-fingerprint-store.js";
import { createMongoTenantRepository } from "../storage/tenant-repository.js";
import { ConfigError, loadConfig } from "./config.js";
import { keyFormatOf, keyHasherOf } from "./verification-config.js";

export interface OfflineRecoveryRequest {
  /** mongodbUri is secret (it may carry credentials). */
  readonly mongodbUri: string;
  /** dbName is the service's database; null means MONGODB_DB (or its default), as for the service. */
  readonly dbName: string | null;
  /** name of the new key; "" means the recovery's default name. */
  readonly name: string;
}

/** RecoveryRefusedError: the database does not confirm the pepper, so no key is issued. */
export class RecoveryRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecoveryRefusedError";
  }
}

/**
 * recoverSuperUserOffline issues a new super-user key hashed with the pepper of `env`. It writes nothing
 * unless the database's pepper record shows the pepper is the service's (else a RecoveryRefusedError).
 */
export async function recoverSuperUserOffline(
  env: Readonly<Record<string, string | undefined>>,
  request: OfflineRecoveryRequest,
): Promise<IssuedKey> {
  if (env.KEY_HASH_PEPPER === undefined || env.KEY_HASH_PEPPER === "") {
    // Never the development fallback: a key hashed with a pepper the service does not use never verifies.
    throw new ConfigError([
      "KEY_HASH_PEPPER: is required: the new key is hashed with the pepper the service runs with",
    ]);
  }
  const config = loadConfig({
    ...env,
    MONGODB_URI: request.mongodbUri,
    MONGODB_DB: request.dbName ?? env.MONGODB_DB,
  });
  const client = createMongoClient({
    uri: request.mongodbUri,
    serverSelectionTimeoutMS: config.mongo.serverSelectionTimeoutMs,
    connectTimeoutMS: config.mongo.connectTimeoutMs,
    socketTimeoutMS: config.mongo.socketTimeoutMs,
    maxPoolSize: 2,
    appName: "apikeys-recover-super-user",
  });
  const db = client.db(config.mongo.dbName);
  try {
    await connectAndPing(client, db);
    // The record is what proves the pepper: without one, a wrong pepper would be recorded, not refused.
    if ((await recordedPepperFingerprint(db)) === null) {
      throw new RecoveryRefusedError(
        `database ${JSON.stringify(config.mongo.dbName)} has no key hash pepper record, so the pepper cannot be checked: start the service once with its KEY_HASH_PEPPER (or check --db)`,
      );
    }
    try {
      await checkPepperFingerprint(db, config.keys.pepper, config.keys.previousPeppers);
    } catch (error) {
      throw error instanceof PepperMismatchError ? new RecoveryRefusedError(error.message) : error;
    }
    const auditLog = createMongoAuditEventStore(db);
    try {
      return await recoverSuperUser(
        {
          keys: createMongoKeyRepository(db),
          tenants: createMongoTenantRepository(db),
          random: { bytes: (length) => new Uint8Array(randomBytes(length)) },
          keyFormat: keyFormatOf(config),
          hasher: keyHasherOf(config),
          defaultKeyLimit: config.keys.defaultTenantKeyLimit,
          expiringSoonWindowMs: config.keys.expiringSoonWindowMs,
          auditLog,
          clock: { now: () => new Date() },
        },
        request.name,
      );
    } finally {
      await auditLog.close();
    }
  } finally {
    await client.close();
  }
}
