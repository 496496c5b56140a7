/**
 * Vitest global setup: one database server per test run. MONGODB_URI wins; otherwise a local server is
 * started (mongod on PATH, else the npm-shipped wire server). Each test file then uses its own database
 * (test/helpers/mongo.ts).
 */
import type { TestProject } from "vitest/node";
import {
  LocalDatabaseUnavailableError,
  type LocalMongo,
  startLocalMongo,
} from "../src/storage/local-mongo.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
    mongoKind: "external" | "mongod" | "jongodb";
    mongoPid: number;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.MONGODB_URI;
  if (external !== undefined && external !== "") {
    project.provide("mongoUri", external);
    project.provide("mongoKind", "external");
    project.provide("mongoPid", -1);
    return;
  }
  let mongo: LocalMongo;
  try {
    mongo = await startLocalMongo({ dataDir: ".data/test-mongo" });
  } catch (error) {
    // What to do, in one line, instead of a stack trace no test can help with.
    if (error instanceof LocalDatabaseUnavailableError) {
      process.stderr.write(`npm test: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  project.provide("mongoUri", mongo.uri);
  project.provide("mongoKind", mongo.kind);
  project.provide("mongoPid", mongo.pid);
  return async () => {
    await mongo.stop();
  };
}
