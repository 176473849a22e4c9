import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  type DescMessage,
  type DescMethod,
  fromBinary,
  fromJsonString,
  type JsonReadOptions,
  type JsonWriteOptions,
  type MessageShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import { RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { decodeSseBase64 } from "../../codec/sse/base64.js";
import { SSE_CONTENT_TYPE, sseMethodUrl } from "../../codec/sse/protocol.js";
import { requestCommon } from "../request-common.js";
import { type FetchFn, openSse } from "./open-sse.js";
import { createSseMessageReader, type SseMessageReader } from "./sse-message-reader.js";
import type { CredentialsMode } from "../../fetch-types.js";

/** Options of {@link createSseTransport}. */
export interface SseTransportOptions {
  /** The server's base URL, e.g. `https://weather.example.com`; calls go to `{baseUrl}/sse/{Service}/{Method}`. */
  readonly baseUrl: string;
  /**
   * `true` (default): messages travel as binary protobuf, base64 in the
   * events. `false`: JSON, readable in the browser's network panel.
   */
  readonly useBinaryFormat?: boolean;
  /** The `fetch` to call. Default the global `fetch`. */
  readonly fetch?: FetchFn;
  /** Client interceptors, applied as connect's own transports apply them. */
  readonly interceptors?: Interceptor[];
  /** Deadline of calls that set none, in milliseconds. Default none. */
  readonly defaultTimeoutMs?: number;
  /** `fetch` credentials mode (e.g. `"include"` for cookies on another origin). Default the browser's. */
  readonly credentials?: CredentialsMode;
  /** Longest event the transport accepts, in characters (`resource_exhausted` above). Default 4 MiB. */
  readonly readMaxChars?: number;
  /**
   * Where a `resume` event of the stream is reported when the HTTP response
   * did not carry it already. Default `weather-resume-status`.
   */
  readonly resumeStatusHeader?: string;
  /** protobuf-es options for the JSON format (`useBinaryFormat: false`). */
  readonly jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  /** protobuf-es options for the binary format. */
  readonly binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
}

/**
 * A connect `Transport` over Server-Sent Events: `fetch` POSTs the request
 * message to `/sse/{Service}/{Method}` and reads the `text/event-stream`
 * answer with `eventsource-parser`'s callbacks. Use it with `createClient`
 * where WebSocket upgrades are blocked.
 *
 * - Unary and server-streaming calls; client-streaming and bidi calls fail at
 *   once with `unimplemented` (use the WebSocket tunnel).
 * - Headers, `AbortSignal`, `timeoutMs` and interceptors behave as on connect's
 *   transports; response headers (including `weather-resume-status`) and
 *   trailers reach the caller (`onHeader` / `onTrailer`).
 * - To resume a stream, send the last cursor as a `Last-Event-ID` header
 *   (or `weather-resume-after`).
 * - Errors are `ConnectError`s: a network failure, or a stream cut before its
 *   final status event, is `unavailable`, never `unknown`.
 */
export function createSseTransport(options: SseTransportOptions): Transport {
  const binary = options.useBinaryFormat ?? true;
  const fetchFn: FetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const resumeStatusHeader = options.resumeStatusHeader ?? RESUME_STATUS_HEADER;

  function timeoutOf(timeoutMs: number | undefined): number | undefined {
    if (timeoutMs === undefined) return options.defaultTimeoutMs;
    return timeoutMs <= 0 ? undefined : timeoutMs;
  }

  function requestHeader(init: HeadersInit | undefined, timeoutMs: number | undefined): Headers {
    const header = new Headers(init);
    header.set("Content-Type", binary ? "application/proto" : "application/json");
    header.set("Accept", SSE_CONTENT_TYPE);
    if (timeoutMs !== undefined) header.set("Connect-Timeout-Ms", String(timeoutMs));
    return header;
  }

  async function call<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    url: string,
    header: Headers,
    message: MessageShape<I>,
    signal: AbortSignal,
  ): Promise<{ header: Headers; reader: SseMessageReader<MessageShape<O>> }> {
    const body = binary ? toBinary(method.input, message, options.binaryOptions) : toJsonString(method.input, message, options.jsonOptions);
    const res = await openSse({ fetch: fetchFn, url, header, body, signal, credentials: options.credentials });
    const reader = createSseMessageReader(res.body, {
      parse: binary
        ? (data) => fromBinary(method.output, decodeSseBase64(data), options.binaryOptions)
        : (data) => fromJsonString(method.output, data, options.jsonOptions),
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
      const timeout = timeoutOf(timeoutMs);
      return await runUnaryCall({
        interceptors: options.interceptors,
        signal,
        timeoutMs: timeout,
        req: {
          ...requestCommon(
            method,
            sseMethodUrl(options.baseUrl, method.parent.typeName, method.name),
            requestHeader(header, timeout),
            contextValues,
          ),
          stream: false,
          message: input,
        },
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
      const timeout = timeoutOf(timeoutMs);
      return await runStreamingCall({
        interceptors: options.interceptors,
        signal,
        timeoutMs: timeout,
        req: {
          ...requestCommon(
            method,
            sseMethodUrl(options.baseUrl, method.parent.typeName, method.name),
            requestHeader(header, timeout),
            contextValues,
          ),
          stream: true,
          message: input,
        },
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
