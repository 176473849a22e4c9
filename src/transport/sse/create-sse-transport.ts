import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  fromJsonString,
  type JsonReadOptions,
  type JsonWriteOptions,
  toJsonString,
} from "@bufbuild/protobuf";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { binarySseFormat, createSseTransportWithFormat, type SseMessageFormat } from "./sse-transport.js";
import type { FetchFn } from "./open-sse.js";
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
  const format = (options.useBinaryFormat ?? true) ? binarySseFormat(options.binaryOptions) : jsonSseFormat(options.jsonOptions);
  return createSseTransportWithFormat(options, format);
}

/** JSON (protobuf's JSON mapping): the request body and each event's data as JSON text. */
function jsonSseFormat(jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>): SseMessageFormat {
  return {
    contentType: "application/json",
    serialize: (schema, message) => toJsonString(schema, message, jsonOptions),
    parse: (schema, data) => fromJsonString(schema, data, jsonOptions),
  };
}
