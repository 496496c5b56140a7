/** Counts the database commands a MongoClient starts (it needs `monitorCommands: true`). */
import type { MongoClient } from "mongodb";

export interface DbCommandCounter {
  total(): number;
  detach(): void;
}

export function countDbCommands(client: MongoClient): DbCommandCounter {
  let total = 0;
  const listener = (): void => {
    total += 1;
  };
  client.on("commandStarted", listener);
  return {
    total: () => total,
    detach: () => {
      client.off("commandStarted", listener);
    },
  };
}
