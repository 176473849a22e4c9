import { fromBinary, fromJsonString, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, endStreamFlag } from "@connectrpc/connect/protocol-connect";
import { encodeSseEvent } from "../../codec/sse/encoder.js";
import { SSE_END_EVENT, SSE_RESUME_EVENT } from "../../codec/sse/protocol.js";
import {
  encodeSseStatus,
  type SseStatus,
  sseStatusFromEndStream,
  sseStatusFromError,
  sseStatusFromErrorJson,
  sseStatusOk,
} from "../../codec/sse/status.js";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { readAll } from "../call/read-all.js";
import { createEnvelopeSplitter } from "./envelope-splitter.js";
import type { SseResume } from "./sse-resume.js";
import type { SseWriter } from "./sse-writer.js";

/** What {@link pumpResponse} needs besides the handler's response. */
export interface PumpContext {
  readonly handler: UniversalHandler;
  /** The call's encoding: base64 of binary messages, or JSON. */
  readonly binary: boolean;
  readonly resume: SseResume | undefined;
  readonly writer: SseWriter;
  /** Receives the body iterator so a disconnect can `return()` it. */
  readonly setBody: (body: AsyncIterator<Uint8Array>) => void;
}

/** The `end` event that carries `status`. */
export function endEvent(status: SseStatus): string {
  return encodeSseEvent({ event: SSE_END_EVENT, data: encodeSseStatus(status) });
}

/**
 * Translates a Connect-protocol response of the router's handler into SSE:
 * the response headers, a `resume` event when the handler answered a resume,
 * one message event per message (with `id:` = cursor for resumable methods),
 * and the `end` event with the status, error details and trailers.
 * Waits for the client to drain before pulling more from the handler.
 */
export async function pumpResponse(res: UniversalServerResponse, ctx: PumpContext): Promise<void> {
  const { writer } = ctx;
  const body = (res.body ?? createAsyncIterable<Uint8Array>([]))[Symbol.asyncIterator]();
  ctx.setBody(body);
  const [header, trailer] = splitHeaders(res.header ?? new Headers());
  writer.open(header);
  const resumeStatus = ctx.resume?.resumeStatusHeader;
  const resumed = resumeStatus === undefined ? null : header.get(resumeStatus);
  if (resumed !== null) writer.write(encodeSseEvent({ event: SSE_RESUME_EVENT, data: resumed }));

  if (ctx.handler.method.methodKind === "unary" || res.status !== 200) {
    const bytes = await readAll(body);
    if (res.status === 200) {
      writer.write(messageEvent(bytes, ctx));
      writer.end(endEvent(sseStatusOk(trailer)));
      return;
    }
    const fallback = new ConnectError(`HTTP ${res.status} from the handler`, codeFromHttpStatus(res.status));
    writer.end(endEvent(sseStatusFromErrorJson(parseJson(bytes), trailer, fallback)));
    return;
  }

  let status: SseStatus | undefined;
  const splitter = createEnvelopeSplitter((flags, data) => {
    if ((flags & endStreamFlag) === endStreamFlag) {
      status = sseStatusFromEndStream(parseJson(data));
    } else if (status === undefined) {
      writer.write(messageEvent(data, ctx));
    }
  });
  for (;;) {
    const next = await body.next();
    if (next.done === true || writer.closed) break;
    splitter.push(next.value);
    if (status !== undefined) break;
    if (writer.congested) await writer.drained();
  }
  if (status !== undefined) await body.return?.();
  status ??= sseStatusFromError(new ConnectError("the handler ended its stream without a status", Code.Internal));
  writer.end(endEvent(status));
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Node's native base64 where there is `Buffer` (the hot path of the reference server), else protobuf-es's. */
const toBase64: (data: Uint8Array) => string =
  typeof Buffer === "function" ? (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") : base64Encode;

function messageEvent(data: Uint8Array, ctx: PumpContext): string {
  const text = ctx.binary ? toBase64(data) : utf8.decode(data);
  if (ctx.resume === undefined) return encodeSseEvent({ data: text });
  const schema = ctx.handler.method.output;
  let message: Message;
  try {
    message = ctx.binary ? fromBinary(schema, data) : fromJsonString(schema, text);
  } catch (e) {
    throw new ConnectError("the handler sent a message that does not parse", Code.Internal, undefined, undefined, e);
  }
  return encodeSseEvent({ id: ctx.resume.cursor(message), data: text });
}

/** Separates Connect's framing headers and unary `trailer-*` headers from the call's own headers. */
function splitHeaders(all: Headers): [Headers, Headers] {
  const header = new Headers();
  const trailer = new Headers();
  all.forEach((value, name) => {
    if (name.startsWith("trailer-")) {
      trailer.append(name.slice("trailer-".length), value);
    } else if (
      !name.startsWith("connect-") &&
      !name.startsWith("grpc-") &&
      name !== "content-type" &&
      name !== "content-length" &&
      name !== "content-encoding"
    ) {
      header.append(name, value);
    }
  });
  return [header, trailer];
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}
