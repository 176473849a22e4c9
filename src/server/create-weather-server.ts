import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type * as stream from "node:stream";
import type { Interceptor } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type Clock, sleep, systemClock } from "../clock.js";
import { type Authenticate, createAuthInterceptor } from "./auth/authenticate.js";
import { createSseTickets, type SseTicketOptions } from "./auth/sse-tickets.js";
import { createHttpHandler, type RouteHandler } from "./http/http-handler.js";
import { IdleSessions } from "./http/idle-sessions.js";
import { type NodeRequest, type NodeResponse, sendText } from "./http/node-http.js";
import { createProtocolSniffingListener } from "./http/protocol-sniffing-listener.js";
import { createWeatherSseRoute } from "./http/sse-node-route.js";
import { createTunnelServer, rejectUpgrade } from "./http/ws-tunnel.js";
import type { TunnelOptions } from "./tunnel/options.js";
import type { AllowedOrigins } from "./tunnel/origins.js";
import { createWeatherRouter } from "./weather/weather-router.js";
import type { WeatherSource } from "./weather/weather-source.js";

/** Options of {@link createWeatherServer}; every one has a default. */
export interface WeatherServerOptions {
  /** A reading per city every `tickMs`, aligned to the wall clock. Default 1000. */
  tickMs?: number;
  /** How far back a resume request is replayed. Default 600000 (10 minutes). */
  historyWindowMs?: number;
  /** Most readings one `ReportBatch` call may carry (more is `ResourceExhausted`). Default 10000. */
  maxReportBatch?: number;
  /**
   * Browser origins allowed on every transport: a request or WebSocket
   * upgrade from another origin (or the opaque `null`) is refused with `403`;
   * listed origins get CORS headers. Requests without `Origin` (non-browser
   * clients) are served. Default `"*"`: any origin but `null`, which suits
   * development; list your app's origins in production (SECURITY.md).
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * The WebSocket tunnel at `GET /ws` (PROTOCOL.md §1): its limits
   * (`maxStreams` 4096, `maxWebSocketMessageBytes` 16 MiB,
   * `maxRequestMessageBytes` `limits.maxRequestBytes`, `maxBufferedBytes`
   * 8 MiB, `maxStreamWindowBytes` 4 MiB, `maxHeaderBytes` 16 KiB,
   * `halfCloseTimeoutMs` 30000, `maxPendingRequestBytes` 16 MiB,
   * `maxPreAuthFrames` 16384 and `maxPreAuthBytes` 4 MiB; SECURITY.md
   * lists them all), `keepaliveTimeoutMs` (30000) and an `authenticate` hook
   * for the `hello` headers. Its timers use `clock`.
   */
  tunnel?: TunnelOptions;
  /**
   * Authenticates every call on every transport (README "Authentication",
   * PROTOCOL.md §1.3): Connect, gRPC and gRPC-Web on the request headers
   * (`Authorization`), the tunnel on `hello` (and on a stream's own
   * `authorization`), SSE on the request headers or a `?ticket=` from
   * `POST /sse/ticket`. Return the principal (handlers read it with
   * `ctx.values.get(PRINCIPAL)`); throw, reject or return a `ConnectError`
   * (`Unauthenticated`, `PermissionDenied`) to refuse. Default: none, every
   * caller is accepted (local development).
   */
  authenticate?: Authenticate;
  /** SSE tickets for a plain `EventSource` (with `authenticate`): `ttlMs` (30000) and `maxOutstanding` (10000). */
  sseTickets?: Omit<SseTicketOptions, "clock">;
  /** Server interceptors, applied identically on every transport (after `authenticate`). */
  interceptors?: Interceptor[];
  /** How long `close()` lets streams finish before it cuts connections. Default 5000. */
  shutdownGraceMs?: number;
  /**
   * Where readings come from. Default: the deterministic simulation in this
   * process (`tickMs`, `historyWindowMs`). Pass a shared source (such as
   * `createRedisWeatherSource`) to run several instances on one history; the
   * server closes it when it closes.
   */
  source?: WeatherSource;
  /** Time source for ticks; inject a fake one in tests. Default the system clock. */
  clock?: Clock;
  /** Called with unexpected handler failures. Default `console.error`. */
  onError?: (error: unknown) => void;
  /** SSE: a comment line goes out after this long without other output, so proxies keep the stream. Default 15000. */
  sseKeepaliveMs?: number;
  /** SSE: the `retry:` hint, how long a standard `EventSource` waits before reconnecting. Default 1000. */
  sseRetryMs?: number;
  /** Resource limits of the HTTP side and of every transport (SECURITY.md lists them all); every one has a default. */
  limits?: ServerLimits;
}

