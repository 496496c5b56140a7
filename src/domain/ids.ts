/** Identifiers the service mints besides key ids: random group ids and audit event ids. */
import { randomUUID } from "node:crypto";
import { randomBase62 } from "./base62.js";
import type { RandomSource } from "./ports.js";

export const GROUP_ID_PREFIX = "grp_";
/** GROUP_ID_RANDOM_LENGTH is the number of random base62 characters after the prefix (≈ 95 bits). */
export const GROUP_ID_RANDOM_LENGTH = 16;
/** GROUP_ID_PATTERN is the syntax of a group id: "grp_" and 16 base62 characters. */
export const GROUP_ID_PATTERN = /^grp_[0-9A-Za-z]{16}$/;

/** newGroupId mints a group id, "grp_" + 16 random base62 characters. */
export function newGroupId(random: RandomSource): string {
  return GROUP_ID_PREFIX + randomBase62(random, GROUP_ID_RANDOM_LENGTH);
}

/** isGroupId tells whether `s` is syntactically a group id. */
export function isGroupId(s: string): boolean {
  return typeof s === "string" && GROUP_ID_PATTERN.test(s);
}

/** newEventId mints an audit event id: a random (version 4) UUID. */
export function newEventId(): string {
  return randomUUID();
}
