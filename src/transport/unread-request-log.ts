/**
 * Requests the HTTP port refuses before any interceptor runs (unparsable, too large, an unusable content type
 * or timeout): the observer is told of such an error answer with a fixed message, since connect's own one may
 * quote the request body (docs/architecture.md, "Strict JSON requests").
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, codeFromString } from "@connectrpc/connect/protocol-connect";
import { UNPARSABLE_MESSAGE } from "./grpc-js-bridge.js";
import {
  type CallObserver,
  kCallLogged,
  kUnreadRequestBytes,
  protocolOf,
} from "./interceptors/request-log.js";

/** Error answers are small: more than this of an unlogged response is not kept to find its code. */
const MAX_KEPT_BYTES = 64 * 1024;

const REFUSED_UNREAD = "the request was refused before it was read";

/** logUnreadRequests returns `handler`, telling `observer` about the errors it answers before any interceptor. */
export function logUnreadRequests(handler: UniversalHandler, observer: CallObserver): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest) => {
    const values = req.contextValues;
    if (values === undefined) {
      return handler(req);
    }
    const startedAt = performance.now();
    let requestBytes = 0;
    const body = isByteStream(req.body)
      ? counted(req.body, (n) => {
          requestBytes += n;
        })
      : req.body;
    const res = await handler({ ...req, body });
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    const finish = () => {
      if (values.get(kCallLogged)) {
        return;
      }
      const code = codeOf(res.status, res.header, res.trailer, Buffer.concat(kept));
      if (code === 0) {
        return;
      }
      values.set(kUnreadRequestBytes, requestBytes);
      observer.callEnded(
        handler.method,
        protocolOf(req.header),
        code,
        performance.now() - startedAt,
        { values },
        new ConnectError(code === Code.InvalidArgument ? UNPARSABLE_MESSAGE : REFUSED_UNREAD, code),
      );
    };
    if (res.body === undefined) {
      finish();
      return res;
    }
    return {
      ...res,
      body: watched(
        res.body,
        (chunk) => {
          // A call the interceptors saw is theirs to report; only an unlogged answer is looked at.
          if (!values.get(kCallLogged) && keptBytes + chunk.byteLength <= MAX_KEPT_BYTES) {
            kept.push(chunk);
            keptBytes += chunk.byteLength;
          }
        },
        finish,
      ),
    };
  };
  // The handler's own properties (protocolNames, requestPath, method...) tell the router what it serves.
  return Object.assign(wrapped, handler);
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

async function* counted(
  body: AsyncIterable<Uint8Array>,
  count: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    count(chunk.byteLength);
    yield chunk;
  }
}

async function* watched(
  body: AsyncIterable<Uint8Array>,
  see: (chunk: Uint8Array) => void,
  done: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      see(chunk);
      yield chunk;
    }
  } finally {
    done();
  }
}

/**
 * codeOf reads the status code of an answer in each protocol: gRPC's grpc-status (headers or trailers),
 * gRPC-Web's trailer frame, a Connect unary error's JSON body, a Connect stream's end message, and else
 * the HTTP status (415 for an unknown content type...). 0 means OK.
 */
function codeOf(
  status: number,
  header: Headers | undefined,
  trailer: Headers | undefined,
  body: Uint8Array,
): number {
  const grpcStatus = trailer?.get("grpc-status") ?? header?.get("grpc-status");
  if (grpcStatus !== null && grpcStatus !== undefined) {
    return Number(grpcStatus);
  }
  const contentType = header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) {
    const frame = lastFrame(body, 0x80);
    const match = frame === null ? null : /^grpc-status:\s*(\d+)\s*$/im.exec(frame);
    return match?.[1] === undefined ? Code.Unknown : Number(match[1]);
  }
  if (contentType.startsWith("application/connect+")) {
    const frame = lastFrame(body, 0x02);
    return frame === null ? Code.Unknown : (connectErrorCode(frame, "stream") ?? 0);
  }
  if (status === 200) {
    return 0;
  }
  if (contentType.startsWith("application/json") && body.byteLength > 0) {
    return connectErrorCode(Buffer.from(body).toString("utf8"), "unary") ?? Code.Unknown;
  }
  return codeFromHttpStatus(status);
}

/** connectErrorCode reads the code of a Connect error (unary body, or a stream's end message). */
function connectErrorCode(json: string, form: "unary" | "stream"): number | undefined {
  try {
    const parsed = JSON.parse(json) as { code?: unknown; error?: { code?: unknown } };
    const code = form === "unary" ? parsed.code : parsed.error?.code;
    return typeof code === "string" ? (codeFromString(code) ?? Code.Unknown) : undefined;
  } catch {
    return Code.Unknown;
  }
}

/** lastFrame returns the text of the last enveloped frame with `flag` set (5-byte header: flags, length). */
function lastFrame(body: Uint8Array, flag: number): string | null {
  let found: string | null = null;
  let offset = 0;
  while (offset + 5 <= body.byteLength) {
    const flags = body[offset] ?? 0;
    const length = Buffer.from(body.buffer, body.byteOffset + offset + 1, 4).readUInt32BE(0);
    const end = offset + 5 + length;
    if (end > body.byteLength) {
      break;
    }
    if ((flags & flag) === flag) {
      found = Buffer.from(body.subarray(offset + 5, end)).toString("utf8");
    }
    offset = end;
  }
  return found;
}
