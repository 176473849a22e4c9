import { Code, ConnectError } from "@connectrpc/connect";
import {
  type ControlFrame,
  decodeFrameBatch,
  DEFAULT_INITIAL_WINDOW,
  ENVELOPE_HEADER_BYTES,
  encodeFrameBatch,
  type Frame,
  type FrameSink,
  type HeaderList,
  TUNNEL_SUBPROTOCOL,
  walkDataEnvelopes,
  writeEnvelopeHeader,
} from "../../codec/tunnel/index.js";
import { StreamTable } from "./stream-table.js";
import type { Clock } from "../../clock.js";
import { transportOpenFailure } from "../open-error.js";
import type { StreamHandler, ClientTunnelStream } from "./stream-handler.js";
import type { CloseEventLike, MessageEventLike, WebSocketConstructor, WebSocketLike } from "./web-socket-like.js";

/** Settings of one tunnel connection (validated by the caller). */
export interface ConnectionSettings {
  readonly url: string;
  /**
   * The WebSocket constructor, asked for each connection: a default of the
   * global `WebSocket` is looked up when the connection opens, not when the
   * client was made, so a global replaced later (msw's interceptor) is used.
   */
  readonly webSocket: () => WebSocketConstructor;
  readonly clock: Clock;
  /** The `hello` headers, or their promise: nothing is sent until it settles (a rejection fails the connection). */
  readonly helloHeaders: HeaderList | Promise<HeaderList>;
  readonly connectTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly readMaxBytes: number;
  /** Called once when the connection is closed for good, or stops taking new streams (go_away). */
  readonly onRetired: (connection: ClientTunnel) => void;
  /** Called when the last open stream ended. */
  readonly onIdle: (connection: ClientTunnel) => void;
  /** The highest stream id this connection may use before it retires (PROTOCOL.md §1.4); default 2^31 − 1. */
  readonly maxStreamId?: number;
}

type Phase = "connecting" | "open" | "closed";

/** Stream ids are below 2^31 (PROTOCOL.md §1.4). */
const MAX_STREAM_ID = 0x7fff_ffff;

/**
 * The `cause` of the `Unavailable` error a stream fails with when the
 * server's `go_away` shows it never processed the stream (its id is above
 * `last_stream_id`): the call had no effect on the server, so retrying it is
 * safe even when it is not idempotent.
 */
export class StreamNotProcessedError extends Error {
  override readonly name = "StreamNotProcessedError";
}

/** True when `error` failed a stream the server never processed (see {@link StreamNotProcessedError}). */
export function wasNotProcessed(error: unknown): boolean {
  return error instanceof ConnectError && error.cause instanceof StreamNotProcessedError;
}

/**
 * Close codes the client sends. Browsers only let scripts send 1000 and
 * 3000–4999, hence 4002/4003 where a server would use 1002/1003.
 */
export const CLIENT_CLOSE = {
  normal: 1000,
  timeout: 4000,
  protocolError: 4002,
  textMessage: 4003,
} as const;

/**
 * One WebSocket carrying many streams: batches outgoing frames per microtask,
 * decodes incoming batches in one pass and hands messages to each stream's
 * handler, keeps the connection alive, and fails every stream with
 * `Unavailable` when the connection is lost.
 */
export class ClientTunnel implements FrameSink {
  private readonly ws: WebSocketLike;
  private readonly streams = new StreamTable<ClientStream>();
  private pending: Frame[] = [];
  private flushScheduled = false;
  private phase: Phase = "connecting";
  private nextStreamId = 1;
  private retired = false;
  private heard = false;
  private timer: unknown;
  private pingPayload = 0;
  /** The WebSocket opened; the connection is `open` once the `hello` headers are known too. */
  private socketOpen = false;
  private helloQueued = false;

