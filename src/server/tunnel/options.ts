import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { type Clock, systemClock } from "../../clock.js";
import type { DirectMethod, DirectService } from "../call/direct-call.js";
import type { Authenticate } from "../auth/authenticate.js";
import type { AllowedOrigins } from "./origins.js";

/**
 * Checks a connection's `hello` headers (credentials) and returns the
 * principal its streams' handlers see under `PRINCIPAL` in `ctx.values`.
 * Throw, reject or return a `ConnectError` to refuse the connection:
 * `Code.PermissionDenied` closes it with `4403`, `Code.Unauthenticated` (and
 * anything not a `ConnectError`) with `4401`, another code with `1013` (try
 * again later); the error's message becomes the close reason (cut to 123
 * bytes). Streams wait until it settles. The same shape as the server-wide
 * `Authenticate` (see `createWeatherServer({ authenticate })`).
 */
export type TunnelAuthenticate = Authenticate;

/** The tunnel's tunables; every one has a default. */
export interface TunnelOptions {
  /** Request path of the upgrade. Default `"/ws"`. */
  readonly path?: string;
  /** Open streams per connection; one more ends at once with `ResourceExhausted`. Default 4096. */
  readonly maxStreams?: number;
  /** Largest WebSocket message accepted; a larger one closes the connection with `1009`. Default 16 MiB. */
  readonly maxWebSocketMessageBytes?: number;
  /** Largest request message (envelope payload); a larger one ends its stream with `ResourceExhausted`. Default 4 MiB. */
  readonly maxRequestMessageBytes?: number;
  /** A connection that sends nothing for this long is closed with `4000`. Default 30000. */
  readonly keepaliveTimeoutMs?: number;
  /**
   * Output bytes a connection may have waiting in its socket (`bufferedAmount`)
   * plus this turn's batch. Above it the server stops pulling from handlers;
   * a client that stays above it for `slowConsumerTimeoutMs`, or reaches twice
   * it (control frames such as `pong` still go out), is cut with `4008`.
   * Default 8 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** How long a connection may stay over `maxBufferedBytes` before it is cut with `4008`. Default 30000. */
  readonly slowConsumerTimeoutMs?: number;
  /** Most send credit a stream may hold (`open.initial_window` and `window_update` are capped to it). Default 4 MiB. */
  readonly maxStreamWindowBytes?: number;
  /**
   * Largest header list, in bytes of names and values: the `hello` headers
   * (over it: close with `1002`) and each `open`'s own (over it: the stream
   * ends with `ResourceExhausted`). Default 16384.
   */
  readonly maxHeaderBytes?: number;
  /**
   * A unary or server-streaming stream must `half_close` within this long of
   * its `open`, or it ends with `DeadlineExceeded` (its request is held in
   * memory until then). Default 30000.
   */
  readonly halfCloseTimeoutMs?: number;
  /**
   * Request bytes a connection may hold for streams that have not half-closed
   * (unary and server-streaming requests wait whole for `half_close`); a
   * stream that would go over ends with `ResourceExhausted`. Default 16 MiB.
   */
  readonly maxPendingRequestBytes?: number;
  /**
   * Frames a connection may send after `hello` while an asynchronous
   * `authenticate` runs (they wait for it); one more closes the connection
   * with `4413`. Default 16384 (`open`, `data` and `half_close` for each of
   * 4096 streams, with room to spare).
   */
  readonly maxPreAuthFrames?: number;
  /**
   * Bytes of the WebSocket messages whose frames wait for an asynchronous
   * `authenticate` (a waiting frame keeps its whole message); over it the
   * connection is closed with `4413`. Default 4 MiB.
   */
  readonly maxPreAuthBytes?: number;
  /**
   * Checks the `hello` headers (PROTOCOL.md §1.3); default: every connection
   * is accepted (interceptors still see the headers). On `createWeatherServer`
   * this is superseded by its top-level `authenticate`, which guards every
   * transport (this one guards the tunnel alone and is kept for existing code).
   */
  readonly authenticate?: TunnelAuthenticate;
}

