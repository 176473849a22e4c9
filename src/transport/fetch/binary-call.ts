// What the binary-only Connect and gRPC-Web fetch transports share. These
// transports carry protobuf's binary format only and never reference its JSON
// code: the fallback chunk that `createWeatherClient` loads on demand must not
// make `@bufbuild/protobuf`'s JSON modules part of the app, because a bundler
// that splits by file reachability (esbuild) would put them in what every page
// loads at start (connect's `ConnectError` already reaches protobuf's barrel).
import { type DescMessage, type DescMethod, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { createMethodUrl } from "@connectrpc/connect/protocol";
import { requestCommon } from "../request-common.js";

/** Options of the binary fetch transports. */
export interface BinaryFetchTransportOptions {
  /** The server's base URL; calls go to `{baseUrl}/{Service}/{Method}`. */
  readonly baseUrl: string;
  /** Client interceptors, applied through connect's call pipeline. */
  readonly interceptors: Interceptor[];
  /** The `fetch` to call. */
  readonly fetch: typeof globalThis.fetch;
}

/** What a binary call posts: the fields of the request that connect's call pipeline (and its interceptors) produced. */
interface PostedRequest {
  readonly url: string;
  readonly requestMethod: string;
  readonly header: Headers;
  readonly signal: AbortSignal;
}

/**
 * Sends one call's request with `fetch`. It never follows a redirect: a call
 * answered with one fails instead of reaching another endpoint.
 */
export function postBinary(fetch: typeof globalThis.fetch, req: PostedRequest, body: Uint8Array<ArrayBuffer>): Promise<Response> {
  return fetch(req.url, { redirect: "error", method: req.requestMethod, headers: req.header, signal: req.signal, body });
}

/**
 * What connect's `runUnaryCall` / `runStreamingCall` take for one call of a
 * binary fetch transport, but the request's `stream` and `message` and the
 * `next` that sends it: the interceptors, the signal, the deadline (none
 * when the caller gave none, and a timeout of zero or less also means none,
 * as connect's transports read it) and the request's common fields, with
 * the protocol's request headers for that deadline.
 */
export function binaryCall<M extends DescMethod>(
  options: BinaryFetchTransportOptions,
  method: M,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  contextValues: ContextValues | undefined,
  protocolHeader: (timeoutMs: number | undefined) => Headers,
) {
  const timeout = timeoutMs === undefined || timeoutMs <= 0 ? undefined : timeoutMs;
  return {
    interceptors: options.interceptors,
    signal,
    timeoutMs: timeout,
    req: requestCommon(method, createMethodUrl(options.baseUrl, method), protocolHeader(timeout), contextValues),
  };
}

/** Encodes a message in protobuf's binary format; a failure is `Internal`. */
export function serializeBinary<I extends DescMessage>(schema: I, message: MessageShape<I>): Uint8Array<ArrayBuffer> {
  try {
    return toBinary(schema, message);
  } catch (e) {
    throw new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
  }
}

/** Decodes a message from protobuf's binary format; a failure is `Internal`. */
export function parseBinary<O extends DescMessage>(schema: O, bytes: Uint8Array): MessageShape<O> {
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
  }
}

/**
 * The single request message of a server-streaming call over fetch (a
 * request body cannot stream): client-streaming and bidi calls fail.
 */
export async function firstRequest<I extends DescMessage>(
  methodKind: string,
  input: AsyncIterable<MessageShape<I>>,
): Promise<MessageShape<I>> {
  if (methodKind !== "server_streaming") {
    throw new ConnectError("The fetch API does not support streaming request bodies", Code.Unknown);
  }
  const first = await input[Symbol.asyncIterator]().next();
  if (first.done === true) throw new ConnectError("missing request message", Code.Unknown);
  return first.value;
}
