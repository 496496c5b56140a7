/**
 * THE WIRING POINT for service implementations. Later work adds a service by editing wireServices only:
 * build repositories and use cases from `deps`, return the ServiceImpl objects, the indexes their
 * repositories declare, background tasks to start, and what to close at shutdown. main.ts and the test
 * server helper both call it, so tests run exactly the wiring production runs.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db, MongoClient } from "mongodb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AuditService } from "../gen/apikeys/v1/audit_service_pb.js";
import type { KeyAdminService } from "../gen/apikeys/v1/key_admin_service_pb.js";
import type { KeyVerifyService } from "../gen/apikeys/v1/key_verify_service_pb.js";
import type { IndexDeclaration } from "../storage/indexes.js";
import type { Config } from "./config.js";
import type { CloseHook } from "./start-server.js";

/** WireDeps are the process-wide resources service implementations are built from. */
export interface WireDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly mongoClient: MongoClient;
  readonly db: Db;
  /** metrics is the registry /metrics serves; register service metrics here. */
  readonly metrics: Registry;
}

/** StartHook starts a background task once indexes exist and before the ports open. */
export interface StartHook {
  readonly name: string;
  start(): Promise<void> | void;
}

/** WiredServices are the service implementations plus what the composition root must do for them. */
export interface WiredServices {
  readonly verify?: Partial<ServiceImpl<typeof KeyVerifyService>>;
  readonly admin?: Partial<ServiceImpl<typeof KeyAdminService>>;
  readonly audit?: Partial<ServiceImpl<typeof AuditService>>;
  /** indexes are created (awaited, fatal on failure) before anything starts. */
  readonly indexes: readonly IndexDeclaration[];
  readonly startHooks: readonly StartHook[];
  /** closeHooks run at shutdown after the transports stopped, before MongoDB closes (flush buffers here). */
  readonly closeHooks: readonly CloseHook[];
}

/** wireServices builds every service implementation. Services not wired yet answer UNIMPLEMENTED. */
export async function wireServices(_deps: WireDeps): Promise<WiredServices> {
  return {
    indexes: [],
    startHooks: [],
    closeHooks: [],
  };
}
