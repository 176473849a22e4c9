import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import {
  type ControlFrame,
  DEFAULT_INITIAL_WINDOW,
  decodeFrameBatch,
  type FrameSink,
  type HeaderList,
  TunnelProtocolError,
} from "../../codec/tunnel/index.js";
import { StreamTable } from "../../transport/websocket/stream-table.js";
import { authenticatedValues, authError } from "../auth/authenticate.js";
import { hasSingleRequest } from "../call/server-call.js";
import { CLOSE_CODE, closeReason } from "./close-codes.js";
import { headerListBytes, requestHeaders } from "./frame-values.js";
import type { TunnelConfig } from "./options.js";
import { Outbox } from "./outbox.js";
import { type StreamHost, ServerTunnelStream } from "./server-tunnel-stream.js";
import { binaryMessage, SOCKET_OPEN, type TunnelMessageEvent, type TunnelSocket } from "./socket.js";

/** One server-side tunnel connection, as the tunnel handler sees it. */
export interface TunnelConnection {
  /** Sends `go_away`, ends every open stream with `Unavailable`, flushes, closes with 1001. */
  goAway(message: string): void;
  /** Cuts the socket without a closing handshake where it can; either way stops waiting for it. */
  terminate(): void;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
}

/** Frames held back while an asynchronous `authenticate` runs. */
type Deferred =
  | ControlFrame
  | { readonly kind: "deferredData"; readonly streamId: number; readonly buf: Uint8Array; readonly start: number; readonly end: number };

/** Waiting for `authenticate`: the frames after `hello`, and the bytes of the WebSocket messages they keep alive. */
interface Authenticating {
  readonly kind: "authenticating";
  readonly deferred: Deferred[];
  heldBytes: number;
}

type State = { readonly kind: "awaitingHello" } | Authenticating | { readonly kind: "ready" } | { readonly kind: "closed" };

const MAX_STREAM_ID = 0x7fff_ffff;
/** Data bytes after which the frames of a turn go out without more being pulled in (bounds message size and turn length). */
const MAX_BATCH_DATA_BYTES = 1024 * 1024;
const noop = (): void => undefined;
/** How often a connection over `maxBufferedBytes` looks whether its socket has drained (sockets have no drain event here). */
const DRAIN_POLL_MS = 10;
const PONGS_PER_FLUSH = 1024;
/** Thrown from a decode callback after the connection was closed, to stop decoding the rest of its message. */
const STOP_DECODING = new Error("the connection was closed while its message was decoded");

/** The request of a unary or server-streaming stream, held until `half_close`. */
interface PendingRequest {
  bytes: number;
  readonly timer: unknown;
}

/** Serves the tunnel on an accepted WebSocket (PROTOCOL.md §1). */
export function serveTunnelConnection(socket: TunnelSocket, config: TunnelConfig, baseUrl: string): TunnelConnection {
  return new ServerTunnel(socket, config, baseUrl);
}

/** The server side of one tunnel connection: hello, stream dispatch, keepalive, the outgoing batch. */
class ServerTunnel implements TunnelConnection, FrameSink, StreamHost {
  readonly closed: Promise<void>;
  private resolveClosed: () => void = noop;
  private state: State = { kind: "awaitingHello" };
  private hello: HeaderList = [];
  /** What `authenticate` returned for `hello`. */
  private principal: unknown;
  private readonly streams = new StreamTable<ServerTunnelStream>();
  private lastStreamId = 0;
  private readonly outbox: Outbox;
  /** Streams that stopped pulling because this turn's message was full. */
  private readonly heldForFlush = new Set<ServerTunnelStream>();
  private lastReceivedMs: number;
  private keepaliveTimer: unknown;
  private readonly onKeepaliveTimer = (): void => this.checkKeepalive();
  /** Single-request streams that have not half-closed, and the bytes they hold. */
  private readonly pendingRequests = new Map<number, PendingRequest>();
  private pendingRequestBytes = 0;
  /** When the socket's output went over `maxBufferedBytes` (undefined: under it). */
  private overBufferedSinceMs: number | undefined;
  private drainTimer: unknown;
  private readonly onDrainTimer = (): void => this.checkDrained();
  /** Pongs queued since the outbox last sent; a message full of pings is answered in slices of PONGS_PER_FLUSH. */
  private pongsSinceFlush = 0;
  /** Size of the WebSocket message being decoded, and whether a frame of it is already held for `authenticate`. */
  private messageBytes = 0;
  private messageHeld = false;

