/**
 * Usage-event ids. A usage event is minted on every VerifyKey call, where a random UUID per event costs
 * more than the rest of the event. Instead each process draws 96 random bits once and counts: the id is
 * "<16 base64url characters>.<counter in base 36>", unique across replicas and restarts (a collision needs
 * two processes drawing the same 96 bits) and unique within a process by the counter. Ids are identifiers,
 * not secrets, and promise nothing about order.
 */
import { randomBytes } from "node:crypto";

/** EventIdSource mints event ids. */
export type EventIdSource = () => string;

/** createEventIdSource returns a new source with its own random prefix. */
export function createEventIdSource(random: (size: number) => Uint8Array = randomBytes): EventIdSource {
  const prefix = `${Buffer.from(random(12)).toString("base64url")}.`;
  let counter = 0;
  return () => {
    counter += 1;
    return prefix + counter.toString(36);
  };
}
