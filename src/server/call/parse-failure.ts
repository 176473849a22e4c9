// Runtime-neutral (no node:* import): the Node server's HTTP handler and the fetch handler both wrap their handlers with it.
import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { readAll } from "./read-all.js";

/**
 * How connect words a request message that does not parse as protobuf
 * (a truncated field, a wrong wire type, invalid UTF-8 in a string): the
 * message of the `internal` error its serialization throws. On a server,
 * only request messages are parsed, so this error is always the client's.
 */
const PARSE_FAILURE_PREFIX = "parse binary: ";
const CONNECT_END_STREAM_FLAG = 0b10;
const GRPC_INTERNAL = String(Code.Internal);
const GRPC_INVALID_ARGUMENT = String(Code.InvalidArgument);

/**
 * Wraps a connect universal handler so that a request message that does not
 * parse is answered `invalid_argument` (a client error, HTTP 400 on Connect
 * unary) instead of connect's `internal` (HTTP 500), on Connect (unary and
 * streaming), gRPC and gRPC-Web. Only that error is rewritten, with its
 * message kept; every other response passes through untouched (a streaming
 * body is scanned envelope by envelope, holding only its end-of-stream
 * envelope).
 */
export function withParseFailuresAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (request: Parameters<UniversalHandler>[0]) => reportParseFailure(await handler(request));
  return Object.assign(wrapped, {
    method: handler.method,
    service: handler.service,
    protocolNames: handler.protocolNames,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
    requestPath: handler.requestPath,
  });
}

async function reportParseFailure(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const { body, header } = response;
  if (body === undefined || header === undefined) return response;
  const contentType = header.get("content-type") ?? "";
  // Connect unary: an error is the whole (uncompressed, small) JSON body of a non-200 response.
  if (contentType.startsWith("application/json") && response.status === 500 && !header.has("content-encoding")) {
    return rewriteUnaryError(body, header, response);
  }
  if (contentType.startsWith("application/connect+")) {
    return { ...response, body: rewriteLastEnvelope(body, CONNECT_END_STREAM_FLAG, rewriteConnectEndStream) };
  }
  if (contentType.startsWith("application/grpc-web")) {
    return { ...response, body: rewriteLastEnvelope(body, trailerFlag, rewriteGrpcWebTrailer) };
  }
  const trailer = response.trailer;
  if (contentType.startsWith("application/grpc") && trailer !== undefined) {
    // gRPC's status is in the trailers, complete once the body has ended (before they are written).
    return { ...response, body: afterLast(body, () => rewriteGrpcStatus(trailer)) };
  }
  return response;
}

/**
 * The same rule for a call's outcome as a `ConnectError` (the tunnel's `end`
 * frame): connect's `internal` for a request message that does not parse
 * becomes `invalid_argument`, with its message and metadata; anything else
 * is returned as it is.
 */
export function parseFailureAsInvalidArgument<E extends ConnectError | undefined>(error: E): E | ConnectError {
  if (error === undefined || error.code !== Code.Internal || !error.rawMessage.startsWith(PARSE_FAILURE_PREFIX)) return error;
  return new ConnectError(error.rawMessage, Code.InvalidArgument, error.metadata, undefined, error.cause); // parse errors carry no details
}

function isParseFailure(code: unknown, message: unknown): boolean {
  return typeof message === "string" && message.startsWith(PARSE_FAILURE_PREFIX) && (code === "internal" || code === GRPC_INTERNAL);
}

/** A unary error body is already in memory when connect returns the response: read, and rewritten if it is a parse failure. */
async function rewriteUnaryError(
  body: AsyncIterable<Uint8Array>,
  responseHeader: Headers,
  response: UniversalServerResponse,
): Promise<UniversalServerResponse> {
  const bytes = await readAll(body[Symbol.asyncIterator]());
  const error = parseJsonObject(bytes);
  if (error === undefined || !isParseFailure(error["code"], error["message"])) {
    return { ...response, body: createAsyncIterable([bytes]) };
  }
  const rewritten = new TextEncoder().encode(JSON.stringify({ ...error, code: "invalid_argument" }));
  const header = new Headers(responseHeader);
  if (header.has("content-length")) header.set("content-length", String(rewritten.byteLength));
  return { ...response, status: 400, header, body: createAsyncIterable([rewritten]) };
}

