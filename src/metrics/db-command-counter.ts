/** Counts the database commands a MongoClient starts (it needs `monitorCommands: true`), total and by name. */
import type { CommandStartedEvent, MongoClient } from "mongodb";

export interface DbCommandCounter {
  total(): number;
  /** byName returns a copy of the per-command counts ("find", "update", "insert", "hello" ...). */
  byName(): Record<string, number>;
  detach(): void;
}

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
