/** The caller of an admin or audit RPC, read the same way on both transports: credential and peer address. */
import type { HandlerContext } from "@connectrpc/connect";
import type { AdminAuthenticator } from "../domain/admin-access.js";
import type { Actor } from "../domain/api-key.js";
import { extractAdminCredential } from "../domain/credential.js";
import { kPeerAddress, kRequestId } from "./context-keys.js";

/** AdminCaller is what authenticating a call needs: the presented key (null if none/unusable) and peer IP. */
export interface AdminCaller {
  /** credential is the candidate key, or null. Secret: never log it. */
  readonly credential: string | null;
  readonly peerIp: string | null;
}

export function adminCallerOf(context: HandlerContext): AdminCaller {
  const authorization = context.requestHeader.get("authorization") ?? undefined;
  const xApiKey = context.requestHeader.get("x-api-key") ?? undefined;
  return {
    credential: extractAdminCredential({ authorization, xApiKey }),
    peerIp: peerIpOf(context.values.get(kPeerAddress)),
  };
}

/** authenticateAdminCall resolves the actor of a call, with its request id attached for the audit trail. */
export function authenticateAdminCall(access: AdminAuthenticator, context: HandlerContext): Promise<Actor> {
  const caller = adminCallerOf(context);
  return access.authenticate(caller.credential, caller.peerIp, context.values.get(kRequestId));
}

/** asAdminCaller makes unary handlers that run for the call's authenticated actor. */
export function asAdminCaller(access: AdminAuthenticator) {
  return <I, O>(handle: (actor: Actor, request: I) => Promise<O>) =>
    async (request: I, context: HandlerContext): Promise<O> =>
      handle(await authenticateAdminCall(access, context), request);
}

/**
 * peerIpOf strips the port: "[::1]:5000" → "::1" (grpc-js); connect-node writes "::ffff:127.0.0.1:5000"
 * without brackets, but a TCP peer always has a port, so the last ":" separates it. Null for "unknown" or "".
 */
export function peerIpOf(peer: string): string | null {
  if (peer === "" || peer === "unknown") {
    return null;
  }
  if (peer.startsWith("[")) {
    const end = peer.indexOf("]");
    return end > 1 ? peer.slice(1, end) : null;
  }
  const colon = peer.lastIndexOf(":");
  if (colon === -1) {
    return peer;
  }
  return /^[0-9]+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
}