  constructor(private readonly settings: ConnectionSettings) {
    const WebSocketClass = settings.webSocket();
    this.ws = new WebSocketClass(settings.url, [TUNNEL_SUBPROTOCOL]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => this.handleOpen();
    this.ws.onmessage = (event: MessageEventLike) => this.handleMessage(event.data);
    this.ws.onclose = (event: CloseEventLike) => this.handleClose(event.code, event.reason);
    this.ws.onerror = () => undefined; // a close event always follows and says more
    this.queueHello(settings.helloHeaders);
    this.timer = settings.clock.setTimeout(() => {
      this.fail(
        transportOpenFailure(`no WebSocket connection to ${settings.url} within ${settings.connectTimeoutMs} ms`),
        CLIENT_CLOSE.timeout,
      );
    }, settings.connectTimeoutMs);
  }

  /** True while new streams may be opened here. */
  get accepting(): boolean {
    return !this.retired && this.phase !== "closed";
  }

  get openStreams(): number {
    return this.streams.size;
  }

  openStream(path: string, headers: HeaderList, handler: StreamHandler, initialWindow = DEFAULT_INITIAL_WINDOW): ClientTunnelStream {
    const stream = new ClientStream(this, this.nextStreamId++, handler, initialWindow);
    this.streams.set(stream.id, stream);
    // The last id is used: streams that come later need a new connection.
    if (this.nextStreamId > (this.settings.maxStreamId ?? MAX_STREAM_ID)) this.retire();
    this.push({
      kind: "open",
      streamId: stream.id,
      path,
      headers,
      initialWindow: initialWindow === DEFAULT_INITIAL_WINDOW ? 0 : initialWindow,
    });
    return stream;
  }

  /** Closes the connection; open streams fail with `reason`. */
  close(code: number, reason: ConnectError): void {
    this.fail(reason, code);
  }

  /** @internal Queues a frame for the next batch. */
  push(frame: Frame): void {
    this.pending.push(frame);
    this.scheduleFlush();
  }

  /** @internal Queues a data chunk, joining the previous data frame of the same stream if it is last in line. */
  pushData(streamId: number, chunk: Uint8Array): void {
    const last = this.pending[this.pending.length - 1];
    if (last?.kind === "data" && last.streamId === streamId) {
      (last.chunks as Uint8Array[]).push(chunk);
    } else {
      this.pending.push({ kind: "data", streamId, chunks: [chunk] });
    }
    this.scheduleFlush();
  }

  /** @internal A stream ended or was cancelled. */
  forget(stream: ClientStream): void {
    this.streams.delete(stream.id);
    if (this.streams.size === 0 && this.phase !== "closed") this.settings.onIdle(this);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.phase !== "open") return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.phase !== "open" || this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    this.ws.send(encodeFrameBatch(frames));
  }

  /** `hello` goes first; with async headers, the frames queued meanwhile wait behind it. */
  private queueHello(headers: HeaderList | Promise<HeaderList>): void {
    if (!(headers instanceof Promise)) {
      this.pending.push({ kind: "hello", streamId: 0, headers });
      this.helloQueued = true;
      return;
    }
    headers.then(
      (list) => {
        if (this.phase === "closed") return;
        this.pending.unshift({ kind: "hello", streamId: 0, headers: list });
        this.helloQueued = true;
        if (this.socketOpen) this.start();
      },
      (e: unknown) => {
        const error = ConnectError.from(e, Code.Unauthenticated);
        this.fail(
          new ConnectError(`no credentials for the tunnel's hello: ${error.rawMessage}`, error.code, undefined, undefined, e),
          CLIENT_CLOSE.normal,
        );
      },
    );
  }

  private handleOpen(): void {
    if (this.ws.protocol !== TUNNEL_SUBPROTOCOL) {
      this.fail(
        transportOpenFailure(`the server at ${this.settings.url} does not speak ${TUNNEL_SUBPROTOCOL}`),
        CLIENT_CLOSE.protocolError,
      );
      return;
    }
    this.socketOpen = true;
    // Until the hello headers are known, the connect timeout keeps running.
    if (this.helloQueued) this.start();
  }

  private start(): void {
    this.settings.clock.clearTimeout(this.timer);
    this.phase = "open";
    this.flush();
    this.schedulePing();
  }

  private handleMessage(data: unknown): void {
    this.heard = true;
    if (!(data instanceof ArrayBuffer)) {
      this.fail(new ConnectError("tunnel protocol error: the server sent a text message", Code.Unavailable), CLIENT_CLOSE.textMessage);
      return;
    }
    try {
      decodeFrameBatch(new Uint8Array(data), this);
    } catch (e) {
      this.fail(
        new ConnectError(`tunnel protocol error: ${String(e)}`, Code.Unavailable, undefined, undefined, e),
        CLIENT_CLOSE.protocolError,
      );
    }
  }

