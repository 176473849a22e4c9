import type { Interceptor } from "@connectrpc/connect";
import type { Clock } from "./clock.js";
import type { HeadersInput } from "./fetch-types.js";
import type { ReconnectPolicy } from "./subscription/backoff.js";
import type { PageLifecycle } from "./subscription/page-lifecycle.js";
import type { AuthOption } from "./transport/auth.js";
import type { TransportKind } from "./subscription/state.js";
import type { WebSocketConstructor, WebSocketTransportOptions } from "./transport/websocket/index.js";

/** Options of `createWeatherClient`. Only `baseUrl` is required. */
export interface WeatherClientOptions {
  /**
   * The server, e.g. `"https://weather.example.com"`: Connect and gRPC-Web calls go to `{baseUrl}/weather.WeatherService/…`.
   * An absolute `http:`/`https:` URL (in a page also a path such as `"/api"`); anything else makes `createWeatherClient` throw a `TypeError`.
   */
  baseUrl: string;
  /**
   * Transports in order of preference. Each call goes to the first that can
   * carry it; one that never opens (blocked upgrade, proxy) hands over to the
   * next, and the one that worked stays the choice until it fails to open.
   * Default `["websocket", "connect", "sse"]`.
   */
  transports?: readonly TransportKind[];
  /** The WebSocket tunnel endpoint. Default `baseUrl` with a ws(s) scheme and path `/ws`. */
  webSocketUrl?: string;
  /** Base URL of the SSE endpoints (the transport appends `/sse/…`). Default `baseUrl`. */
  sseBaseUrl?: string;
  /** Interceptors for every call. On the tunnel they move subscriptions off the fast path onto connect's call pipeline. */
  interceptors?: Interceptor[];
  /**
   * Credentials for every transport: a bearer token (`"abc"` sends
   * `Authorization: Bearer abc`), headers sent as they are, or a provider
   * (`({ refresh }) => token`, may be async). It goes into `Authorization` of
   * every Connect, gRPC-Web and SSE request and into the tunnel's `hello`
   * (once per connection, never in the URL). A provider is asked for every
   * request and every new connection, so a refreshed token is used on
   * reconnect. When the server answers `Unauthenticated`, a subscription asks
   * it once more with `refresh: true`: new credentials retry at once, the
   * same ones (or a fixed token) close the subscription with that error.
   */
  auth?: AuthOption;
  /**
   * Request headers for every call and every reconnect (e.g. a fresh
   * `authorization` token). May be async.
   */
  headers?: () => HeadersInput | Promise<HeadersInput>;
  /** Backoff for subscriptions. Default: 500 ms doubling to 30 s, full jitter, unlimited attempts. */
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * WebSocket constructor. Default the global one, looked up each time a
   * connection opens (so msw's `worker.start()` may come before or after
   * `createWeatherClient`). Needed only when
   * `transports` lists `"websocket"`: without either, `createWeatherClient`
   * throws a `TypeError` (Node 20 has no global WebSocket; pass `ws`'s).
   */
  webSocket?: WebSocketConstructor;
  /** `fetch` for Connect, gRPC-Web and SSE. Default the global one. */
  fetch?: typeof globalThis.fetch;
  /** Tunnel settings: keepalive, idle close, limits. */
  webSocketOptions?: Omit<WebSocketTransportOptions, "url" | "webSocket" | "interceptors" | "clock">;
  /** Time source for backoff and keepalive. Default the system clock. */
  clock?: Clock;
  /** Random numbers in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Online/visibility signals. Default the page's (`navigator.onLine`, `document.visibilityState`), or always-on outside a browser. */
  lifecycle?: PageLifecycle;
  /** Messages a `for await` loop may fall behind before the stream is paused. Default 1024. */
  highWaterMark?: number;
}

/** Per-call options of unary and streaming calls. */
export interface WeatherCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: HeadersInput;
  onHeader?: (headers: Headers) => void;
  onTrailer?: (trailers: Headers) => void;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Aborting it closes the subscription (state `closed`, reason `"closed"`). */
  signal?: AbortSignal;
  /** Overrides the client's reconnect policy for this subscription. */
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * Start after this cursor (for `subscribeWeather`, a reading's `timestamp`):
   * the server replays what followed it from its history, as after a
   * reconnect, and the first `open` state says whether it could (`recovered`).
   * With another subscription's `cursor`, this moves a stream to a new client
   * or transport with nothing lost and nothing twice.
   */
  after?: bigint;
}

export const DEFAULT_TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "sse"];

/** The page's URL in a browser; undefined in Node, where only absolute URLs mean anything. */
const pageHref = (): string | undefined => (globalThis as { location?: { href: string } }).location?.href;

const parses = (url: string): boolean => {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
};

/**
 * Checks the URL options before anything uses them: `baseUrl` and `sseBaseUrl`
 * are absolute `http:`/`https:` URLs, or in a page a path starting with `/`
 * (resolved against the page). Anything else, `"weather.example.com"` or
 * `"localhost:8080"` among them (the second parses as scheme `localhost:`),
 * throws a `TypeError` that names the option, its value and a correct form.
 */
export function checkUrlOptions(options: WeatherClientOptions): void {
  const check = (name: string, value: unknown): void => {
    if (typeof value === "string" && /^https?:\/\/[^/?#]/i.test(value) && parses(value)) return;
    if (typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && pageHref() !== undefined) return;
    throw new TypeError(
      `createWeatherClient: ${name} must be an absolute http:// or https:// URL such as "https://weather.example.com"` +
        `${pageHref() === undefined ? "" : ' (or a path such as "/api" on this page)'}, got ${JSON.stringify(value)}`,
    );
  };
  check("baseUrl", options.baseUrl);
  if (options.sseBaseUrl !== undefined) check("sseBaseUrl", options.sseBaseUrl);
}

/** Resolves the tunnel URL from the options. */
export function webSocketUrlOf(options: WeatherClientOptions): string {
  if (options.webSocketUrl !== undefined) return options.webSocketUrl;
  const url = new URL(options.baseUrl, pageHref());
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/ws`;
  return url.href;
}