  constructor(
    private readonly socket: TunnelSocket,
    readonly config: TunnelConfig,
    readonly baseUrl: string,
  ) {
    this.outbox = new Outbox(
      (batch) => {
        if (socket.readyState !== SOCKET_OPEN) return;
        socket.send(batch);
        this.checkBuffered();
      },
      () => {
        this.pongsSinceFlush = 0;
        this.resumeHeldStreams();
      },
    );
    this.lastReceivedMs = config.clock.now();
    this.keepaliveTimer = config.clock.setTimeout(this.onKeepaliveTimer, config.keepaliveTimeoutMs);
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    socket.onmessage = (event: TunnelMessageEvent) => this.onMessage(event.data);
    socket.onclose = () => this.onSocketClosed();
  }

  private onSocketClosed(): void {
    this.shutDown(new ConnectError("the tunnel connection closed", Code.Canceled));
    this.resolveClosed();
  }

  // --- incoming -------------------------------------------------------------

  private onMessage(data: unknown): void {
    if (this.state.kind === "closed") return;
    this.lastReceivedMs = this.config.clock.now();
    const bytes = binaryMessage(data);
    if (bytes === undefined) {
      this.closeWith(CLOSE_CODE.unsupportedData, "text message: the tunnel takes binary FrameBatch messages only");
      return;
    }
    if (bytes.length > this.config.maxWebSocketMessageBytes) {
      this.closeWith(CLOSE_CODE.messageTooBig, `a message over ${this.config.maxWebSocketMessageBytes} bytes`);
      return;
    }
    this.messageBytes = bytes.length;
    this.messageHeld = false;
    try {
      decodeFrameBatch(bytes, this);
    } catch (e) {
      this.onDecodeError(e);
    }
  }

  private onDecodeError(e: unknown): void {
    if (e === STOP_DECODING) return;
    if (e instanceof TunnelProtocolError) {
      this.closeWith(CLOSE_CODE.protocolError, e.message);
      return;
    }
    this.config.onError(e);
    this.closeWith(CLOSE_CODE.internalError, "internal error");
  }

  data(streamId: number, buf: Uint8Array, start: number, end: number): void {
    const state = this.state;
    if (state.kind === "ready") this.deliverData(streamId, buf, start, end);
    else if (state.kind === "authenticating") this.defer(state, { kind: "deferredData", streamId, buf, start, end });
    else if (state.kind === "awaitingHello") throw protocolError("the first frame of a connection must be hello");
  }

  control(frame: ControlFrame): void {
    const state = this.state;
    if (state.kind === "ready") this.dispatch(frame);
    else if (state.kind === "authenticating") this.defer(state, frame);
    else if (state.kind === "awaitingHello") {
      if (frame.kind !== "hello") throw protocolError(`the first frame of a connection must be hello, got ${frame.kind}`);
      this.onHello(frame.headers);
    }
  }

  /**
   * Holds a frame until `authenticate` settles. What a connection may hold is
   * capped (`maxPreAuthFrames`, and `maxPreAuthBytes` of the WebSocket
   * messages whose frames are held, since a held data frame keeps its whole
   * message alive); over either, it is closed with `4413`.
   */
  private defer(state: Authenticating, frame: Deferred): void {
    if (!this.messageHeld) {
      this.messageHeld = true;
      state.heldBytes += this.messageBytes;
    }
    state.deferred.push(frame);
    const { maxPreAuthBytes, maxPreAuthFrames } = this.config;
    if (state.heldBytes > maxPreAuthBytes || state.deferred.length > maxPreAuthFrames) {
      this.closeWith(
        CLOSE_CODE.tooMuchBeforeAuth,
        `sent more than ${maxPreAuthFrames} frames or ${maxPreAuthBytes} bytes before hello was authenticated`,
      );
      throw STOP_DECODING;
    }
  }

