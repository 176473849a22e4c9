import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import type { SseRequest } from "./sse-request.js";
import type { SseResume } from "./sse-resume.js";

// Hop-by-hop and framing headers of the SSE request, which the Connect request
// replaces with its own. Client metadata (authorization, custom headers) passes.
const dropped = new Set([
  "accept",
  "accept-encoding",
  "connection",
  "content-encoding",
  "content-length",
  "content-type",
  "keep-alive",
  "last-event-id",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * The Connect-protocol request that feeds an SSE call into the router's own
 * handler, so interceptors, limits and error codes match every other
 * transport: `application/proto` for unary, an enveloped
 * `application/connect+proto` body for server streaming (JSON likewise), the
 * client's metadata, and `Last-Event-ID` copied into the method's resume header.
 *
 * @throws ConnectError `invalid_argument` when a `Last-Event-ID` is sent to a
 *   method that cannot resume.
 */
export function toUniversalRequest(
  requestHeader: Headers,
  handler: UniversalHandler,
  sse: SseRequest,
  resume: SseResume | undefined,
  signal: AbortSignal,
): UniversalServerRequest {
  const header = new Headers();
  requestHeader.forEach((value, name) => {
    if (dropped.has(name)) return;
    if ((name.startsWith("connect-") && name !== "connect-timeout-ms") || name.startsWith("grpc-")) return;
    header.append(name, value);
  });
  if (sse.lastEventId !== undefined) {
    if (resume === undefined) {
      throw new ConnectError(
        `${handler.requestPath} cannot resume: drop Last-Event-ID (and the lastEventId query parameter)`,
        Code.InvalidArgument,
      );
    }
    header.set(resume.resumeHeader, sse.lastEventId);
  }
  header.set("connect-protocol-version", "1");
  const streaming = handler.method.methodKind !== "unary";
  const format = sse.binary ? "proto" : "json";
  header.set("content-type", streaming ? `application/connect+${format}` : `application/${format}`);
  const body = streaming ? envelope(sse.message) : sse.message;
  return {
    httpVersion: "1.1",
    // connect calls `new URL` on it; the path is the RPC's, as on every transport.
    url: `http://${hostOf(requestHeader)}${handler.requestPath}`,
    method: "POST",
    header,
    // An async generator (connect calls `throw()` on request bodies).
    body: createAsyncIterable([body]),
    signal,
  };
}

function envelope(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.byteLength);
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, 5);
  return out;
}

function hostOf(header: Headers): string {
  const host = header.get("host");
  return host !== null && /^[\w.\-[\]:]+$/.test(host) ? host : "localhost";
}
