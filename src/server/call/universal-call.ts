import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, endStreamFromJson, errorFromJsonBytes, trailerDemux } from "@connectrpc/connect/protocol-connect";
import { readAll } from "./read-all.js";
import { ENVELOPE_HEADER_BYTES, envelope, FLAG_END_STREAM, type HeaderList, readEnvelopeLength } from "../../codec/tunnel/index.js";

/**
 * Receives what a universal handler answers, translated out of HTTP: response
 * headers, whole Connect envelopes, and the final status with trailers.
 */
export interface UniversalCallSink {
  /**
   * Response headers as {@link callMetadata} lists them. Called at most
   * once, always before the first `data`; omitted when the call ends without
   * output and without headers.
   */
  headers(header: HeaderList): void;
  /**
   * One or more whole Connect envelopes with flags 0, back to back, as one
   * view (valid until the callback returns unless the sink keeps it: the
   * bytes are never reused). Return false to stop pulling from the handler
   * until {@link UniversalCall.resume}.
   */
  data(envelopes: Uint8Array): boolean;
  /**
   * The call is over: `error` is undefined for OK; `trailers` as
   * {@link callMetadata} lists them. Called exactly once, unless the call was
   * aborted first.
   */
  end(error: ConnectError | undefined, trailers: HeaderList): void;
}

/** A Connect-protocol request for {@link startUniversalCall}. */
export interface UniversalCallInit {
  readonly handler: UniversalHandler;
  /** Absolute URL (connect calls `new URL` on it), e.g. `http://host/pkg.Service/Method`. */
  readonly url: string;
  /**
   * Client metadata. HTTP-level fields (content-type, content-length, content
   * and accept encodings, `connect-*` except `connect-timeout-ms`) are
   * replaced: the call is binary Connect without compression. Modified in place.
   */
  readonly header: Headers;
  /**
   * Streaming methods: Connect envelopes (chunk boundaries are free). Unary:
   * the serialized message without envelope. Must implement `throw()`.
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** Becomes the handler's `ctx.values`. */
  readonly contextValues?: ContextValues;
  /** Failures that are the server's fault (a handler that broke its contract). */
  readonly onError: (error: unknown) => void;
}

/** A running call; see {@link startUniversalCall}. */
export interface UniversalCall {
  /** Pulls from the handler again after {@link UniversalCallSink.data} returned false. */
  resume(): void;
  /**
   * Ends the call early: the handler's signal aborts with `reason`, its
   * response iterator is returned (a handler that ignores its signal would
   * otherwise keep producing), and the sink hears nothing more.
   */
  abort(reason: ConnectError): void;
}

const EMPTY = new Uint8Array(0);
const noop = (): void => undefined;

/**
 * Calls a router's universal handler as a binary Connect call over HTTP/2
 * (so bidi is allowed) and hands back headers, messages and the end through
 * `sink`, pulling from the handler only while the sink wants more. Shared by
 * the transports that are not HTTP (the WebSocket tunnel) so they serve
 * exactly what HTTP serves: same interceptors, limits and error codes.
 */
export function startUniversalCall(init: UniversalCallInit, sink: UniversalCallSink): UniversalCall {
  return new ConnectCall(init, sink);
}

/** True for the method kinds whose request is one message sent before the call starts. */
export function hasSingleRequest(handler: UniversalHandler): boolean {
  const kind = handler.method.methodKind;
  return kind === "unary" || kind === "server_streaming";
}

class ConnectCall implements UniversalCall {
  private readonly controller = new AbortController();
  private readonly unary: boolean;
  private body: AsyncIterator<Uint8Array> | undefined;
  /** Response headers not yet given to the sink (the sink hears them with the first output). */
  private header: Headers | undefined;
  /** Bytes of an envelope split across response chunks. */
  private partial: Uint8Array = EMPTY;
  private done = false;
  private paused = false;

  constructor(
    private readonly init: UniversalCallInit,
    private readonly sink: UniversalCallSink,
  ) {
    this.unary = init.handler.method.methodKind === "unary";
    const header = prepareRequestHeader(init.header, this.unary);
    const request: UniversalServerRequest = {
      // "1.x" makes connect refuse bidi with 505.
      httpVersion: "2",
      url: init.url,
      method: "POST",
      header,
      body: init.body,
      signal: this.controller.signal,
      contextValues: init.contextValues,
    };
    init.handler(request).then(
      (res) => this.onResponse(res),
      (e: unknown) => this.fail(e),
    );
  }

  resume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    void this.pump();
  }

  abort(reason: ConnectError): void {
    if (this.done) return;
    this.done = true;
    this.controller.abort(reason);
    this.body?.return?.().catch(noop);
  }

  private isDone(): boolean {
    return this.done;
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
    if (res.status === 200) {
      this.header = header;
      this.emitData(envelope(bytes));
      this.finish(undefined, trailers);
      return;
    }
    const fallback = new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status));
    const error = bytes.length === 0 ? fallback : errorFromJsonBytes(bytes, header, fallback);
    this.header = header;
    this.finish(error, trailers);
  }

  private async pump(): Promise<void> {
    const body = this.body;
    if (body === undefined) return;
    try {
      while (!this.done && !this.paused) {
        const r = await body.next();
        if (this.isDone()) return; // aborted while waiting
        if (r.done === true) {
          this.finish(
            new ConnectError("protocol error: the handler's response ended without an end-stream envelope", Code.Internal),
            new Headers(),
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
    if (this.done) return;
    this.flushHeader();
    if (!this.sink.data(envelopes)) this.paused = true;
  }

  private flushHeader(): void {
    const header = this.header;
    if (header === undefined) return;
    this.header = undefined;
    this.sink.headers(callMetadata(header));
  }

  private finish(error: ConnectError | undefined, trailers: Headers): void {
    if (this.done) return;
    const header = this.header === undefined ? undefined : callMetadata(this.header);
    this.header = undefined;
    if (header !== undefined && (error === undefined || header.length > 0)) this.sink.headers(header);
    this.done = true;
    this.sink.end(error, callMetadata(trailers));
  }

  /** The handler broke its contract (connect handlers report errors in the response). */
  private fail(e: unknown): void {
    if (this.done) return;
    this.init.onError(e);
    const error = new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    this.finish(error, new Headers());
    this.controller.abort(error);
    this.body?.return?.().catch(noop);
  }
}

/** Names of request and response fields that belong to HTTP, not to the call. */
const HTTP_FIELDS = new Set([
  "accept-encoding",
  "connection",
  "content-encoding",
  "content-length",
  "content-type",
  "host",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Makes client metadata a binary Connect request's headers: HTTP-level fields
 * and `connect-*` ones (but `connect-timeout-ms`) replaced. Modified in place.
 */
export function prepareRequestHeader(header: Headers, unary: boolean): Headers {
  for (const name of [...header.keys()]) {
    if (HTTP_FIELDS.has(name) || (name.startsWith("connect-") && name !== "connect-timeout-ms")) header.delete(name);
  }
  header.set("content-type", unary ? "application/proto" : "application/connect+proto");
  header.set("connect-protocol-version", "1");
  return header;
}

/**
 * Call metadata as the tunnel carries it: the fields of `header` but
 * HTTP-level and `connect-*` ones, names in lower case, in `Headers` order.
 * Undefined: none.
 */
export function callMetadata(header: Headers | undefined): HeaderList {
  const list: [string, string][] = [];
  header?.forEach((value, name) => {
    if (!HTTP_FIELDS.has(name) && !name.startsWith("connect-")) list.push([name, value]);
  });
  return list;
}