  private dispatch(frame: ControlFrame): void {
    switch (frame.kind) {
      case "open":
        this.onOpen(frame);
        return;
      case "halfClose":
        this.settlePending(frame.streamId);
        this.streams.get(frame.streamId)?.onHalfClose();
        return;
      case "cancel":
        this.streams.get(frame.streamId)?.onCancel();
        return;
      case "windowUpdate":
        this.streams.get(frame.streamId)?.onWindowUpdate(frame.bytes);
        return;
      case "ping":
        this.queue({ kind: "pong", streamId: 0, payload: frame.payload });
        // Sent now rather than at the end of the turn: the answers to one big message of pings are never
        // all held at once, and each slice counts towards bufferedAmount (a client that does not read is cut).
        if (++this.pongsSinceFlush >= PONGS_PER_FLUSH) this.outbox.flush();
        return;
      default:
        // pong only proves liveness; a repeated hello and server-to-client kinds are ignored.
        return;
    }
  }

  private onHello(headers: HeaderList): void {
    // Validated once here (§1.3): every stream merges these without checking them again.
    const limit = this.config.maxHeaderBytes;
    if (headerListBytes(headers) > limit) throw protocolError(`the hello headers are over the server's limit of ${limit} bytes`);
    try {
      requestHeaders([], headers);
    } catch (e) {
      throw protocolError(`hello carries an invalid header field: ${String(e)}`);
    }
    this.hello = headers;
    const authenticate = this.config.authenticate;
    if (authenticate === undefined) {
      this.state = { kind: "ready" };
      return;
    }
    let result: unknown;
    try {
      result = authenticate(requestHeaders([], headers));
    } catch (e) {
      this.rejectHello(e);
      return;
    }
    if (!isThenable(result)) {
      this.acceptHello(result);
      return;
    }
    const state: Authenticating = { kind: "authenticating", deferred: [], heldBytes: 0 };
    this.state = state;
    // Promise.resolve: a foreign thenable must be awaited too, or its rejection would go unseen.
    Promise.resolve(result).then(
      (principal: unknown) => {
        if (this.state === state) this.acceptHello(principal, state.deferred);
      },
      (e: unknown) => {
        if (this.state === state) this.rejectHello(e);
      },
    );
  }

  /** The connection's principal is known (a returned `ConnectError` refuses it): run what waited for it. */
  private acceptHello(principal: unknown, deferred: readonly Deferred[] = []): void {
    if (principal instanceof ConnectError) {
      this.rejectHello(principal);
      return;
    }
    this.principal = principal;
    this.state = { kind: "ready" };
    try {
      for (const frame of deferred) {
        if (!this.isReady()) return; // a deferred frame closed the connection
        if (frame.kind === "deferredData") this.deliverData(frame.streamId, frame.buf, frame.start, frame.end);
        else this.dispatch(frame);
      }
    } catch (e) {
      this.onDecodeError(e);
    }
  }

  private isReady(): boolean {
    return this.state.kind === "ready";
  }

  private rejectHello(e: unknown): void {
    const error = authError(e);
    const code =
      error.code === Code.PermissionDenied
        ? CLOSE_CODE.permissionDenied
        : error.code === Code.Unauthenticated
          ? CLOSE_CODE.unauthenticated
          : CLOSE_CODE.tryAgainLater;
    this.closeWith(code, error.rawMessage);
  }

  /**
   * A stream's context: with an `authenticate` hook, the connection's
   * principal, unless the stream's `open` carries its own `authorization`
   * (PROTOCOL.md §1.3): then the router's auth interceptor checks the
   * stream's headers (its own fields over the hello's) when the call starts.
   */
  private streamValues(open: HeaderList): ContextValues | undefined {
    if (this.config.authenticate === undefined) return undefined;
    for (const [name] of open) if (name.toLowerCase() === "authorization") return undefined;
    return authenticatedValues(this.principal);
  }

