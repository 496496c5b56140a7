/** Identifiers the service mints besides key ids: random group ids and audit event ids. */
import { randomUUID } from "node:crypto";
import { randomBase62 } from "./base62.js";
import type { RandomSource } from "./ports.js";

export const GROUP_ID_PREFIX = "grp_";
/** GROUP_ID_RANDOM_LENGTH is the number of random base62 characters after the prefix (≈ 95 bits). */
export const GROUP_ID_RANDOM_LENGTH = 16;
export const GROUP_ID_PATTERN = /^grp_[0-9A-Za-z]{16}$/;

export function newGroupId(random: RandomSource): string {
  return GROUP_ID_PREFIX + randomBase62(random, GROUP_ID_RANDOM_LENGTH);
}

export function isGroupId(s: string): boolean {
  return typeof s === "string" && GROUP_ID_PATTERN.test(s);
}

/** newEventId mints an audit event id: a random (version 4) UUID. */
export function newEventId(): string {
  return randomUUID();
}
