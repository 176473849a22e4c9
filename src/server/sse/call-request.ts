import { fromJsonString, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { getJsonOptions, type UniversalHandler } from "@connectrpc/connect/protocol";
import { envelope } from "../../codec/tunnel/index.js";
import type { SseRequest } from "./sse-request.js";
import type { SseResume } from "./sse-resume.js";

// Hop-by-hop and framing headers of the SSE request, which the call replaces
// with its own. Client metadata (authorization, custom headers) passes.
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
 * The call's request metadata: the client's metadata from the SSE request,
 * and `Last-Event-ID` copied into the method's resume header, so the handler
 * sees what every other transport sends.
 *
 * @throws ConnectError `invalid_argument` when a `Last-Event-ID` is sent to a
 *   method that cannot resume.
 */
export function callHeader(requestHeader: Headers, handler: UniversalHandler, sse: SseRequest, resume: SseResume | undefined): Headers {
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
  return header;
}

const jsonOptions = getJsonOptions(undefined);
const utf8 = new TextDecoder();

/**
 * The call's one request envelope: the binary message as sent, or the JSON
 * message parsed as connect's JSON handlers parse it (unknown fields ignored).
 *
 * @throws ConnectError `invalid_argument` for JSON that is not the method's request message.
 */
export function callInput(handler: UniversalHandler, sse: SseRequest): Uint8Array {
  if (sse.binary) return envelope(sse.message);
  const schema = handler.method.input;
  try {
    return envelope(toBinary(schema, fromJsonString(schema, utf8.decode(sse.message), jsonOptions)));
  } catch (e) {
    throw ConnectError.from(e, Code.InvalidArgument);
  }
}
