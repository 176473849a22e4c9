import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { compressedFlag, createEnvelopeReadableStream, encodeEnvelope, runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import {
  headerGrpcStatus,
  requestHeader,
  trailerFlag,
  trailerParse,
  validateResponse,
  validateTrailer,
} from "@connectrpc/connect/protocol-grpc-web";
import { type BinaryFetchTransportOptions, binaryCall, firstRequest, postBinary, parseBinary, serializeBinary } from "./binary-call.js";

/**
 * The gRPC-Web protocol over `fetch` with binary messages
 * (`application/grpc-web+proto`): unary and server-streaming calls, as
 * connect-web's gRPC-Web transport makes them. Every HTTP status from 200 to
 * 299 is a response; the status comes from the trailer frame in the body, or
 * from the headers of a trailers-only response.
 */
export function createGrpcWebFetchTransport(options: BinaryFetchTransportOptions): Transport {
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
      const call = binaryCall(options, method, signal, timeoutMs, contextValues, (timeout) => requestHeader(true, timeout, header, false));
      return await runUnaryCall<I, O>({
        ...call,
        req: { ...call.req, stream: false, message },
        next: async (req) => {
          const response = await postBinary(fetch, req, encodeEnvelope(0, serializeBinary(method.input, req.message)));
          const { headerError } = validateResponse(response.status, response.headers);
          if (response.body === null) throw headerError ?? new ConnectError("missing response body", Code.Unknown);
          const reader = createEnvelopeReadableStream(response.body).getReader();
          let trailer: Headers | undefined;
          let output: MessageShape<O> | undefined;
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            const { flags, data } = r.value;
            if ((flags & compressedFlag) === compressedFlag) {
              throw new ConnectError("protocol error: received unsupported compressed output", Code.Internal);
            }
            if (flags === trailerFlag) {
              if (trailer !== undefined) throw new ConnectError("extra trailer", Code.Unknown);
              // An error may come as a body with the trailer alone, without a message.
              trailer = trailerParse(data);
              continue;
            }
            if (output !== undefined) throw new ConnectError("extra message", Code.Unimplemented);
            output = parseBinary(method.output, data);
          }
          if (trailer === undefined) {
            throw (
              headerError ?? new ConnectError("missing trailer", response.headers.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown)
            );
          }
          validateTrailer(trailer, response.headers);
          if (output === undefined) {
            throw new ConnectError("missing message", trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown);
          }
          return { stream: false, service: method.parent, method, header: response.headers, message: output, trailer };
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
      const call = binaryCall(options, method, signal, timeoutMs, contextValues, (timeout) => requestHeader(true, timeout, header, false));
      return await runStreamingCall<I, O>({
        ...call,
        req: { ...call.req, stream: true, message: input },
        next: async (req) => {
          const request = await firstRequest(method.methodKind, req.message);
          const response = await postBinary(fetch, req, encodeEnvelope(0, serializeBinary(method.input, request)));
          const { foundStatus, headerError } = validateResponse(response.status, response.headers);
          if (headerError !== undefined) throw headerError;
          if (response.body === null) throw new ConnectError("missing response body", Code.Unknown);
          const trailer = new Headers();
          return {
            ...req,
            header: response.headers,
            trailer,
            message: readGrpcWebStream(method.output, response.body, foundStatus, response.headers, trailer, req.signal),
          };
        },
      });
    },
  };
}

/**
 * The messages of a gRPC-Web server stream: messages, then exactly one
 * trailer frame, validated (a non-zero status is thrown). A response whose
 * headers carried the status already (trailers-only) must have an empty body.
 */
async function* readGrpcWebStream<O extends DescMessage>(
  schema: O,
  body: ReadableStream<Uint8Array>,
  trailersOnly: boolean,
  header: Headers,
  trailer: Headers,
  signal: AbortSignal,
): AsyncGenerator<MessageShape<O>> {
  const reader = createEnvelopeReadableStream(body).getReader();
  if (trailersOnly) {
    if (!(await reader.read()).done) throw new ConnectError("extra data for trailers-only", Code.Unknown);
    return;
  }
  let trailerReceived = false;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const { flags, data } = r.value;
    if ((flags & trailerFlag) === trailerFlag) {
      if (trailerReceived) throw new ConnectError("extra trailer", Code.Unknown);
      trailerReceived = true;
      const received = trailerParse(data);
      validateTrailer(received, header);
      received.forEach((value, key) => trailer.set(key, value));
      continue;
    }
    if (trailerReceived) throw new ConnectError("extra message", Code.Unknown);
    yield parseBinary(schema, data);
  }
  signal.throwIfAborted();
  if (!trailerReceived) throw new ConnectError("missing trailer", Code.Unknown);
}