/** Options of `createTunnelHandler` (and of the Node `createTunnelServer` built on it). */
export interface TunnelHandlerOptions extends TunnelOptions {
  /** The router's universal handlers, the same that serve HTTP (`router.handlers`). */
  readonly handlers: readonly UniversalHandler[];
  /**
   * Implementations behind some of `handlers` that the tunnel may call
   * directly ({@link directService}: connect's own invocation, interceptors
   * and handler context, without the HTTP protocol layers), which takes a
   * fraction of the CPU per streamed message. Each must be the
   * implementation, with the router options, that its handler serves;
   * methods not listed go through `handlers`.
   */
  readonly direct?: readonly DirectService[];
  /**
   * Browser origins allowed to open the tunnel (`"*"`: any). Node refuses an
   * upgrade with another `Origin` with `403`; the handler closes such a socket
   * with `1008`. Default `"*"`.
   */
  readonly allowedOrigins?: AllowedOrigins;
  /** Time source for keepalive, deadlines and the shutdown wait. Default the system clock. */
  readonly clock?: Clock;
  /** When it aborts the tunnel shuts down as if `close()` had been called. */
  readonly shutdownSignal?: AbortSignal;
  /** How long `close()` waits for clients to finish the closing handshake before cutting sockets. Default 5000. */
  readonly closeTimeoutMs?: number;
  /** Unexpected failures (a broken handler, a socket error). Default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/** Options after defaults and validation, shared by every connection. */
export interface TunnelConfig {
  readonly path: string;
  readonly handlers: ReadonlyMap<string, UniversalHandler>;
  /** Methods called directly, by request path; each also has a handler. */
  readonly direct: ReadonlyMap<string, DirectMethod>;
  readonly allowedOrigins: AllowedOrigins;
  readonly clock: Clock;
  readonly maxStreams: number;
  readonly maxWebSocketMessageBytes: number;
  readonly maxRequestMessageBytes: number;
  readonly keepaliveTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly slowConsumerTimeoutMs: number;
  readonly maxStreamWindowBytes: number;
  readonly maxHeaderBytes: number;
  readonly halfCloseTimeoutMs: number;
  readonly maxPendingRequestBytes: number;
  readonly maxPreAuthFrames: number;
  readonly maxPreAuthBytes: number;
  readonly closeTimeoutMs: number;
  readonly authenticate: TunnelAuthenticate | undefined;
  readonly onError: (error: unknown) => void;
}

const MiB = 1024 * 1024;

/** Options of the Node `createTunnelServer`: those of the handler. */
export type TunnelServerOptions = TunnelHandlerOptions;

export function resolveTunnelOptions(options: TunnelHandlerOptions): TunnelConfig {
  const path = options.path ?? "/ws";
  if (!path.startsWith("/")) throw new RangeError(`tunnel path must start with "/", got "${path}"`);
  const handlers = new Map(options.handlers.map((h) => [h.requestPath, h]));
  const direct = new Map<string, DirectMethod>();
  for (const method of (options.direct ?? []).flatMap((d) => d.methods)) {
    if (!handlers.has(method.requestPath)) {
      throw new RangeError(`direct method ${method.requestPath} has no handler in \`handlers\`: register its service on the router too`);
    }
    if (direct.has(method.requestPath)) {
      throw new RangeError(`direct method ${method.requestPath} is listed twice in \`direct\`; list each service once`);
    }
    direct.set(method.requestPath, method);
  }
  return {
    path,
    handlers,
    direct,
    allowedOrigins: options.allowedOrigins ?? "*",
    clock: options.clock ?? systemClock,
    maxStreams: positiveInteger("maxStreams", options.maxStreams ?? 4096),
    maxWebSocketMessageBytes: positiveInteger("maxWebSocketMessageBytes", options.maxWebSocketMessageBytes ?? 16 * MiB),
    maxRequestMessageBytes: positiveInteger("maxRequestMessageBytes", options.maxRequestMessageBytes ?? 4 * MiB),
    keepaliveTimeoutMs: positiveInteger("keepaliveTimeoutMs", options.keepaliveTimeoutMs ?? 30_000),
    maxBufferedBytes: positiveInteger("maxBufferedBytes", options.maxBufferedBytes ?? 8 * MiB),
    slowConsumerTimeoutMs: positiveInteger("slowConsumerTimeoutMs", options.slowConsumerTimeoutMs ?? 30_000),
    maxStreamWindowBytes: positiveInteger("maxStreamWindowBytes", options.maxStreamWindowBytes ?? 4 * MiB),
    maxHeaderBytes: positiveInteger("maxHeaderBytes", options.maxHeaderBytes ?? 16 * 1024),
    halfCloseTimeoutMs: positiveInteger("halfCloseTimeoutMs", options.halfCloseTimeoutMs ?? 30_000),
    maxPendingRequestBytes: positiveInteger("maxPendingRequestBytes", options.maxPendingRequestBytes ?? 16 * MiB),
    maxPreAuthFrames: positiveInteger("maxPreAuthFrames", options.maxPreAuthFrames ?? 16_384),
    maxPreAuthBytes: positiveInteger("maxPreAuthBytes", options.maxPreAuthBytes ?? 4 * MiB),
    closeTimeoutMs: nonNegative("closeTimeoutMs", options.closeTimeoutMs ?? 5000),
    authenticate: options.authenticate,
    onError: options.onError ?? ((e: unknown) => console.error("weather-sdk tunnel:", e)),
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`tunnel option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`tunnel option ${name} must be zero or more milliseconds, got ${value}`);
  }
  return value;
}
