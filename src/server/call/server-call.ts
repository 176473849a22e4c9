import type { ConnectError, ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { HeaderList } from "../../codec/tunnel/index.js";

/**
 * Receives what a call answers, translated out of HTTP: response headers,
 * whole Connect envelopes, and the final status with trailers.
 */
export interface UniversalCallSink {
  /**
   * Response headers as {@link callMetadata} lists them. Called at most
   * once, always before the first `data`; omitted when the call ends with an
   * error and set no headers.
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

/** A call as a transport opens it; see `startCall`. */
export interface CallInit {
  readonly handler: UniversalHandler;
  /** Absolute URL of the call (connect parses it), as handlers see it in `ctx.url`, e.g. `http://host/pkg.Service/Method`. */
  readonly url: string;
  /**
   * Client metadata. HTTP-level fields (content-type, content-length, content
   * and accept encodings, `connect-*` except `connect-timeout-ms`) are
   * replaced: the call is binary Connect without compression. Modified in place.
   */
  readonly header: Headers;
  /**
   * Unary and server-streaming methods: the one request envelope. Other
   * kinds: whole Connect envelopes as they arrive, any number per chunk
   * (connect's pipeline calls `throw()` on it).
   */
  readonly input: Uint8Array | AsyncIterable<Uint8Array>;
  /** Becomes the handler's `ctx.values`. */
  readonly contextValues?: ContextValues;
  /** Failures that are the server's fault (a handler that broke its contract, error details that do not encode). */
  readonly onError: (error: unknown) => void;
}

/** A running call: connect's universal handler or the implementation called directly, behind one interface. */
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

/**
 * The sink side every call shares, whichever way it invokes the handler:
 * response headers go out once, before the first envelope (or at the end),
 * the handler is pulled only while the sink wants more, and nothing reaches
 * the sink after the end or an abort. Subclasses pull (`pump`), stop the
 * handler (`stop`) and say what headers it set (`responseHeader`).
 */
export abstract class ServerCall implements UniversalCall {
  protected done = false;
  protected paused = false;
  private headerSent = false;

  constructor(protected readonly sink: UniversalCallSink) {}

  resume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    void this.pump();
  }

  abort(reason: ConnectError): void {
    if (this.done) return;
    this.done = true;
    this.stop(reason);
  }

  /** Pulls output from the handler until it ends, the call is done, or the sink pauses it. */
  protected abstract pump(): Promise<void>;

  /** Aborts the handler's signal with `reason` and returns its output iterator. */
  protected abstract stop(reason: unknown): void;

  /** The response header the handler set so far; undefined when it set none. */
  protected abstract responseHeader(): Headers | undefined;

  /** True once the call ended or was aborted; a method, so a check after an `await` is not narrowed away. */
  protected isDone(): boolean {
    return this.done;
  }

  /** Sends whole envelopes (never written to afterwards), with the response headers before the first. */
  protected emit(envelopes: Uint8Array): void {
    if (!this.headerSent) {
      this.headerSent = true;
      this.sink.headers(callMetadata(this.responseHeader()));
    }
    if (!this.sink.data(envelopes)) this.paused = true;
  }

  /** Marks the call done and sends headers not yet sent, unless an error ends a call that set none. */
  protected endHeader(error: ConnectError | undefined): void {
    this.done = true;
    if (this.headerSent) return;
    this.headerSent = true;
    const header = callMetadata(this.responseHeader());
    if (error === undefined || header.length > 0) this.sink.headers(header);
  }

  /** Ends the call: the remaining headers, then the status with `trailers`. */
  protected finish(error: ConnectError | undefined, trailers: Headers | undefined): void {
    if (this.done) return;
    this.endHeader(error);
    this.sink.end(error, callMetadata(trailers));
  }
}

/** True for the method kinds whose request is one message sent before the call starts. */
export function hasSingleRequest(handler: UniversalHandler): boolean {
  const kind = handler.method.methodKind;
  return kind === "unary" || kind === "server_streaming";
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