  private onOpen(frame: ControlFrame & { kind: "open" }): void {
    const id = frame.streamId;
    if (id <= this.lastStreamId || id > MAX_STREAM_ID) {
      throw protocolError(`stream id ${id} is out of order: each open needs an id above ${this.lastStreamId} and below 2^31`);
    }
    this.lastStreamId = id;
    const handler = this.config.handlers.get(frame.path);
    if (handler === undefined) {
      this.endAtOnce(id, new ConnectError(`unknown procedure ${frame.path}`, Code.Unimplemented));
      return;
    }
    if (this.streams.size >= this.config.maxStreams) {
      const message = `this connection already has ${this.config.maxStreams} open streams; wait for one to end`;
      this.endAtOnce(id, new ConnectError(message, Code.ResourceExhausted));
      return;
    }
    if (headerListBytes(frame.headers) > this.config.maxHeaderBytes) {
      const message = `the open headers are over the server's limit of ${this.config.maxHeaderBytes} bytes`;
      this.endAtOnce(id, new ConnectError(message, Code.ResourceExhausted));
      return;
    }
    let header: Headers;
    try {
      header = requestHeaders(this.hello, frame.headers);
    } catch (e) {
      this.endAtOnce(id, new ConnectError(`invalid request header: ${String(e)}`, Code.InvalidArgument));
      return;
    }
    const window = Math.min(frame.initialWindow === 0 ? DEFAULT_INITIAL_WINDOW : frame.initialWindow, this.config.maxStreamWindowBytes);
    if (hasSingleRequest(handler)) {
      const timer = this.config.clock.setTimeout(() => this.onHalfCloseTimeout(id), this.config.halfCloseTimeoutMs);
      this.pendingRequests.set(id, { bytes: 0, timer });
    }
    this.streams.set(
      id,
      new ServerTunnelStream(this, id, handler, header, window, this.config.direct.get(frame.path), this.streamValues(frame.headers)),
    );
  }

  private deliverData(streamId: number, buf: Uint8Array, start: number, end: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    const pending = this.pendingRequests.get(streamId);
    if (pending !== undefined) {
      pending.bytes += end - start;
      this.pendingRequestBytes += end - start;
      if (this.pendingRequestBytes > this.config.maxPendingRequestBytes) {
        const limit = this.config.maxPendingRequestBytes;
        stream.fail(
          new ConnectError(`this connection holds over ${limit} bytes of requests waiting for half_close`, Code.ResourceExhausted),
        );
        return;
      }
    }
    stream.onData(buf, start, end);
  }

  /** The stream half-closed or ended: its request no longer waits. */
  private settlePending(streamId: number): void {
    const pending = this.pendingRequests.get(streamId);
    if (pending === undefined) return;
    this.pendingRequests.delete(streamId);
    this.pendingRequestBytes -= pending.bytes;
    this.config.clock.clearTimeout(pending.timer);
  }

  private onHalfCloseTimeout(streamId: number): void {
    const limit = this.config.halfCloseTimeoutMs;
    this.streams
      .get(streamId)
      ?.fail(new ConnectError(`the request did not half_close within ${limit} ms of its open`, Code.DeadlineExceeded));
    this.settlePending(streamId);
  }

  private endAtOnce(streamId: number, error: ConnectError): void {
    this.queue({ kind: "end", streamId, code: error.code, message: error.rawMessage, details: [], trailers: [] });
  }

  // --- StreamHost -----------------------------------------------------------

  queue(frame: ControlFrame): void {
    this.outbox.queue(frame);
  }

  queueData(streamId: number, envelopes: Uint8Array): void {
    this.outbox.queueData(streamId, envelopes);
  }

  removeStream(streamId: number): void {
    this.settlePending(streamId);
    this.streams.delete(streamId);
  }

  batchFull(): boolean {
    const pending = this.outbox.pendingDataBytes;
    return pending >= MAX_BATCH_DATA_BYTES || this.socket.bufferedAmount + pending >= this.config.maxBufferedBytes;
  }

  resumeAfterFlush(stream: ServerTunnelStream): void {
    this.heldForFlush.add(stream);
  }

  private resumeHeldStreams(): void {
    // Over the cap, held streams wait for the socket to drain (checkDrained) instead.
    if (this.heldForFlush.size === 0 || this.overBufferedSinceMs !== undefined) return;
    const held = [...this.heldForFlush];
    this.heldForFlush.clear();
    for (const stream of held) stream.onFlushed();
  }

  // --- output accounting ----------------------------------------------------

