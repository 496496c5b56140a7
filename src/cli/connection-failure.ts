/**
 * Connection failures in words: a transport error that only says "stream closed CANCEL" or "socket hang up"
 * is turned into what went wrong and what to pass — the server speaks TLS and the CLI does not, or the
 * other way round, its certificate is not trusted, or it wants a client certificate. Only failures that
 * came from the connection are looked at; an error the server answered passes unchanged.
 */
import { connect as tlsConnect } from "node:tls";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** TlsTarget is the server the CLI talks to and whether it uses TLS. */
export interface TlsTarget {
  readonly url: URL;
  readonly tls: boolean;
  /** clientCertificate is true when --cert-file was given. */
  readonly clientCertificate: boolean;
}

/** Node's (OpenSSL's) codes for a server certificate the client does not trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const PROBE_TIMEOUT_MS = 2_000;

/** causeChain is the error and (up to four of) its causes. */
function causeChain(error: unknown): NodeJS.ErrnoException[] {
  const chain: NodeJS.ErrnoException[] = [];
  for (let current = error; chain.length < 5 && current instanceof Error; current = current.cause) {
    chain.push(current);
  }
  return chain;
}

/** speaksTls says whether a TLS handshake with `url`'s host and port succeeds (certificate not checked). */
function speaksTls(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      rejectUnauthorized: false,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** explainFailure returns a ConnectError that says what went wrong, or null when `error` needs no words. */
export async function explainFailure(error: ConnectError, target: TlsTarget): Promise<ConnectError | null> {
  const chain = causeChain(error);
  const codes = chain.flatMap((entry) => (typeof entry.code === "string" ? [entry.code] : []));
  const text = chain.map((entry) => entry.message).join(" ");
  const address = target.url.host;
  const explained = (message: string) =>
    new ConnectError(message, Code.Unavailable, undefined, undefined, error);
  const untrusted = codes.find((code) => UNTRUSTED_CERTIFICATE.has(code));
  if (untrusted !== undefined) {
    return explained(
      `the TLS certificate of ${address} is not trusted (${untrusted}): pass --ca-file with the CA that signed it`,
    );
  }
  if (/certificate required/i.test(text)) {
    return explained(`${address} requires a client certificate: pass --cert-file and --key-file`);
  }
  if (/alert (unknown ca|bad certificate|certificate unknown)/i.test(text)) {
    return explained(
      `${address} did not accept the client certificate of --cert-file (${target.clientCertificate ? "not signed by a CA it trusts" : "none was sent"})`,
    );
  }
  if (
    target.tls &&
    /wrong version number|packet length too long|EPROTO/i.test(`${text} ${codes.join(" ")}`)
  ) {
    return explained(`${address} does not speak TLS: use http:// (or host:port) instead of https://`);
  }
  const fromConnection = chain.length > 1 || /stream closed|socket hang up|ECONNRESET|EPIPE/i.test(text);
  if (!target.tls && fromConnection && (await speaksTls(target.url))) {
    return explained(
      `${address} speaks TLS: use https://${address} (and --ca-file if its certificate is not publicly trusted)`,
    );
  }
  return null;
}

/** connectionFailureInterceptor puts explainFailure's words on failed calls and streams. */
export function connectionFailureInterceptor(target: TlsTarget): Interceptor {
  const rethrow = async (thrown: unknown): Promise<never> => {
    if (thrown instanceof ConnectError && thrown.code !== Code.Unauthenticated) {
      throw (await explainFailure(thrown, target)) ?? thrown;
    }
    throw thrown;
  };
  return (next) => async (req) => {
    try {
      const response = await next(req);
      return response.stream ? { ...response, message: explained(response.message, rethrow) } : response;
    } catch (thrown) {
      return rethrow(thrown);
    }
  };
}

async function* explained<T>(
  messages: AsyncIterable<T>,
  rethrow: (thrown: unknown) => Promise<never>,
): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (thrown) {
    await rethrow(thrown);
  }
}
