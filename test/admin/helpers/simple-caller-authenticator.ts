/**
 * A CallerAuthenticator for the admin tests, built from the same domain rules VerifyKey uses (key format,
 * keyed hash, verification policy, group permissions) straight on the repositories, without a cache. The
 * service wires the VerifyKey engine's own authenticator; this one lets the use cases be tested alone.
 */
import { compileAllowlist, parseClientIp } from "../../../src/domain/ip-allowlist.js";
import type { KeyFormat } from "../../../src/domain/key-format.js";
import type { KeyHasher } from "../../../src/domain/key-hash.js";
import { effectivePermissions } from "../../../src/domain/permissions.js";
import type {
  AuthenticatedKey,
  CallerAuthenticator,
  Clock,
  GroupRepository,
  KeyRepository,
} from "../../../src/domain/ports.js";
import { decideVerification } from "../../../src/domain/verification-policy.js";

/** SimpleCallerAuthenticatorDependencies are what createSimpleCallerAuthenticator reads. */
export interface SimpleCallerAuthenticatorDependencies {
  readonly keys: KeyRepository;
  readonly groups: GroupRepository;
  readonly keyFormat: KeyFormat;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
}

/** createSimpleCallerAuthenticator authenticates a whole key with VerifyKey's rules, uncached. */
export function createSimpleCallerAuthenticator(
  deps: SimpleCallerAuthenticatorDependencies,
): CallerAuthenticator {
  return {
    async authenticate(candidate, peerIp): Promise<AuthenticatedKey | null> {
      const parsed = deps.keyFormat.parse(candidate);
      if (parsed === null) {
        return null;
      }
      const key = await deps.keys.findById(parsed.keyId);
      if (key === null) {
        return null;
      }
      const current = key.secrets.length - 1;
      const index = key.secrets.findIndex((secret) =>
        deps.hasher.matches(candidate, secret.hash, secret.pepperVersion),
      );
      const matched = key.secrets[index];
      const group = key.groupId === "" ? null : await deps.groups.findById(key.groupId);
      const permissions = effectivePermissions(key.permissions, group?.permissions ?? null);
      const decision = decideVerification({
        key,
        matchedSecret:
          matched === undefined
            ? null
            : { generation: matched.generation, superseded: index !== current, expiresAt: matched.expiresAt },
        allowlist: compileAllowlist(key.ipAllowlist),
        clientIp: peerIp === null ? null : parseClientIp(peerIp),
        requiredPermissions: [],
        effectivePermissions: permissions,
        now: deps.clock.now(),
      });
      if (decision.code !== "valid") {
        return null;
      }
      return { keyId: key.id, tenantId: key.tenantId, userId: key.userId, groupId: key.groupId, permissions };
    },
  };
}
