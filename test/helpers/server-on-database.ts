/**
 * The service on a database of the test's own (one it freezes, or reaches through a relay), connected the way
 * main connects (the configured server selection, connect and socket timeouts), with a super-user key and
 * the tenant "acme" created through the API.
 */
import { SUPERUSER_PERMISSION, SYSTEM_TENANT } from "../../src/domain/api-key.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { loadConfig } from "../../src/server/config.js";
import { createMongoKeyRepository } from "../../src/storage/key-repository.js";
import { createMongoClient } from "../../src/storage/mongo-client.js";
import { createConnectClient } from "./connect-client.js";
import { fixtureServerEnv, issueKey } from "./key-fixtures.js";
import { startTestServer, type TestServer } from "./start-server.js";

/** ServerOnDatabase is the running service, its super-user key, and how to stop both it and its client. */
export interface ServerOnDatabase {
  readonly server: TestServer;
  readonly adminKey: string;
  close(): Promise<void>;
}

/** startServerOnDatabase starts the service on the database at `uri` (database `dbName`). */
export async function startServerOnDatabase(uri: string, dbName: string): Promise<ServerOnDatabase> {
  const config = loadConfig({});
  const mongoClient = createMongoClient({
    uri,
    serverSelectionTimeoutMS: config.mongo.serverSelectionTimeoutMs,
    connectTimeoutMS: config.mongo.connectTimeoutMs,
    socketTimeoutMS: config.mongo.socketTimeoutMs,
  });
  await mongoClient.connect();
  const db = mongoClient.db(dbName);
  const adminKey = (
    await issueKey(createMongoKeyRepository(db), {
      tenantId: SYSTEM_TENANT,
      permissions: [SUPERUSER_PERMISSION],
    })
  ).key;
  const server = await startTestServer(
    { client: mongoClient, db, dbName, uri },
    { env: { ...fixtureServerEnv } },
  );
  // Keys live in tenants that exist.
  await createConnectClient(KeyAdminService, server.httpBaseUrl).createTenant(
    { tenantId: "acme" },
    { headers: { authorization: `Bearer ${adminKey}` } },
  );
  return {
    server,
    adminKey,
    async close() {
      await server.shutdown();
      await mongoClient.close(true);
    },
  };
}
