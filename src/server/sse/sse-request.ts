import { Code, ConnectError } from "@connectrpc/connect";
import { SSE_LAST_EVENT_ID_PARAM } from "../../codec/sse/protocol.js";
import { base64Decode } from "@bufbuild/protobuf/wire";
import type { SseExchange } from "./exchange.js";

/** An SSE request, validated and read: what the route dispatches into a handler. */
export interface SseRequest {
  /** Binary protobuf (events carry base64) or JSON (events carry JSON). */
  readonly binary: boolean;
  /** The request message, serialized in that encoding. */
  readonly message: Uint8Array;
  /** `Last-Event-ID` from the header, else from the query; absent when empty. */
  readonly lastEventId: string | undefined;
}

const postContentType = /^application\/(proto|json)(?:;\s*charset=utf-?8)?$/i;

/**
 * Reads an SSE request: `POST` with an `application/proto` or
 * `application/json` body, or `GET` with Connect's GET query parameters
 * (`encoding=proto|json`, `message`, `base64=1`).
 *
 * @throws ConnectError `invalid_argument` for a malformed request,
 *   `resource_exhausted` for a body over `maxBytes`.
 */
export async function readSseRequest(exchange: SseExchange, header: Headers, maxBytes: number): Promise<SseRequest> {
  const query = exchange.url.searchParams;
  const lastEventId = nonEmpty(header.get("last-event-id")) ?? nonEmpty(query.get(SSE_LAST_EVENT_ID_PARAM));
  if (exchange.method === "GET") {
    return { ...readQueryMessage(query, maxBytes), lastEventId };
  }
  const contentType = header.get("content-type") ?? "";
  const match = postContentType.exec(contentType);
  if (match === null) {
    throw new ConnectError(`an SSE POST body must be application/proto or application/json, got "${contentType}"`, Code.InvalidArgument);
  }
  const binary = match[1]?.toLowerCase() === "proto";
  return { binary, message: await exchange.readBody(maxBytes), lastEventId };
}

function readQueryMessage(query: URLSearchParams, maxBytes: number): { binary: boolean; message: Uint8Array } {
  const encoding = query.get("encoding");
  if (encoding !== "proto" && encoding !== "json") {
    throw new ConnectError(
      `query parameter "encoding" must be "json" or "proto", got ${encoding === null ? "nothing" : `"${encoding}"`}`,
      Code.InvalidArgument,
    );
  }
  const compression = query.get("compression");
  if (compression !== null && compression !== "identity") {
    throw new ConnectError(`SSE GET requests cannot be compressed (compression=${compression})`, Code.InvalidArgument);
  }
  const text = query.get("message") ?? "";
  const message =
    query.get("base64") === "1" ? strictBase64(text) : new TextEncoder().encode(text === "" && encoding === "json" ? "{}" : text);
  if (message.byteLength > maxBytes) throw tooBig(maxBytes);
  return { binary: encoding === "proto", message };
}

/** Standard or URL-safe base64, padded or not; nothing else (no spaces, no stray characters, no impossible length). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function strictBase64(text: string): Uint8Array {
  const unpadded = text.replace(/=+$/, "");
  if (!BASE64.test(text) || unpadded.length % 4 === 1 || (text.length !== unpadded.length && text.length % 4 !== 0)) {
    throw new ConnectError('query parameter "message" is not valid base64 (base64=1)', Code.InvalidArgument);
  }
  return base64Decode(text);
}

/** The error for a request message over `maxBytes`. */
export function tooBig(maxBytes: number): ConnectError {
  return new ConnectError(`the request message exceeds ${maxBytes} bytes`, Code.ResourceExhausted);
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === "" ? undefined : value;
}
