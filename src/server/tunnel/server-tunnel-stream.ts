import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { type ControlFrame, DEFAULT_INITIAL_WINDOW, type HeaderList, walkDataEnvelopes } from "../../codec/tunnel/index.js";
import type { DirectMethod } from "../call/direct-call.js";
import { parseFailureAsInvalidArgument } from "../call/parse-failure.js";
import { hasSingleRequest, type UniversalCall, type UniversalCallSink } from "../call/server-call.js";
import { startCall } from "../call/start-call.js";
import { endFrame } from "./frame-values.js";
import { setLongTimeout } from "./long-timeout.js";
import type { TunnelConfig } from "./options.js";
import { RequestBody } from "./request-body.js";

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly config: TunnelConfig;
  /** Absolute base URL for request URLs, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  queue(frame: ControlFrame): void;
  /** Queues whole envelopes (copied at once); a stream's envelopes of one turn share a `data` frame. */
  queueData(streamId: number, envelopes: Uint8Array): void;
  /** The stream has ended (or was cancelled): frames for its id are ignored from now on. */
  removeStream(streamId: number): void;
  /** True when this turn's message is full: producers wait for the flush. */
  batchFull(): boolean;
  /** Calls `stream.onFlushed()` after the next flush. */
  resumeAfterFlush(stream: ServerTunnelStream): void;
}

/** The client gets more credit once the handler consumed this much (PROTOCOL.md §1.6). */
const GRANT_THRESHOLD = DEFAULT_INITIAL_WINDOW / 2;
const TIMEOUT_PATTERN = /^\d{1,10}$/;

/**
 * One tunnel stream on the server: the request side as frames arrive
 * (credit, limits, the single message of unary and server-streaming calls),
 * the call into the router's handler, and its answer as frames, pulled only
 * while the client's credit lasts.
 */