  private handleClose(code: number, reason: string): void {
    const why = `code ${code}${reason ? `: ${reason}` : ""}`;
    const url = this.settings.url;
    const refused = refusalCode(code);
    if (refused !== undefined) {
      // The server read hello and refused it: not a transport failure, and not worth retrying as it is.
      this.fail(new ConnectError(`the server at ${url} refused the connection's credentials (${why})`, refused), undefined);
    } else if (this.phase === "connecting" && !this.socketOpen) {
      this.fail(transportOpenFailure(`could not open a WebSocket to ${url}: it closed before opening (${why})`), undefined);
    } else {
      this.fail(new ConnectError(`the WebSocket to ${url} closed (${why})`, Code.Unavailable), undefined);
    }
  }

  /** FrameSink: one data frame. The hot path. */
  data(streamId: number, buf: Uint8Array, start: number, end: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return; // ended or cancelled: a normal race
    if (stream.receiveCredit <= 0) {
      stream.abort(new ConnectError(`the server sent beyond stream ${streamId}'s flow-control window`, Code.ResourceExhausted));
      return;
    }
    stream.receiveCredit -= end - start;
    const readMaxBytes = this.settings.readMaxBytes;
    const fault = walkDataEnvelopes(buf, start, end, readMaxBytes, stream, deliverMessage);
    if (fault === undefined) return;
    if (fault.kind === "too-large") {
      stream.abort(
        new ConnectError(`message size ${fault.length} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted),
      );
    } else if (fault.kind === "truncated-header") {
      stream.abort(new ConnectError("tunnel protocol error: a data frame ends inside an envelope header", Code.InvalidArgument));
    } else {
      stream.abort(new ConnectError("tunnel protocol error: data is not whole, uncompressed envelopes", Code.InvalidArgument));
    }
  }

  /** FrameSink: everything else. */
  control(frame: ControlFrame): void {
    switch (frame.kind) {
      case "headers": {
        const stream = this.streams.get(frame.streamId);
        if (stream === undefined) return;
        let headers: Headers | undefined;
        try {
          headers = headersOf(frame.headers);
        } catch (e) {
          stream.abort(invalidField("response header", e));
          return;
        }
        stream.handler.onHeaders(headers);
        return;
      }
      case "end": {
        const stream = this.streams.get(frame.streamId);
        if (stream === undefined) return;
        let trailers: Headers | undefined;
        try {
          trailers = headersOf(frame.trailers);
        } catch (e) {
          stream.finish(invalidField("trailer", e), undefined);
          return;
        }
        let error: ConnectError | undefined;
        if (frame.code !== 0) {
          error = new ConnectError(frame.message, toCode(frame.code), trailers);
          for (const d of frame.details) error.details.push({ type: d.type, value: d.value });
        }
        stream.finish(error, trailers);
        return;
      }
      case "windowUpdate":
        this.streams.get(frame.streamId)?.credit(frame.bytes);
        return;
      case "ping":
        this.push({ kind: "pong", streamId: 0, payload: frame.payload });
        return;
      case "goAway":
        this.goAway(frame.lastStreamId, frame.message);
        return;
      default:
        return; // pong only proves liveness; client-bound frames of other kinds are ignored
    }
  }

  private schedulePing(): void {
    const { clock, pingIntervalMs, pingTimeoutMs } = this.settings;
    if (pingIntervalMs <= 0) return;
    this.timer = clock.setTimeout(() => {
      this.heard = false;
      this.push({ kind: "ping", streamId: 0, payload: ++this.pingPayload });
      this.timer = clock.setTimeout(() => {
        if (this.heard) {
          this.schedulePing();
        } else {
          const error = new ConnectError(
            `no answer from ${this.settings.url} within ${pingTimeoutMs} ms of a ping: connection lost`,
            Code.Unavailable,
          );
          this.fail(error, CLIENT_CLOSE.timeout);
        }
      }, pingTimeoutMs);
    }, pingIntervalMs);
  }

  /**
   * No new streams here; streams above `lastStreamId` never reached the
   * server's handlers, so they fail now, marked safe to retry. The others
   * run on until their `end` or the close.
   */
  private goAway(lastStreamId: number, message: string): void {
    this.retire();
    for (const stream of this.streams.values()) {
      if (stream.id <= lastStreamId) continue;
      const error = new ConnectError(
        `the server at ${this.settings.url} is going away${message ? ` (${message})` : ""} and did not process stream ${stream.id}; it is safe to retry`,
        Code.Unavailable,
        undefined,
        undefined,
        new StreamNotProcessedError(`stream ${stream.id} is above go_away.last_stream_id ${lastStreamId}`),
      );
      stream.finish(error, undefined);
    }
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.settings.onRetired(this);
  }

  private fail(error: ConnectError, closeCode: number | undefined): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.settings.clock.clearTimeout(this.timer);
    this.pending = [];
    this.ws.onopen = null;
    this.ws.onmessage = null;
    this.ws.onclose = null;
    if (closeCode !== undefined) {
      try {
        this.ws.close(closeCode, error.rawMessage.slice(0, 120));
      } catch {
        // Closing a socket that never opened may throw in some runtimes; it is gone either way.
      }
    }
    const streams = this.streams.values();
    this.streams.clear();
    this.retire();
    for (const stream of streams) stream.finish(error, undefined);
  }
}

/** One stream's bookkeeping: credits both ways and the handler. */
class ClientStream implements ClientTunnelStream {
  ended = false;
  receiveCredit: number;
  private sendCredit = DEFAULT_INITIAL_WINDOW;
  private unacknowledged = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly connection: ClientTunnel,
    readonly id: number,
    readonly handler: StreamHandler,
    private readonly initialWindow: number,
  ) {
    this.receiveCredit = initialWindow;
  }

  get writable(): boolean {
    return this.sendCredit > 0 || this.ended;
  }

  send(message: Uint8Array): void {
    if (this.ended) return;
    const chunk = new Uint8Array(ENVELOPE_HEADER_BYTES + message.length);
    writeEnvelopeHeader(chunk, 0, 0, message.length);
    chunk.set(message, ENVELOPE_HEADER_BYTES);
    this.sendCredit -= chunk.length;
    this.connection.pushData(this.id, chunk);
  }

  whenWritable(): Promise<void> {
    if (this.writable) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  halfClose(): void {
    if (!this.ended) this.connection.push({ kind: "halfClose", streamId: this.id });
  }

  cancel(): void {
    if (this.ended) return;
    this.connection.push({ kind: "cancel", streamId: this.id });
    this.settle();
  }

  consumed(messageBytes: number, messages = 1): void {
    if (this.ended) return;
    this.unacknowledged += messageBytes + messages * ENVELOPE_HEADER_BYTES;
    if (this.unacknowledged >= this.initialWindow / 2) {
      this.receiveCredit += this.unacknowledged;
      this.connection.push({ kind: "windowUpdate", streamId: this.id, bytes: this.unacknowledged });
      this.unacknowledged = 0;
    }
  }

  credit(bytes: number): void {
    this.sendCredit += bytes;
    if (this.sendCredit > 0) this.wake();
  }

  finish(error: ConnectError | undefined, trailers: Headers | undefined): void {
    if (this.ended) return;
    this.settle();
    this.handler.onEnd(error, trailers);
  }

  /** Fails the stream locally and tells the server to stop. */
  abort(error: ConnectError): void {
    if (this.ended) return;
    this.connection.push({ kind: "cancel", streamId: this.id });
    this.finish(error, undefined);
  }

  private settle(): void {
    this.ended = true;
    this.wake();
    this.connection.forget(this);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Header fields from a frame as `Headers`, undefined when there are none (the
 * common case costs nothing).
 * @throws TypeError when a name or value is not a valid HTTP field.
 */
/** Hands one message of a data frame to its stream; false once the handler ended the stream (it cancelled). */
function deliverMessage(stream: ClientStream, buf: Uint8Array, payloadStart: number, payloadEnd: number): boolean {
  stream.handler.onMessage(buf, payloadStart, payloadEnd);
  return !stream.ended;
}

function headersOf(list: HeaderList): Headers | undefined {
  return list.length === 0 ? undefined : new Headers(list as [string, string][]);
}

/** An invalid header field ends its stream only, as the server treats the client's (PROTOCOL.md §1.5). */
function invalidField(what: string, e: unknown): ConnectError {
  return new ConnectError(
    `tunnel protocol error: invalid ${what} from the server: ${String(e)}`,
    Code.InvalidArgument,
    undefined,
    undefined,
    e,
  );
}

/** Close codes of a refused `hello` (PROTOCOL.md §1.9) and the `Code` each stands for. */
function refusalCode(closeCode: number): Code | undefined {
  if (closeCode === 4401) return Code.Unauthenticated;
  if (closeCode === 4403) return Code.PermissionDenied;
  return undefined;
}

/** The `Code` for a status number from the wire; numbers this version does not know become `Unknown`. */
function toCode(n: number): Code {
  const name = (Code as unknown as Record<number, string | undefined>)[n];
  return name === undefined ? Code.Unknown : Code[name as keyof typeof Code];
}
