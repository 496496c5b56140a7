import { randomUUID } from "node:crypto";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  type AdminConnection,
  DEFAULT_TIMEOUT_MS,
  type GlobalOptions,
  openAdminConnection,
} from "./admin-connection.js";
import { CliError, usageError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { ExitCode } from "./exit-codes.js";

/**
 * CommandContext is what every command action gets: the I/O, the global options, a lazily opened
 * connection, and the shared behaviours (JSON output, confirmation, request ids, secret registration).
 */
export interface CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  /** connection opens (once) the clients; requireKey=false for Bootstrap. */
  connection(requireKey?: boolean): AdminConnection;
  /** callOptions are the options of one unary call: its deadline and the interrupt signal. */
  callOptions(): { timeoutMs: number; signal: AbortSignal };
  printJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void;
  /** confirm asks before a destructive action, or refuses when no human can answer and --yes is missing. */
  confirm(action: string, question: () => Promise<string>): Promise<void>;
  /**
   * requestIdOf returns --request-id, or a fresh UUID, so a retried mutation is applied once. The id is
   * remembered for the run's error line (and printed at once with --verbose), so a retry can reuse it.
   */
  requestIdOf(options: { requestId?: string }): string;
  registerSecret(value: string): void;
}

/**
 * CommandRuntime is the per-run state behind the contexts: the I/O, the secrets to redact, and the request
 * id of the run's mutation (named in its error line so a retry can reuse it).
 */
export interface CommandRuntime {
  readonly io: CliIo;
  readonly secrets: Set<string>;
  requestId?: string;
}

export function createCommandContext(runtime: CommandRuntime, command: Command): CommandContext {
  const io = runtime.io;
  const globals = command.optsWithGlobals<GlobalOptions>();
  let connection: AdminConnection | undefined;
  const registerSecret = (value: string): void => {
    if (value.length >= 4) {
      runtime.secrets.add(value);
    }
  };
  return {
    io,
    globals,
    connection(requireKey = true) {
      connection ??= openAdminConnection(globals, io, { requireKey });
      return connection;
    },
    callOptions() {
      return { timeoutMs: globals.timeout ?? DEFAULT_TIMEOUT_MS, signal: io.interrupt };
    },
    printJson(schema, message) {
      io.out(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
    },
    async confirm(action, question) {
      if (globals.yes === true) {
        return;
      }
      if (!io.stdinIsTTY) {
        throw usageError(`refusing to ${action} without confirmation: stdin is not a terminal; pass --yes`);
      }
      const answer = await io.prompt(`${await question()} [y/N] `);
      if (!/^\s*y(es)?\s*$/i.test(answer)) {
        throw new CliError(`aborted: ${action} not confirmed`, ExitCode.unexpected);
      }
    },
    requestIdOf(options) {
      if (options.requestId !== undefined && !/^[\x20-\x7e]{1,255}$/.test(options.requestId)) {
        throw usageError("invalid --request-id: use 1-255 printable ASCII characters");
      }
      const requestId = options.requestId ?? randomUUID();
      runtime.requestId = requestId;
      if (globals.verbose === true) {
        io.err(`apikeys: request id ${requestId}\n`);
      }
      return requestId;
    },
    registerSecret,
  };
}
