import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalServerRequest, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, endStreamFromJson, errorFromJsonBytes, trailerDemux } from "@connectrpc/connect/protocol-connect";
import { ENVELOPE_HEADER_BYTES, envelope, FLAG_END_STREAM, readEnvelopeLength } from "../../codec/tunnel/index.js";
import { readAll } from "./read-all.js";
import { type CallInit, prepareRequestHeader, ServerCall, type UniversalCall, type UniversalCallSink } from "./server-call.js";

/** A Connect-protocol request for {@link startUniversalCall}: a {@link CallInit} with its body as connect reads it. */
export interface UniversalCallInit extends Omit<CallInit, "input"> {
  /**
   * Streaming methods: Connect envelopes (chunk boundaries are free). Unary:
   * the serialized message without envelope. Must implement `throw()`.
   */
  readonly body: AsyncIterable<Uint8Array>;
}

const EMPTY = new Uint8Array(0);
const noop = (): void => undefined;

export type { UniversalCall, UniversalCallSink } from "./server-call.js";

/**
 * Calls a router's universal handler as a binary Connect call over HTTP/2
 * (so bidi is allowed) and hands back headers, messages and the end through
 * `sink`, pulling from the handler only while the sink wants more. Shared by
 * the transports that are not HTTP (the WebSocket tunnel) so they serve
 * exactly what HTTP serves: same interceptors, limits and error codes.
 */
export function startUniversalCall(init: UniversalCallInit, sink: UniversalCallSink): UniversalCall {
  return new ConnectCall({ ...init, input: init.body }, sink);
}

/** A call into connect's universal handler, its Connect response translated for the sink. */
export class ConnectCall extends ServerCall {
  private readonly controller = new AbortController();
  private readonly unary: boolean;
  private body: AsyncIterator<Uint8Array> | undefined;
  /** The response header, once the response arrived (for unary calls, without the trailers muxed into it). */
  private header: Headers | undefined;
  /** Bytes of an envelope split across response chunks. */
  private partial: Uint8Array = EMPTY;

  constructor(
    private readonly init: CallInit,
    sink: UniversalCallSink,
  ) {
    super(sink);
    this.unary = init.handler.method.methodKind === "unary";
    const header = prepareRequestHeader(init.header, this.unary);
    const input = init.input;
    // connect reads a unary request without its envelope, a server-streaming one with it.
    const body = input instanceof Uint8Array ? createAsyncIterable([this.unary ? input.subarray(ENVELOPE_HEADER_BYTES) : input]) : input;
    const request: UniversalServerRequest = {
      // "1.x" makes connect refuse bidi with 505.
      httpVersion: "2",
      url: init.url,
      method: "POST",
      header,
      body,
      signal: this.controller.signal,
      contextValues: init.contextValues,
    };
    init.handler(request).then(
      (res) => this.onResponse(res),
      (e: unknown) => this.fail(e),
    );
  }

  protected stop(reason: unknown): void {
    this.controller.abort(reason);
    this.body?.return?.().catch(noop);
  }

  protected responseHeader(): Headers | undefined {
    return this.header;
  }

  private onResponse(res: UniversalServerResponse): void {
    const body = res.body?.[Symbol.asyncIterator]();
    if (this.done) {
      body?.return?.().catch(noop);
      return;
    }
    this.body = body;
    if (res.status !== 200 || this.unary) {
      this.finishUnary(res).catch((e: unknown) => this.fail(e));
      return;
    }
    this.header = res.header ?? new Headers();
    void this.pump();
  }

  /** A unary answer, or any non-200 one: the whole body at once, trailers muxed into headers. */
  private async finishUnary(res: UniversalServerResponse): Promise<void> {
    const bytes = this.body === undefined ? EMPTY : await readAll(this.body);
    if (this.done) return;
    const [header, trailers] = trailerDemux(res.header ?? new Headers());
    this.header = header;
    if (res.status === 200) {
      this.emit(envelope(bytes));
      this.finish(undefined, trailers);
      return;
    }
    const fallback = new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status));
    this.finish(bytes.length === 0 ? fallback : errorFromJsonBytes(bytes, header, fallback), trailers);
  }

  protected async pump(): Promise<void> {
    const body = this.body;
    if (body === undefined) return;
    try {
      while (!this.done && !this.paused) {
        const r = await body.next();
        if (this.isDone()) return; // aborted while waiting
        if (r.done === true) {
          this.finish(
            new ConnectError("protocol error: the handler's response ended without an end-stream envelope", Code.Internal),
            undefined,
          );
          return;
        }
        this.push(r.value);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Splits a response chunk into the run of whole flag-0 envelopes it starts with and, last, the end-stream envelope. */
  private push(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.partial.length > 0) {
      buf = new Uint8Array(this.partial.length + chunk.length);
      buf.set(this.partial);
      buf.set(chunk, this.partial.length);
    }
    let pos = 0;
    while (pos + ENVELOPE_HEADER_BYTES <= buf.length) {
      const flags = buf[pos] as number;
      const length = readEnvelopeLength(buf, pos);
      const next = pos + ENVELOPE_HEADER_BYTES + length;
      if (next > buf.length) break;
      if (flags !== 0) {
        if (pos > 0) this.emitData(buf.subarray(0, pos));
        if ((flags & FLAG_END_STREAM) === 0) {
          this.fail(new Error(`the handler sent an envelope with flags ${flags}; the call must not negotiate compression`));
        } else {
          this.endStream(buf.subarray(pos + ENVELOPE_HEADER_BYTES, next));
        }
        return;
      }
      pos = next;
    }
    if (pos > 0) this.emitData(buf.subarray(0, pos));
    this.partial = pos === buf.length ? EMPTY : buf.slice(pos);
  }

  private endStream(json: Uint8Array): void {
    let end: ReturnType<typeof endStreamFromJson>;
    try {
      end = endStreamFromJson(json);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.finish(end.error, end.metadata);
  }

  private emitData(envelopes: Uint8Array): void {
    if (!this.done) this.emit(envelopes);
  }

  /** The handler broke its contract (connect handlers report errors in the response). */
  private fail(e: unknown): void {
    if (this.done) return;
    this.init.onError(e);
    const error = new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    this.finish(error, undefined);
    this.stop(error);
  }
}
