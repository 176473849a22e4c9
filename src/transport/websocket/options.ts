import type { Interceptor } from "@connectrpc/connect";
import { type Clock, systemClock } from "../../clock.js";
import type { HeaderList } from "../../codec/tunnel/index.js";
import { DEFAULT_INITIAL_WINDOW } from "../../codec/tunnel/index.js";
import type { TunnelClientSettings } from "./tunnel-client.js";
import { globalWebSocket, type WebSocketConstructor } from "./web-socket-like.js";
import type { HeadersInput } from "../../fetch-types.js";

/** Options of {@link createWebSocketTransport}. Only `url` is required. */
export interface WebSocketTransportOptions {
  /**
   * The tunnel endpoint, e.g. `"wss://weather.example.com/ws"`. `http:` and
   * `https:` URLs are turned into `ws:` and `wss:`; a path-only URL is resolved
   * against the page's location in a browser.
   */
  url: string;
  /**
   * WebSocket constructor. Default: the global `WebSocket` (browsers, Node ≥ 22),
   * looked up each time a connection opens, so a global installed after the
   * transport was made (msw's `worker.start()`, `server.listen()`) is the one used.
   */
  webSocket?: WebSocketConstructor;
  /** Interceptors, applied to every call as with connect's HTTP transports. */
  interceptors?: Interceptor[];
  /**
   * Connection metadata (e.g. `authorization`) sent once per connection in the
   * `hello` frame, never in the URL. A function is called for each new connection,
   * so a refreshed token is picked up on reconnect; it may be async (frames
   * wait for it, within `connectTimeoutMs`; a rejection fails the
   * connection's streams with its code, `Unauthenticated` if it has none).
   */
  connectionHeaders?: HeadersInput | (() => HeadersInput | Promise<HeadersInput>);
  /** How often to ping the server. Default 10000; 0 turns keepalive off. */
  pingIntervalMs?: number;
  /** How long to wait for any answer after a ping before the connection is considered dead. Default 5000. */
  pingTimeoutMs?: number;
  /** Close the WebSocket after this long without calls. Default 30000. */
  idleCloseMs?: number;
  /** Give up opening the WebSocket after this long. Default 10000. */
  connectTimeoutMs?: number;
  /** Largest response message accepted, in bytes; larger is `ResourceExhausted`. Default 4 MiB. */
  readMaxBytes?: number;
  /** Largest request message sent, in bytes; larger is `ResourceExhausted`. Default 4 MiB. */
  writeMaxBytes?: number;
  /** Bytes each stream may have in flight from the server before the consumer catches up. Default 262144. */
  receiveWindowBytes?: number;
  /** Time source for keepalive and idle timers, and for the deadlines of unary calls made without interceptors. Default the system clock. */
  clock?: Clock;
}

export interface ResolvedOptions extends TunnelClientSettings {
  readonly interceptors: Interceptor[];
  readonly writeMaxBytes: number;
  readonly receiveWindowBytes: number;
  /** http(s) origin + path prefix used for `req.url` as interceptors see it. */
  readonly httpBaseUrl: string;
}

const MIB = 1024 * 1024;

/** Validates options at the boundary, so the rest of the transport can trust them. */
export function resolveOptions(options: WebSocketTransportOptions): ResolvedOptions {
  const given = options.webSocket;
  const atCreation = given ?? globalWebSocket();
  if (atCreation === undefined) {
    throw new TypeError(
      "createWebSocketTransport: this runtime has no global WebSocket; pass the `webSocket` option (e.g. the `ws` package)",
    );
  }
  const url = toWebSocketUrl(options.url);
  const connectionHeaders = options.connectionHeaders;
  return {
    url: url.href,
    httpBaseUrl: `${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}`,
    webSocket: given === undefined ? () => globalWebSocket() ?? atCreation : () => given,
    clock: options.clock ?? systemClock,
    interceptors: options.interceptors ?? [],
    helloHeaders: () => {
      const init = typeof connectionHeaders === "function" ? connectionHeaders() : connectionHeaders;
      return init instanceof Promise ? init.then(toHeaderList) : toHeaderList(init);
    },
    pingIntervalMs: milliseconds("pingIntervalMs", options.pingIntervalMs, 10_000, true),
    pingTimeoutMs: milliseconds("pingTimeoutMs", options.pingTimeoutMs, 5000),
    idleCloseMs: milliseconds("idleCloseMs", options.idleCloseMs, 30_000, true),
    connectTimeoutMs: milliseconds("connectTimeoutMs", options.connectTimeoutMs, 10_000),
    readMaxBytes: bytes("readMaxBytes", options.readMaxBytes, 4 * MIB),
    writeMaxBytes: bytes("writeMaxBytes", options.writeMaxBytes, 4 * MIB),
    receiveWindowBytes: bytes("receiveWindowBytes", options.receiveWindowBytes, DEFAULT_INITIAL_WINDOW),
  };
}

/** Request headers as the tunnel sends them: lower-case names, in order. */
export function toHeaderList(init: HeadersInput | undefined): HeaderList {
  if (init === undefined) return [];
  const list: [string, string][] = [];
  (init instanceof Headers ? init : new Headers(init)).forEach((value, name) => list.push([name, value]));
  return list;
}

function toWebSocketUrl(raw: string): URL {
  let url: URL;
  try {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    url = new URL(raw, base);
  } catch {
    throw new TypeError(`createWebSocketTransport: url "${raw}" is not a valid URL; pass e.g. "wss://host/ws"`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`createWebSocketTransport: url "${raw}" must use ws:, wss:, http: or https:`);
  }
  return url;
}

function milliseconds(name: string, value: number | undefined, fallback: number, zeroAllowed = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (v === 0 && !zeroAllowed)) {
    throw new RangeError(
      `createWebSocketTransport: ${name} must be a ${zeroAllowed ? "non-negative" : "positive"} number of milliseconds, got ${v}`,
    );
  }
  return v;
}

function bytes(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0 || v > 0xffff_ffff) {
    throw new RangeError(`createWebSocketTransport: ${name} must be a positive whole number of bytes below 2^32, got ${v}`);
  }
  return v;
}
