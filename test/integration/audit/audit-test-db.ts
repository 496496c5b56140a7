/**
 * Fresh audit databases for integration tests: each test gets its own database (so seqs start at 1) on the
 * run's server, with the audit indexes in place, plus extra connection pools standing in for replicas.
 */
import { type Db, MongoClient } from "mongodb";
import { afterAll } from "vitest";
import { auditEventIndexes } from "../../../src/storage/audit-event-store.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { mongoUri, uniqueDbName, useTestDatabase } from "../../helpers/mongo.js";

/** AuditTestDatabases hands out fresh databases and replica connections, all closed after the file. */
export interface AuditTestDatabases {
  /** freshDb creates an empty database with the audit indexes. */
  freshDb(): Promise<Db>;
  /** replica opens another connection pool (another "replica") to the same database. */
  replica(db: Db): Promise<Db>;
}

/** useAuditTestDatabases must be called at the top of a describe block. */
export function useAuditTestDatabases(label: string): AuditTestDatabases {
  const { client } = useTestDatabase(label);
  const created: string[] = [];
  const clients: MongoClient[] = [];
  afterAll(async () => {
    // The in-memory wire server has no dropDatabase; a real server drops them.
    await Promise.all(
      created.map((name) =>
        client
          .db(name)
          .dropDatabase()
          .catch(() => undefined),
      ),
    );
    await Promise.all(clients.map((other) => other.close()));
  });
  return {
    async freshDb() {
      const db = client.db(uniqueDbName(label));
      created.push(db.databaseName);
      await ensureIndexes(db, auditEventIndexes());
      return db;
    },
    async replica(db) {
      const other = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000 });
      clients.push(other);
      await other.connect();
      return other.db(db.databaseName);
    },
  };
}
