/**
 * CallerAuthenticator on the KeyVerifier: admin and audit callers present a key issued by this service, and
 * it is checked exactly like VerifyKey checks one — same format and checksum rules, same cache, same policy
 * (revoked, expired, overlap ended, IP allowlist) — with the caller's socket address as the client IP (an
 * admin request comes straight from the admin tool, not through a gateway). Which permissions the admin API
 * requires is the admin use cases' business: they receive the effective permissions.
 *
 * A successful authentication counts as a use of the key ("last used"), but is not a VerifyKey usage event.
 */

import { type ParsedIp, parseClientIp } from "../domain/ip-allowlist.js";
import type { KeyVerifier, UsageRecorder } from "../domain/key-verifier.js";
import type { AuthenticatedKey, CallerAuthenticator, Clock } from "../domain/ports.js";

/** VerifierCallerAuthenticatorOptions configure the authenticator. */
export interface VerifierCallerAuthenticatorOptions {
  readonly verifier: Pick<KeyVerifier, "evaluate">;
  readonly clock: Clock;
  readonly usage?: Pick<UsageRecorder, "used">;
}

const NO_PERMISSIONS: readonly string[] = Object.freeze([]);

/** peerAddress parses a socket peer address ("::ffff:10.0.0.1", "127.0.0.1", "::1"); null when unusable. */
export function peerAddress(peerIp: string | null): ParsedIp | null {
  if (peerIp === null || peerIp === "") {
    return null;
  }
  return parseClientIp(peerIp);
}

/** createVerifierCallerAuthenticator builds the CallerAuthenticator the admin and audit services use. */
export function createVerifierCallerAuthenticator(
  options: VerifierCallerAuthenticatorOptions,
): CallerAuthenticator {
  const { verifier, clock } = options;
  const usage = options.usage ?? null;
  return {
    async authenticate(candidate, peerIp) {
      // An unusable peer address is "unknown": a key with an allowlist then fails closed.
      const result = await verifier.evaluate(candidate, peerAddress(peerIp), NO_PERMISSIONS);
      if (!result.valid || result.key === null) {
        return null;
      }
      const key = result.key;
      if (usage !== null) {
        usage.used(key.keyId, clock.now());
      }
      const authenticated: AuthenticatedKey = {
        keyId: key.keyId,
        tenantId: key.tenantId,
        userId: key.userId,
        groupId: key.groupId,
        permissions: result.permissions,
      };
      return authenticated;
    },
  };
}