  /** After a send: every frame (data, pong, end) counts towards the socket's buffer. */
  private checkBuffered(): void {
    const buffered = this.socket.bufferedAmount;
    const cap = this.config.maxBufferedBytes;
    if (buffered >= 2 * cap) {
      this.cutSlowConsumer(`over ${2 * cap} bytes of output waiting: the client does not read`, true);
      return;
    }
    if (buffered < cap || this.overBufferedSinceMs !== undefined) return;
    this.overBufferedSinceMs = this.config.clock.now();
    this.drainTimer = this.config.clock.setTimeout(this.onDrainTimer, DRAIN_POLL_MS);
  }

  private checkDrained(): void {
    this.drainTimer = undefined;
    if (this.state.kind === "closed" || this.overBufferedSinceMs === undefined) return;
    if (this.socket.bufferedAmount < this.config.maxBufferedBytes) {
      this.overBufferedSinceMs = undefined;
      this.resumeHeldStreams();
      return;
    }
    const timeoutMs = this.config.slowConsumerTimeoutMs;
    if (this.config.clock.now() - this.overBufferedSinceMs >= timeoutMs) {
      this.cutSlowConsumer(`output stayed over ${this.config.maxBufferedBytes} bytes for ${timeoutMs} ms: the client does not read`, false);
      return;
    }
    this.drainTimer = this.config.clock.setTimeout(this.onDrainTimer, DRAIN_POLL_MS);
  }

  /**
   * Closes with `4008`. At twice the cap the socket is cut at once as well
   * (the close frame cannot get past what the client leaves unread, and every
   * message it still sends costs work); otherwise it is cut if the closing
   * handshake has not finished within `closeTimeoutMs`.
   */
  private cutSlowConsumer(reason: string, now: boolean): void {
    if (this.state.kind === "closed") return;
    this.shutDown(new ConnectError(`the tunnel connection closed: ${reason}`, Code.ResourceExhausted));
    this.socket.close(CLOSE_CODE.slowConsumer, closeReason(reason));
    if (now) {
      this.terminate();
      return;
    }
    const cut = this.config.clock.setTimeout(() => this.terminate(), this.config.closeTimeoutMs);
    void this.closed.then(() => this.config.clock.clearTimeout(cut));
  }

  // --- lifecycle ------------------------------------------------------------

  private checkKeepalive(): void {
    if (this.state.kind === "closed") return;
    const idleMs = this.config.clock.now() - this.lastReceivedMs;
    const timeoutMs = this.config.keepaliveTimeoutMs;
    if (idleMs >= timeoutMs) {
      this.closeWith(CLOSE_CODE.keepaliveTimeout, `nothing received for ${timeoutMs} ms; send a ping at least every ${timeoutMs / 2} ms`);
      return;
    }
    this.keepaliveTimer = this.config.clock.setTimeout(this.onKeepaliveTimer, timeoutMs - idleMs);
  }

  goAway(message: string): void {
    if (this.state.kind === "closed") return;
    this.queue({ kind: "goAway", streamId: 0, lastStreamId: this.lastStreamId, message });
    const reason = new ConnectError(message, Code.Unavailable);
    for (const stream of this.streams.values()) stream.fail(reason);
    this.closeWith(CLOSE_CODE.goingAway, message);
  }

  terminate(): void {
    if (this.socket.terminate !== undefined) this.socket.terminate();
    else this.onSocketClosed();
  }

  /** Flushes what is queued (ends of other streams are still worth sending), then closes. */
  private closeWith(code: number, reason: string): void {
    if (this.state.kind === "closed") return;
    this.shutDown(new ConnectError(`the tunnel connection closed: ${reason}`, Code.Canceled));
    this.outbox.flush();
    this.socket.close(code, closeReason(reason));
  }

  /** Stops every stream's handler without sending anything for it. */
  private shutDown(reason: ConnectError): void {
    if (this.state.kind === "closed") return;
    this.state = { kind: "closed" };
    this.config.clock.clearTimeout(this.keepaliveTimer);
    if (this.drainTimer !== undefined) this.config.clock.clearTimeout(this.drainTimer);
    for (const id of [...this.pendingRequests.keys()]) this.settlePending(id);
    for (const stream of this.streams.values()) stream.abort(reason);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function protocolError(message: string): TunnelProtocolError {
  return new TunnelProtocolError("unexpected_frame", message);
}
