import type { DescMessage, DescMethodStreaming, DescMethodUnary, JsonValue, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  appendHeaders,
  Code,
  ConnectError,
  type ContextValues,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { compressedFlag, createEnvelopeReadableStream, encodeEnvelope, runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import {
  endStreamFlag,
  endStreamFromJson,
  errorFromJson,
  requestHeader,
  trailerDemux,
  validateResponse,
} from "@connectrpc/connect/protocol-connect";
import { type BinaryFetchTransportOptions, binaryCall, firstRequest, postBinary, parseBinary, serializeBinary } from "./binary-call.js";

/**
 * The Connect protocol over `fetch` with binary messages (`application/proto`,
 * POST): unary and server-streaming calls, as connect-web's Connect transport
 * with `useBinaryFormat: true` makes them. Error bodies, end-stream messages
 * and trailers are read with connect's protocol helpers.
 */
export function createConnectFetchTransport(options: BinaryFetchTransportOptions): Transport {
  const { fetch } = options;
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      message: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const call = binaryCall(options, method, signal, timeoutMs, contextValues, (timeout) =>
        requestHeader(method.methodKind, true, timeout, header, false),
      );
      return await runUnaryCall<I, O>({
        ...call,
        req: { ...call.req, stream: false, message },
        next: async (req) => {
          const response = await postBinary(fetch, req, serializeBinary(method.input, req.message));
          const { isUnaryError, unaryError } = validateResponse(method.methodKind, true, response.status, response.headers);
          const [responseHeader, trailer] = trailerDemux(response.headers);
          if (isUnaryError) throw errorFromJson((await response.json()) as JsonValue, appendHeaders(responseHeader, trailer), unaryError);
          return {
            stream: false,
            service: method.parent,
            method,
            header: responseHeader,
            message: parseBinary(method.output, new Uint8Array(await response.arrayBuffer())),
            trailer,
          };
        },
      });
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      const call = binaryCall(options, method, signal, timeoutMs, contextValues, (timeout) =>
        requestHeader(method.methodKind, true, timeout, header, false),
      );
      return await runStreamingCall<I, O>({
        ...call,
        req: { ...call.req, stream: true, message: input },
        next: async (req) => {
          const request = await firstRequest(method.methodKind, req.message);
          const response = await postBinary(fetch, req, encodeEnvelope(0, serializeBinary(method.input, request)));
          validateResponse(method.methodKind, true, response.status, response.headers);
          if (response.body === null) throw new ConnectError("missing response body", Code.Unknown);
          const trailer = new Headers();
          return {
            ...req,
            header: response.headers,
            trailer,
            message: readConnectStream(method.output, response.body, response.headers, trailer, req.signal),
          };
        },
      });
    },
  };
}

/**
 * The messages of a Connect server stream: enveloped messages, then exactly
 * one end-stream message whose error (with the response headers added to its
 * metadata) is thrown, or whose metadata becomes the trailers.
 */
async function* readConnectStream<O extends DescMessage>(
  schema: O,
  body: ReadableStream<Uint8Array>,
  header: Headers,
  trailer: Headers,
  signal: AbortSignal,
): AsyncGenerator<MessageShape<O>> {
  const reader = createEnvelopeReadableStream(body).getReader();
  let ended = false;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const { flags, data } = r.value;
    if ((flags & compressedFlag) === compressedFlag) {
      throw new ConnectError("protocol error: received unsupported compressed output", Code.Internal);
    }
    if ((flags & endStreamFlag) === endStreamFlag) {
      ended = true;
      const endStream = endStreamFromJson(data);
      if (endStream.error !== undefined) {
        const error = endStream.error;
        header.forEach((value, key) => error.metadata.append(key, value));
        throw error;
      }
      endStream.metadata.forEach((value, key) => trailer.set(key, value));
      continue;
    }
    yield parseBinary(schema, data);
  }
  signal.throwIfAborted();
  if (!ended) throw new ConnectError("missing EndStreamResponse", Code.Unknown);
}