/** The server's resource limits (the tunnel's own are in {@link TunnelOptions}). */
export interface ServerLimits {
  /**
   * Largest request message, after decompression, on every transport:
   * Connect, gRPC and gRPC-Web (connect's `readMaxBytes`), SSE, and the
   * tunnel's `maxRequestMessageBytes` unless that is set. Over it:
   * `ResourceExhausted`. Default 4194304 (4 MiB).
   */
  maxRequestBytes?: number;
  /** Open TCP connections in all (tunnels, HTTP/1.1, h2c); one more is closed at accept. Default 10000. */
  maxConnections?: number;
  /** Open TCP connections from one client address. Default 1000. */
  maxConnectionsPerAddress?: number;
  /** HTTP/1.1: the whole request head must arrive within this long, else `408`. Default 30000. */
  headersTimeoutMs?: number;
  /** HTTP/1.1 and h2c: the whole request (head and body) must arrive within this long, else `408` / `RST_STREAM`. Default 60000. */
  requestTimeoutMs?: number;
  /** h2c: a session with no bytes in either direction for this long (checked every quarter of it) is closed. Default 120000. */
  http2IdleTimeoutMs?: number;
  /** h2c: concurrent streams per session (the `SETTINGS_MAX_CONCURRENT_STREAMS` it announces). Default 256. */
  http2MaxConcurrentStreams?: number;
}

/** A running (or ready to run) reference server. */
export interface WeatherServer {
  /** Starts listening; port 0 picks a free port. Resolves with the bound port and base URL. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Base URL such as `http://127.0.0.1:8080`; throws before `listen` resolved. */
  readonly url: string;
  /** The router's universal handlers: every transport dispatches into these. */
  readonly handlers: readonly UniversalHandler[];
  /**
   * Graceful shutdown: stops accepting connections, ends open streams with
   * `Unavailable` (clients resume elsewhere), waits up to `shutdownGraceMs`
   * for responses to finish, then closes every connection.
   */
  close(): Promise<void>;
}

/** Resets an h2c stream whose request has not fully arrived within `timeoutMs`. */
function armRequestTimeout(req: http2.Http2ServerRequest, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (!req.stream.destroyed) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  }, timeoutMs);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once("end", clear);
  req.stream.once("close", clear);
}

/**
 * Creates the reference server for `weather.WeatherService`: Connect, gRPC and
 * gRPC-Web over HTTP/1.1 and h2c, the WebSocket tunnel and SSE on one port,
 * from one service implementation. It wires the runtime-neutral router, SSE
 * route and tunnel handler to Node's servers.
 */
