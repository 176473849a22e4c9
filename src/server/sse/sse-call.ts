import { type DescMethod, fromBinary, type Message, toJsonString } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeSseEvent } from "../../codec/sse/encoder.js";
import { SSE_END_EVENT, SSE_RESUME_EVENT } from "../../codec/sse/protocol.js";
import { encodeSseStatus, type SseStatus, sseStatusFromError, sseStatusOk } from "../../codec/sse/status.js";
import { forEachEnvelope, type HeaderList } from "../../codec/tunnel/index.js";
import { parseFailureAsInvalidArgument } from "../call/parse-failure.js";
import type { UniversalCall, UniversalCallSink } from "../call/server-call.js";
import { SharedSseText } from "./shared-text.js";
import type { SseResume } from "./sse-resume.js";
import type { SseWriter } from "./sse-writer.js";

/** The `end` event that carries `status`. */
export function endEvent(status: SseStatus): string {
  return encodeSseEvent({ event: SSE_END_EVENT, data: encodeSseStatus(status) });
}

/** Node's native base64 where there is `Buffer` (the hot path of the reference server), else protobuf-es's. */
const toBase64: (data: Uint8Array) => string =
  typeof Buffer === "function" ? (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") : base64Encode;

/**
 * The event text of the envelopes sent last on one route (one method, one
 * encoding), shared by every call there: a fan-out sends the same reading to
 * each subscriber in a row, so all but the first reuse its text. The text is a
 * pure function of the envelope bytes, so a hit compares bytes, not
 * identities: a caller may reuse a buffer with other contents.
 */
export class SseEventCache {
  private bytes: Uint8Array = new Uint8Array(0);
  private text: SharedSseText | undefined;

  /** The cached text when `envelopes` holds the same bytes as the last ones stored; else undefined. */
  get(envelopes: Uint8Array): SharedSseText | undefined {
    const bytes = this.bytes;
    const n = envelopes.length;
    if (n !== bytes.length || n === 0) return undefined;
    for (let i = 0; i < n; i++) if (envelopes[i] !== bytes[i]) return undefined;
    return this.text;
  }

  /** Remembers `text` for a copy of `envelopes` (the caller may reuse its buffer); the copy reuses the last one's memory when it fits. */
  set(envelopes: Uint8Array, text: SharedSseText): void {
    if (this.bytes.length === envelopes.length) this.bytes.set(envelopes);
    else this.bytes = envelopes.slice();
    this.text = text;
  }
}

/**
 * Writes a call's answer as SSE: the response headers (and a `resume` event
 * when the handler answered a resume), one message event per message (with
 * `id:` = cursor for resumable methods), and the `end` event with the status,
 * error details and trailers. Pauses the call while the client drains.
 */
export class SseCallSink implements UniversalCallSink {
  /** Set once the call started; resumed after a drain, aborted on a message that does not parse. */
  call: UniversalCall | undefined;

  /**
   * @param method the called method (its output schema decodes messages for JSON and cursors)
   * @param binary events carry base64 of binary messages; else JSON
   * @param events the event cache of this method and encoding, shared by its calls
   */
  constructor(
    private readonly writer: SseWriter,
    private readonly method: DescMethod,
    private readonly binary: boolean,
    private readonly resume: SseResume | undefined,
    private readonly events: SseEventCache = new SseEventCache(),
  ) {}

  headers(header: HeaderList): void {
    const fields = new Headers();
    for (const [name, value] of header) fields.append(name, value);
    this.writer.open(fields);
    const resumeStatus = this.resume?.resumeStatusHeader;
    const resumed = resumeStatus === undefined ? null : fields.get(resumeStatus);
    if (resumed !== null) this.writer.write(encodeSseEvent({ event: SSE_RESUME_EVENT, data: resumed }));
  }

  data(envelopes: Uint8Array): boolean {
    const writer = this.writer;
    try {
      let shared = this.events.get(envelopes);
      if (shared === undefined) {
        let text = "";
        forEachEnvelope(envelopes, 0, envelopes.length, (_flags, start, end) => {
          text += this.messageEvent(envelopes.subarray(start, end));
        });
        shared = new SharedSseText(text);
        this.events.set(envelopes, shared);
      }
      writer.writeShared(shared);
    } catch (e) {
      const error = ConnectError.from(e, Code.Internal);
      this.call?.abort(error);
      writer.end(endEvent(sseStatusFromError(error)));
      return false;
    }
    if (!writer.congested) return true;
    void writer.drained().then(() => this.call?.resume());
    return false;
  }

  end(error: ConnectError | undefined, trailers: HeaderList): void {
    const trailer = new Headers();
    for (const [name, value] of trailers) trailer.append(name, value);
    const reported = parseFailureAsInvalidArgument(error);
    this.writer.end(endEvent(reported === undefined ? sseStatusOk(trailer) : sseStatusFromError(reported, trailer)));
  }

  private messageEvent(payload: Uint8Array): string {
    const resume = this.resume;
    if (this.binary && resume === undefined) return encodeSseEvent({ data: toBase64(payload) });
    let message: Message;
    try {
      message = fromBinary(this.method.output, payload);
    } catch (e) {
      throw new ConnectError("the handler sent a message that does not parse", Code.Internal, undefined, undefined, e);
    }
    const data = this.binary ? toBase64(payload) : toJsonString(this.method.output, message);
    return resume === undefined ? encodeSseEvent({ data }) : encodeSseEvent({ id: resume.cursor(message), data });
  }
}