function rewriteConnectEndStream(data: Uint8Array): Uint8Array {
  const endStream = parseJsonObject(data);
  const error = endStream?.["error"];
  if (typeof error !== "object" || error === null || Array.isArray(error)) return data;
  const fields = error as Record<string, unknown>;
  if (!isParseFailure(fields["code"], fields["message"])) return data;
  return new TextEncoder().encode(JSON.stringify({ ...endStream, error: { ...fields, code: "invalid_argument" } }));
}

function rewriteGrpcWebTrailer(data: Uint8Array): Uint8Array {
  const trailer = trailerParse(data);
  return rewriteGrpcStatus(trailer) ? trailerSerialize(trailer) : data;
}

/** Rewrites a gRPC parse-failure status in place; true when it did. */
function rewriteGrpcStatus(trailer: Headers): boolean {
  const message = trailer.get("grpc-message");
  let decoded: string | undefined;
  try {
    decoded = message === null ? undefined : decodeURIComponent(message);
  } catch {
    decoded = undefined;
  }
  if (!isParseFailure(trailer.get("grpc-status"), decoded)) return false;
  trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
  return true;
}

async function* afterLast(body: AsyncIterable<Uint8Array>, done: () => void): AsyncIterable<Uint8Array> {
  yield* body;
  done();
}

/**
 * Passes a stream of envelopes (flags byte, uint32 length, data) through
 * chunk by chunk, whatever the chunking; the envelope whose flags are
 * exactly `flag` ends the body (Connect's end-stream, gRPC-Web's trailer),
 * so it and whatever follows are held and that envelope's data rewritten.
 */
async function* rewriteLastEnvelope(
  body: AsyncIterable<Uint8Array>,
  flag: number,
  rewrite: (data: Uint8Array) => Uint8Array,
): AsyncIterable<Uint8Array> {
  const header = new Uint8Array(5);
  let headerBytes = 0;
  let dataLeft = 0;
  let held: Uint8Array[] | undefined;
  for await (const chunk of body) {
    if (held !== undefined) {
      held.push(chunk);
      continue;
    }
    let pos = 0;
    while (pos < chunk.byteLength) {
      if (dataLeft > 0) {
        const step = Math.min(dataLeft, chunk.byteLength - pos);
        pos += step;
        dataLeft -= step;
        continue;
      }
      if (headerBytes === 0 && chunk[pos] === flag) {
        held = [chunk.subarray(pos)];
        break;
      }
      header[headerBytes++] = chunk[pos++] ?? 0;
      if (headerBytes === 5) {
        headerBytes = 0;
        dataLeft = new DataView(header.buffer).getUint32(1);
      }
    }
    const passed = held === undefined ? chunk : chunk.subarray(0, chunk.byteLength - (held[0]?.byteLength ?? 0));
    if (passed.byteLength > 0) yield passed;
  }
  if (held === undefined) return;
  const last = await readAll(createAsyncIterable(held)[Symbol.asyncIterator]());
  const length = last.byteLength >= 5 ? new DataView(last.buffer, last.byteOffset).getUint32(1) : -1;
  if (length !== last.byteLength - 5) {
    yield last; // not one whole envelope: not ours to judge
    return;
  }
  const original = last.subarray(5);
  const data = rewrite(original);
  if (data === original) {
    yield last;
    return;
  }
  const envelope = new Uint8Array(5 + data.byteLength);
  envelope[0] = flag;
  new DataView(envelope.buffer).setUint32(1, data.byteLength);
  envelope.set(data, 5);
  yield envelope;
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