export function createWeatherServer(options: WeatherServerOptions = {}): WeatherServer {
  const shutdownGraceMs = options.shutdownGraceMs ?? 5000;
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? ((e: unknown) => console.error("weather-sdk server:", e));
  const shutdown = new AbortController();
  const authenticate = options.authenticate;
  if (authenticate !== undefined && options.tunnel?.authenticate !== undefined) {
    throw new RangeError("createWeatherServer: pass `authenticate` (every transport) or the deprecated `tunnel.authenticate`, not both");
  }
  const limits = options.limits ?? {};
  const maxRequestBytes = limits.maxRequestBytes ?? 4 * 1024 * 1024;
  const requestTimeoutMs = limits.requestTimeoutMs ?? 60_000;
  // Node requires headersTimeout <= requestTimeout: the head is part of the request.
  const headersTimeoutMs = Math.min(limits.headersTimeoutMs ?? 30_000, requestTimeoutMs);

  const router = createWeatherRouter({
    tickMs: options.tickMs,
    historyWindowMs: options.historyWindowMs,
    maxReportBatch: options.maxReportBatch,
    // First, so every other interceptor sees the principal.
    interceptors:
      authenticate === undefined ? options.interceptors : [createAuthInterceptor(authenticate), ...(options.interceptors ?? [])],
    acceptCompression: [compressionGzip, compressionBrotli],
    readMaxBytes: maxRequestBytes,
    source: options.source,
    clock,
    shutdownSignal: shutdown.signal,
  });
  const source = router.source;

  const health: RouteHandler = (_req, res, pathname) => {
    if (pathname !== "/healthz") return false;
    const sourceHealth = source.health();
    if (shutdown.signal.aborted) sendText(res, 503, "shutting down\n");
    else if (sourceHealth.ok) sendText(res, 200, "ok\n");
    else sendText(res, 503, `degraded: ${sourceHealth.detail}\n`);
    return true;
  };
  const handleHttp = createHttpHandler({
    ...(authenticate && { authenticate }),
    handlers: router.handlers,
    allowedOrigins: options.allowedOrigins ?? "*",
    routes: [
      health,
      createWeatherSseRoute(router.handlers, {
        direct: [router.direct],
        keepaliveMs: options.sseKeepaliveMs,
        retryMs: options.sseRetryMs,
        ...(authenticate && { authenticate, tickets: createSseTickets({ ...options.sseTickets, clock }) }),
        readMaxBytes: maxRequestBytes,
        clock,
        onError,
      }),
    ],
    onError,
  });

  let activeRequests = 0;
  let drained: (() => void) | undefined;
  const listener = (req: NodeRequest, res: NodeResponse) => {
    activeRequests++;
    res.once("close", () => {
      activeRequests--;
      if (activeRequests === 0) drained?.();
    });
    // HTTP/1.1 requests have Node's requestTimeout; an h2c stream gets the same deadline for its body here.
    if (req instanceof http2.Http2ServerRequest && !req.readableEnded) armRequestTimeout(req, requestTimeoutMs);
    handleHttp(req, res);
  };
  // Only WebSocket upgrades leave the request path (an `Upgrade: h2c` request is served as HTTP/1.1).
  const h1 = http.createServer(
    {
      shouldUpgradeCallback: (req) => req.headers.upgrade?.toLowerCase() === "websocket",
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
    },
    listener,
  );
  // Node checks headersTimeout and requestTimeout only once its server emits "listening", and this one never
  // listens itself (the sniffing listener hands it sockets): start the checks now; closing h1 stops them.
  h1.emit("listening");
  const tunnel = createTunnelServer({
    maxRequestMessageBytes: maxRequestBytes,
    ...options.tunnel,
    ...(authenticate && { authenticate }),
    handlers: router.handlers,
    direct: [router.direct],
    allowedOrigins: options.allowedOrigins ?? "*",
    clock,
    closeTimeoutMs: shutdownGraceMs,
    onError,
  });
  h1.on("upgrade", (req: http.IncomingMessage, socket: stream.Duplex, head: Buffer) => {
    if (!tunnel.handleUpgrade(req, socket, head)) rejectUpgrade(socket, 404, `no WebSocket endpoint at ${req.url ?? "/"}`);
  });
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams ?? 256 } }, listener);
  const sessions = new Set<http2.ServerHttp2Session>();
  const idleSessions = new IdleSessions(limits.http2IdleTimeoutMs ?? 120_000);
  h2.on("session", (session) => {
    sessions.add(session);
    idleSessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const tcp = createProtocolSniffingListener(h1, h2, {
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
  });
  const sockets = new Set<net.Socket>();
  tcp.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  let url: string | undefined;
  let closing: Promise<void> | undefined;

  return {
    handlers: router.handlers,
    get url() {
      if (url === undefined) throw new Error("the server is not listening yet: await listen() first");
      return url;
    },
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, host, () => {
          tcp.off("error", reject);
          const address = tcp.address() as net.AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          url = `http://${shownHost}:${address.port}`;
          resolve({ port: address.port, url });
        });
      });
    },
    close() {
      closing ??= (async () => {
        shutdown.abort();
        const tunnelClosed = tunnel.close();
        const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        // HTTP/2 sessions close once their streams' trailers are flushed; destroying the
        // sockets earlier turns a gRPC stream's Unavailable into Canceled.
        const sessionsClosed = Promise.all([...sessions].map((session) => new Promise<void>((resolve) => session.close(resolve))));
        const requestsDrained = activeRequests === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
        const grace = new AbortController();
        await Promise.race([
          Promise.all([requestsDrained, sessionsClosed]),
          sleep(clock, shutdownGraceMs, grace.signal).catch(() => undefined),
        ]);
        grace.abort();
        await tunnelClosed;
        idleSessions.stop();
        h1.close(); // stops Node's request timeout checks; h1 never listened, so its callback error is moot
        for (const socket of sockets) socket.destroy();
        if (tcp.listening) await tcpClosed;
        await source.close();
      })();
      return closing;
    },
  };
}
