/**
 * Time bounds tests assert, derived from the service's configured defaults (never from a calm machine).
 */
import { loadConfig } from "../../src/server/config.js";

/** DEFAULTS is the configuration a server gets when no variable is set. */
export const DEFAULTS = loadConfig({});

/**
 * INVALIDATION_BOUND_MS: a change on one replica reaches another replica's cache within two polls of the
 * invalidation feed plus one lookup budget (the re-read of the changed key), with one more poll interval
 * of scheduling slack for a loaded machine.
 */
export const INVALIDATION_BOUND_MS = 3 * DEFAULTS.cache.invalidationPollMs + DEFAULTS.cache.lookupTimeoutMs;
