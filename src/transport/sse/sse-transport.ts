import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type Transport } from "@connectrpc/connect";
import { runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import { RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { decodeSseBase64 } from "../../codec/sse/base64.js";
import { SSE_CONTENT_TYPE, sseMethodUrl } from "../../codec/sse/protocol.js";
import { requestCommon } from "../request-common.js";
import type { SseTransportOptions } from "./create-sse-transport.js";
import { type FetchFn, openSse } from "./open-sse.js";
import { createSseMessageReader, type SseMessageReader } from "./sse-message-reader.js";

/**
 * How the SSE transport writes the request message and reads each `message`
 * event. This module knows only the binary format (base64 in the events): the
 * JSON format lives with the public `createSseTransport`, so the weather
 * client's on-demand chunk, which uses binary only, never includes
 * protobuf's JSON code.
 */
export interface SseMessageFormat {
  /** The request's `Content-Type`. */
  readonly contentType: string;
  serialize<I extends DescMessage>(schema: I, message: MessageShape<I>): Uint8Array | string;
  parse<O extends DescMessage>(schema: O, data: string): MessageShape<O>;
}

/** Binary protobuf: the request body as it is, each event's data base64. */
export function binarySseFormat(binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>): SseMessageFormat {
  return {
    contentType: "application/proto",
    serialize: (schema, message) => toBinary(schema, message, binaryOptions),
    parse: (schema, data) => fromBinary(schema, decodeSseBase64(data), binaryOptions),
  };
}

/**
 * The SSE transport with the message format given (see `createSseTransport`
 * for what it does); `useBinaryFormat`, `jsonOptions` and `binaryOptions` of
 * `options` are not read here.
 */
export function createSseTransportWithFormat(options: SseTransportOptions, format: SseMessageFormat): Transport {
  const fetchFn: FetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const resumeStatusHeader = options.resumeStatusHeader ?? RESUME_STATUS_HEADER;

  /**
   * What connect's call pipeline takes for one call but the request's
   * `stream`, `message` and `next`: the deadline (the default when the caller
   * gave none; zero or less is none) and the request's common fields.
   */
  function callFields<M extends DescMethod>(
    method: M,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    init: HeadersInit | undefined,
    contextValues: ContextValues | undefined,
  ) {
    const timeout = timeoutMs === undefined ? options.defaultTimeoutMs : timeoutMs <= 0 ? undefined : timeoutMs;
    const header = new Headers(init);
    header.set("Content-Type", format.contentType);
    header.set("Accept", SSE_CONTENT_TYPE);
    if (timeout !== undefined) header.set("Connect-Timeout-Ms", String(timeout));
    const url = sseMethodUrl(options.baseUrl, method.parent.typeName, method.name);
    return { interceptors: options.interceptors, signal, timeoutMs: timeout, req: requestCommon(method, url, header, contextValues) };
  }

  async function call<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    url: string,
    header: Headers,
    message: MessageShape<I>,
    signal: AbortSignal,
  ): Promise<{ header: Headers; reader: SseMessageReader<MessageShape<O>> }> {
    const body = format.serialize(method.input, message);
    const res = await openSse({ fetch: fetchFn, url, header, body, signal, credentials: options.credentials });
    const reader = createSseMessageReader(res.body, {
      parse: (data) => format.parse(method.output, data),
      onResume(status) {
        if (!res.header.has(resumeStatusHeader)) res.header.set(resumeStatusHeader, status);
      },
      signal,
      maxEventChars: options.readMaxChars,
    });
    return { header: res.header, reader };
  }

  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const fields = callFields(method, signal, timeoutMs, header, contextValues);
      return await runUnaryCall({
        ...fields,
        req: { ...fields.req, stream: false, message: input },
        next: async (req) => {
          const { header: resHeader, reader } = await call(method, req.url, req.header, req.message, req.signal);
          let message: MessageShape<typeof method.output> | undefined;
          let count = 0;
          for (let r = await reader.next(); r.done !== true; r = await reader.next()) {
            message = r.value;
            count++;
          }
          if (message === undefined || count > 1) {
            throw new ConnectError(`protocol error: a unary SSE response carried ${count} messages instead of one`, Code.Internal);
          }
          return { stream: false, service: method.parent, method, header: resHeader, message, trailer: reader.trailer };
        },
      });
    },

    async stream(method, signal, timeoutMs, header, input, contextValues) {
      if (method.methodKind !== "server_streaming") {
        const kind = method.methodKind === "bidi_streaming" ? "bidi-streaming" : "client-streaming";
        throw new ConnectError(
          `${method.parent.typeName}.${method.name} is ${kind}: the SSE transport carries only unary and ` +
            "server-streaming calls; use the WebSocket tunnel (createWebSocketTransport) for this one",
          Code.Unimplemented,
        );
      }
      const fields = callFields(method, signal, timeoutMs, header, contextValues);
      return await runStreamingCall({
        ...fields,
        req: { ...fields.req, stream: true, message: input },
        next: async (req) => {
          const message = await single(req.message);
          const { header: resHeader, reader } = await call(method, req.url, req.header, message, req.signal);
          return {
            ...req,
            header: resHeader,
            trailer: reader.trailer,
            message: {
              [Symbol.asyncIterator]: () => ({
                next: () => reader.next(),
                return() {
                  reader.cancel();
                  return Promise.resolve({ done: true as const, value: undefined });
                },
              }),
            },
          };
        },
      });
    },
  };
}

/** The one request message of a server-streaming call. */
async function single<T>(messages: AsyncIterable<T>): Promise<T> {
  for await (const message of messages) return message;
  throw new ConnectError("protocol error: a server-streaming call needs one request message", Code.InvalidArgument);
}
