/** The verification pieces that come straight from the configuration. */
import { createKeyFormat, type KeyFormat } from "../domain/key-format.js";
import { createKeyHasher, type KeyHasher, type Pepper } from "../domain/key-hash.js";
import type { VerificationSettings } from "../verify/verification-runtime.js";
import type { Config, PepperVersion } from "./config.js";

function pepperOf(pepper: PepperVersion): Pepper {
  return { version: pepper.version, secret: Buffer.from(pepper.pepper, "utf8") };
}

export function keyFormatOf(config: Config): KeyFormat {
  return createKeyFormat(config.keys.prefix);
}

/** keyHasherOf hashes with the current pepper and verifies with it and every previous one. */
export function keyHasherOf(config: Config): KeyHasher {
  return createKeyHasher(pepperOf(config.keys.pepper), config.keys.previousPeppers.map(pepperOf));
}

/** verificationSettingsOf maps the cache, feed and last-used variables to the verification settings. */
export function verificationSettingsOf(config: Config): VerificationSettings {
  return {
    maxEntries: config.cache.keyMaxEntries,
    maxBytes: config.cache.keyMaxBytes,
    negativeMaxEntries: config.cache.negativeMaxEntries,
    negativeTtlMs: config.cache.negativeTtlMs,
    maxStaleMs: config.cache.maxStaleMs,
    lookupTimeoutMs: config.cache.lookupTimeoutMs,
    maxConcurrentLookups: config.cache.maxConcurrentLookups,
    invalidationPollMs: config.cache.invalidationPollMs,
    lastUsedWriteIntervalMs: config.usage.lastUsedWriteIntervalMs,
    refusedUsagePerSecond: config.usage.refusedPerSecond,
  };
}