export class ServerTunnelStream implements UniversalCallSink {
  private readonly singleRequest: boolean;
  private phase: "receiving" | "running" | "ended" = "receiving";
  private call: UniversalCall | undefined;
  /** Streaming request kinds: what the handler reads. */
  private readonly body: RequestBody | undefined;
  /** Single-request kinds: the one envelope, kept until `half_close`. */
  private single: Uint8Array | undefined;
  private requestDone = false;
  /** Bytes of `data` the client may still send; may go negative once (§1.6). */
  private receiveCredit = DEFAULT_INITIAL_WINDOW;
  /** Bytes the handler consumed and the client was not yet granted. */
  private consumed = 0;
  /** Bytes of `data` the server may still send. */
  private sendCredit: number;
  private cancelDeadline: (() => void) | undefined;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    private readonly handler: UniversalHandler,
    private readonly header: Headers,
    initialWindow: number,
    /** When set, the implementation is called directly instead of through `handler` (same result, less CPU). */
    private readonly direct?: DirectMethod,
    /** The handler's `ctx.values` (the connection's principal), when the connection has one. */
    private readonly contextValues?: ContextValues,
  ) {
    this.sendCredit = initialWindow === 0 ? DEFAULT_INITIAL_WINDOW : initialWindow;
    this.singleRequest = hasSingleRequest(handler);
    this.body = this.singleRequest ? undefined : new RequestBody((bytes) => this.onConsumed(bytes));
    const timeout = header.get("connect-timeout-ms");
    if (timeout !== null && TIMEOUT_PATTERN.test(timeout)) {
      // connect does not enforce deadlines on streams by itself; the tunnel does, on every kind.
      this.cancelDeadline = setLongTimeout(host.config.clock, () => this.onDeadline(timeout), Number(timeout));
    }
    if (this.body !== undefined) this.start(this.body);
  }

  onData(buf: Uint8Array, start: number, end: number): void {
    if (this.phase === "ended" || this.requestDone) return;
    if (this.receiveCredit <= 0) {
      this.fail(
        new ConnectError(`the client sent data beyond its flow-control credit of ${DEFAULT_INITIAL_WINDOW} bytes`, Code.ResourceExhausted),
      );
      return;
    }
    this.receiveCredit -= end - start;
    const count = this.checkEnvelopes(buf, start, end);
    if (count <= 0) return;
    if (this.body !== undefined) {
      this.body.push(buf.subarray(start, end));
    } else if (this.single !== undefined || count > 1) {
      this.fail(tooManyRequests(this.handler));
    } else {
      this.single = buf.subarray(start, end);
    }
  }

  onHalfClose(): void {
    if (this.phase === "ended" || this.requestDone) return;
    this.requestDone = true;
    if (this.body !== undefined) {
      this.body.close();
      return;
    }
    const envelope = this.single;
    if (envelope === undefined) {
      this.fail(
        new ConnectError(`${this.handler.requestPath} takes exactly one request message before half_close, got none`, Code.InvalidArgument),
      );
      return;
    }
    this.single = undefined;
    this.start(envelope);
  }

  onWindowUpdate(bytes: number): void {
    if (this.phase === "ended") return;
    // The server caps every stream's credit (maxStreamWindowBytes) whatever the client grants.
    this.sendCredit = Math.min(this.sendCredit + bytes, this.host.config.maxStreamWindowBytes);
    if (this.sendCredit > 0) this.call?.resume();
  }

  /** The client abandoned the stream: abort the handler, send nothing more. */
  onCancel(): void {
    this.abort(new ConnectError("the client cancelled the stream", Code.Canceled));
  }

  /** Ends the stream with `error` on the server's initiative (limits, deadline, shutdown). */
  fail(error: ConnectError): void {
    if (this.phase === "ended") return;
    this.host.queue(endFrame(this.id, error, []));
    this.abort(error);
  }

  /** Ends the stream without an `end` frame: the client cancelled or the connection is gone. */
  abort(reason: ConnectError): void {
    if (this.phase === "ended") return;
    this.cleanUp();
    this.call?.abort(reason);
    this.body?.fail(reason);
  }

  headers(header: HeaderList): void {
    // Without fields the frame says nothing the client does not assume (PROTOCOL.md §1.4).
    if (this.phase === "ended" || header.length === 0) return;
    this.host.queue({ kind: "headers", streamId: this.id, headers: header });
  }

  data(envelopes: Uint8Array): boolean {
    if (this.phase === "ended") return false;
    this.host.queueData(this.id, envelopes);
    this.sendCredit -= envelopes.length;
    if (this.sendCredit <= 0) return false;
    if (!this.host.batchFull()) return true;
    // A handler that yields without awaiting I/O would otherwise hold the event loop
    // (and grow one message) for as long as its credit lasts.
    this.host.resumeAfterFlush(this);
    return false;
  }

  /** This turn's message went out: go on if the batch, not the credit, held the stream back. */
  onFlushed(): void {
    if (this.phase !== "ended" && this.sendCredit > 0) this.call?.resume();
  }

  end(error: ConnectError | undefined, trailers: HeaderList): void {
    if (this.phase === "ended") return;
    // A request message that does not parse is the client's error, as on every HTTP protocol.
    this.host.queue(endFrame(this.id, parseFailureAsInvalidArgument(error), trailers));
    this.cleanUp();
    // A handler that finished without reading all its input must not leave a reader waiting.
    this.body?.fail(new ConnectError("the call has ended", Code.Canceled));
  }

  /** Starts the call with the request envelopes of streaming-request kinds, or the one envelope of single-request kinds. */
  private start(input: AsyncIterable<Uint8Array> | Uint8Array): void {
    this.phase = "running";
    const { config, baseUrl } = this.host;
    const url = baseUrl + this.handler.requestPath;
    const { contextValues } = this;
    this.call = startCall(
      { handler: this.handler, url, header: this.header, input, onError: config.onError, ...(contextValues && { contextValues }) },
      this.direct,
      this,
    );
  }

  /**
   * Counts the whole envelopes in a request `data` frame; on a violation
   * ends the stream and returns -1.
   */
  private checkEnvelopes(buf: Uint8Array, start: number, end: number): number {
    const limit = this.host.config.maxRequestMessageBytes;
    const counter = { count: 0 };
    const fault = walkDataEnvelopes(buf, start, end, limit, counter, countEnvelope);
    if (fault === undefined) return counter.count;
    switch (fault.kind) {
      case "truncated-header":
        this.fail(
          new ConnectError("a data frame must hold whole envelopes; this one ends inside an envelope header", Code.InvalidArgument),
        );
        break;
      case "flags":
        this.fail(new ConnectError(`request envelope flags must be 0 in tunnel version 1, got ${fault.flags}`, Code.InvalidArgument));
        break;
      case "too-large":
        this.fail(
          new ConnectError(
            `a request message of ${fault.length} bytes is over the server's limit of ${limit} bytes`,
            Code.ResourceExhausted,
          ),
        );
        break;
      case "overrun":
        this.fail(new ConnectError("a data frame must hold whole envelopes; this one ends inside a message", Code.InvalidArgument));
        break;
    }
    return -1;
  }

  private onConsumed(bytes: number): void {
    if (this.phase === "ended" || this.requestDone) return;
    this.consumed += bytes;
    if (this.consumed < GRANT_THRESHOLD) return;
    this.host.queue({ kind: "windowUpdate", streamId: this.id, bytes: this.consumed });
    this.receiveCredit += this.consumed;
    this.consumed = 0;
  }

  private onDeadline(timeout: string): void {
    this.cancelDeadline = undefined;
    this.fail(new ConnectError(`the deadline of ${timeout} ms (connect-timeout-ms) passed`, Code.DeadlineExceeded));
  }

  private cleanUp(): void {
    this.phase = "ended";
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
    this.host.removeStream(this.id);
  }
}

function tooManyRequests(handler: UniversalHandler): ConnectError {
  return new ConnectError(`${handler.requestPath} takes exactly one request message, got several`, Code.InvalidArgument);
}

function countEnvelope(counter: { count: number }): boolean {
  counter.count++;
  return true;
}
