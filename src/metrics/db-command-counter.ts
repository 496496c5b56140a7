/**
 * DbCommandCounter counts the database commands a MongoClient starts, through the driver's command
 * monitoring (the client must be created with `monitorCommands: true`). The benchmark reads the total over
 * its warm run to prove warm verifications issue no commands; the metrics expose it as a counter.
 */
import type { CommandStartedEvent, MongoClient } from "mongodb";

/** DbCommandCounter is a running count of started commands, total and by command name. */
export interface DbCommandCounter {
  total(): number;
  /** byName returns a copy of the per-command counts ("find", "update", "insert", "hello" ...). */
  byName(): Record<string, number>;
  /** detach stops counting. */
  detach(): void;
}

/** countDbCommands starts counting the commands `client` sends. */
export function countDbCommands(client: MongoClient): DbCommandCounter {
  let total = 0;
  const byName = new Map<string, number>();
  const listener = (event: CommandStartedEvent): void => {
    total += 1;
    byName.set(event.commandName, (byName.get(event.commandName) ?? 0) + 1);
  };
  client.on("commandStarted", listener);
  return {
    total: () => total,
    byName: () => Object.fromEntries(byName),
    detach: () => {
      client.off("commandStarted", listener);
    },
  };
}
