import type { DescService } from "@bufbuild/protobuf";
import { type Code, createConnectRouter, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import type * as Msw from "msw";
import type { HttpHandler, WebSocketHandler } from "msw";
import { type Clock, systemClock } from "../clock.js";
import { SSE_PATH_PREFIX } from "../codec/sse/protocol.js";
import { decodeFrameBatch, encodeFrameBatch, type Frame, TUNNEL_SUBPROTOCOL } from "../codec/tunnel/index.js";
import {
  createSseFetchHandler,
  createTunnelHandler,
  directService,
  type SseResume,
  type TunnelMessageEvent,
  type TunnelSocket,
} from "../server/core.js";
import type { TransportKind } from "../subscription/state.js";
import { CallFaults, type FailOptions, type FaultScope, MOCK_TRANSPORT_HEADER, timesOf, transportInScope } from "./faults.js";

/** Options of {@link createServiceMocks}. */
export interface ServiceMocksOptions {
  /** The server URL the app under test calls (`createWeatherClient({ baseUrl })`), e.g. `"https://api.test"`. */
  readonly baseUrl: string;
  /** The tunnel's URL. Default `baseUrl` with a ws(s) scheme and path `/ws`, as the SDK derives it. */
  readonly webSocketUrl?: string;
  /** Time source of the service's timers (keepalive, injected delays). Default the system clock; see `createMockClock`. */
  readonly clock?: Clock;
  /** Server interceptors, run on every transport after the mocks' own fault interceptor. */
  readonly interceptors?: readonly Interceptor[];
  /** Server-streaming methods resumable over SSE (`Last-Event-ID`), as `sseResume(...)` describes them. */
  readonly resume?: readonly SseResume[];
}

/** The msw handlers one mocked server needs: pass them to `setupWorker(...)` or `setupServer(...)`, or `worker.use(...)`. */
export type MockHandlers = readonly (HttpHandler | WebSocketHandler)[];

/** Faults the mocks can inject, before or during a test; `reset()` clears them all. */
export interface Faults {
  /** Fails the next matching call (or `times` calls) with `code`, on any transport the scope names. */
  fail(code: Code, options?: FailOptions): void;
  /** Holds each matching call `ms` on the mocks' clock before it reaches the service (every call until reset unless `times`). */
  delay(ms: number, scope?: FaultScope & { readonly times?: number }): void;
  /** Ends the next matching stream (or `times` streams) with `code` after `afterMessages` messages. */
  cutStream(afterMessages: number, code: Code, scope?: FaultScope & { readonly times?: number }): void;
  /** Waits `msPerMessage` on the mocks' clock before each message of matching streams (until reset unless `times`). */
  slowStream(msPerMessage: number, scope?: FaultScope & { readonly times?: number }): void;
  /**
   * Refuses WebSocket upgrades until reset: the client sees a socket that never
   * opens and closes with 1006, as behind a proxy that blocks WebSockets, and
   * falls back to its next transport.
   */
  refuseWebSocket(): void;
  /**
   * Open tunnels stop answering pings (and new ones do too, until reset): the
   * client's keepalive finds the connection dead and reconnects.
   */
  ignorePings(): void;
  /**
   * Drops every open connection of the scope's transports now, with no closing
   * handshake (WebSocket close 1006; a streamed HTTP body fails mid-way), as a
   * network cut would. The client reconnects and resumes.
   */
  dropConnections(scope?: Pick<FaultScope, "transport">): void;
}

/** A mocked server for one service at one base URL. */
export interface ServiceMocks extends Faults {
  /** The msw handlers: Connect, gRPC-Web and SSE over `http`, the tunnel over `ws.link`. */
  readonly handlers: MockHandlers;
  /** Open tunnel connections and streamed HTTP responses, by transport. */
  openConnections(transport?: TransportKind): number;
  /** Clears every fault (calls already held or cut stay so). */
  reset(): void;
  /** Closes open connections and stops timers: call it after the test (msw's `resetHandlers` does not). */
  close(): Promise<void>;
}

/**
 * msw, an optional peer dependency: loaded here, not imported statically, so
 * the rest of weather-sdk/testing (the weather model) works without it.
 */
const msw: typeof Msw | undefined = await import("msw").catch(() => undefined);

function requireMsw(): typeof Msw {
  if (msw === undefined) {
    throw new Error("weather-sdk/testing: the mocks need msw (a peer dependency): npm install -D msw@^3");
  }
  return msw;
}

/** Close code of a connection cut without a closing handshake. */
const ABNORMAL_CLOSURE = 1006;

/**
 * Mocks a server of any protobuf-es service at `baseUrl` for msw, on the
 * reference server's own runtime-neutral handlers: Connect and gRPC-Web
 * (unary and server streaming) through connect's `createFetchHandler`, SSE
 * through the SSE route, and the WebSocket tunnel (all four call modes, flow
 * control, ping/pong) through `ws.link`. So the app under test speaks exactly
 * the wire it will meet in production, with `impl` behind it.
 *
 * @example
 * const mocks = createServiceMocks(GreetService, { greet: (req) => ({ text: `hi ${req.name}` }) }, { baseUrl: "https://api.test" });
 * const worker = setupWorker(...mocks.handlers);
 */
export function createServiceMocks<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: ServiceMocksOptions,
): ServiceMocks {
  const clock = options.clock ?? systemClock;
  const faults = new CallFaults(clock);
  const routerOptions = { interceptors: [faults.interceptor, ...(options.interceptors ?? [])] };
  const router = createConnectRouter(routerOptions);
  router.service(service, impl);
  const direct = directService(service, impl, routerOptions);
  return mocksOnRouter(router.handlers, direct, faults, options);
}

/** The msw side of {@link createServiceMocks}, shared with `createWeatherMocks`. */
export function mocksOnRouter(
  handlers: ReturnType<typeof createConnectRouter>["handlers"],
  direct: ReturnType<typeof directService>,
  faults: CallFaults,
  options: ServiceMocksOptions,
): ServiceMocks {
  const { http, ws } = requireMsw();
  const clock = options.clock ?? systemClock;
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/$/, "");
  const webSocketUrl = options.webSocketUrl ?? tunnelUrlOf(base);
  const tunnel = createTunnelHandler({ handlers, direct: [direct], clock, onError: () => undefined });
  const sse = createSseFetchHandler({ handlers, direct: [direct], resume: options.resume ?? [], clock, onError: () => undefined });
  const rpc = new Map(handlers.map((h) => [h.requestPath, createFetchHandler(h)]));

  let refuseUpgrades = false;
  let deafToPings = false;
  const sockets = new Set<MockedTunnelSocket>();
  const streams = new Set<TrackedBody>();

  const httpHandler = http.all(`${base.origin}${basePath}/*`, async ({ request }) => {
    const path = new URL(request.url).pathname.slice(basePath.length);
    const isSse = path.startsWith(`${SSE_PATH_PREFIX}/`);
    const serve = isSse ? sse : rpc.get(path);
    // Not a path of this service: leave it to the app's other handlers.
    if (serve === undefined) return undefined;
    const transport: TransportKind = isSse
      ? "sse"
      : (request.headers.get("content-type") ?? "").startsWith("application/grpc-web")
        ? "grpc-web"
        : "connect";
    const headers = new Headers(request.headers);
    headers.set(MOCK_TRANSPORT_HEADER, transport);
    const url = new URL(request.url);
    url.pathname = path;
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    // The call's signal aborts when the client aborts or cancels the body, or the mocks drop it: a service
    // waiting for its next message learns at once that nobody is listening, as over a real connection.
    const gone = new AbortController();
    if (request.signal.aborted) gone.abort();
    else request.signal.addEventListener("abort", () => gone.abort(), { once: true });
    const response = await serve(new Request(url, { method: request.method, headers, body, signal: gone.signal }));
    return track(response, transport, streams, gone);
  });

  const link = linkTo(ws, webSocketUrl);
  const wsHandler = link.addEventListener("connection", ({ client, info }) => {
    const offered = info.protocols === undefined ? [] : typeof info.protocols === "string" ? [info.protocols] : info.protocols;
    if (refuseUpgrades || !offered.includes(TUNNEL_SUBPROTOCOL)) {
      client.close(ABNORMAL_CLOSURE);
      return;
    }
    const socket = new MockedTunnelSocket(client, () => deafToPings);
    sockets.add(socket);
    socket.closedPromise.then(
      () => sockets.delete(socket),
      () => undefined,
    );
    tunnel.handle(socket, { headers: new Headers({ host: new URL(webSocketUrl).host }) });
  });

  const add = (rule: Parameters<CallFaults["add"]>[0]): void => faults.add(rule);

  return {
    handlers: [httpHandler, wsHandler],
    fail(code, failOptions = {}) {
      add({
        kind: "fail",
        code,
        message: failOptions.message,
        details: failOptions.details,
        metadata: failOptions.metadata,
        transport: failOptions.transport,
        method: failOptions.method,
        remaining: timesOf(failOptions.times),
      });
    },
    delay(ms, scope = {}) {
      add({ kind: "delay", ms: nonNegative("delay", ms), ...scope, remaining: timesOf(scope.times ?? Infinity) });
    },
    cutStream(afterMessages, code, scope = {}) {
      add({ kind: "cut", afterMessages: nonNegative("cutStream", afterMessages), code, ...scope, remaining: timesOf(scope.times) });
    },
    slowStream(msPerMessage, scope = {}) {
      add({ kind: "slow", msPerMessage: nonNegative("slowStream", msPerMessage), ...scope, remaining: timesOf(scope.times ?? Infinity) });
    },
    refuseWebSocket() {
      refuseUpgrades = true;
    },
    ignorePings() {
      deafToPings = true;
    },
    dropConnections(scope = {}) {
      if (transportInScope(scope, "websocket")) for (const socket of [...sockets]) socket.terminate();
      for (const stream of [...streams]) if (transportInScope(scope, stream.transport)) stream.drop();
    },
    openConnections(transport) {
      let n = transport === undefined || transport === "websocket" ? sockets.size : 0;
      for (const s of streams) if (transport === undefined || s.transport === transport) n++;
      return n;
    },
    reset() {
      faults.reset();
      refuseUpgrades = false;
      deafToPings = false;
    },
    async close() {
      faults.reset();
      for (const stream of [...streams]) stream.drop();
      for (const socket of [...sockets]) socket.terminate();
      await tunnel.close();
    },
  };
}

function nonNegative(what: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what}: expected zero or more, got ${n}`);
  return n;
}

function tunnelUrlOf(base: URL): string {
  const url = new URL(base.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/ws`;
  return url.href;
}

// ---- streamed HTTP bodies the mocks can cut

interface TrackedBody {
  readonly transport: TransportKind;
  drop(): void;
}

/**
 * Re-streams a response body so the mocks can fail it mid-way; a cancel by
 * the client reaches the service, and so does an abort of the request.
 */
function track(response: Response, transport: TransportKind, streams: Set<TrackedBody>, gone: AbortController): Response {
  const source = response.body;
  if (source === null) return response;
  const signal = gone.signal;
  const reader = source.getReader();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const entry: TrackedBody = {
    transport,
    drop() {
      if (!streams.delete(entry)) return;
      controller?.error(new TypeError("connection dropped by weather-sdk/testing"));
      gone.abort();
      reader.cancel().catch(() => undefined);
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      streams.add(entry);
      if (signal.aborted) entry.drop();
      else signal.addEventListener("abort", () => entry.drop(), { once: true });
    },
    async pull(c) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (!streams.has(entry)) return;
      if (r.done) {
        streams.delete(entry);
        c.close();
        return;
      }
      c.enqueue(r.value);
    },
    cancel(reason) {
      streams.delete(entry);
      gone.abort();
      return reader.cancel(reason);
    },
  });
  // Chunked framing marks where the body ends, so a connection that closes mid-way is an error to the client, not an
  // end (msw's Node interceptor otherwise ends the body by closing the socket, and an aborted fetch then trips an
  // assertion in Node's fetch).
  const headers = new Headers(response.headers);
  if (!headers.has("content-length")) headers.set("transfer-encoding", "chunked");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

// ---- the tunnel over an msw client connection

/**
 * One `ws.link` per URL for every set of mocks in this JavaScript realm: each
 * link adds a listener to msw's one `BroadcastChannel` for good, so a test
 * file that makes fresh mocks per test passed Node's limit of 10 listeners
 * and printed a `MaxListenersExceededWarning`. A link's own state (its
 * clients) is not used here; each set of mocks adds its own handler.
 */
type MswWs = typeof Msw.ws;
const links = new WeakMap<MswWs, Map<string, ReturnType<MswWs["link"]>>>();

function linkTo(ws: MswWs, url: string): ReturnType<MswWs["link"]> {
  let byUrl = links.get(ws);
  if (byUrl === undefined) links.set(ws, (byUrl = new Map<string, ReturnType<MswWs["link"]>>()));
  let link = byUrl.get(url);
  if (link === undefined) byUrl.set(url, (link = ws.link(url)));
  return link;
}

/** What the mocks use of msw's `client` in a `ws.link` connection. */
interface MswClient {
  send(data: ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "close", listener: () => void): void;
}

const OPEN = 1;
const CLOSED = 3;

/** One mocked connection as the tunnel handler's {@link TunnelSocket}. */
class MockedTunnelSocket implements TunnelSocket {
  readyState = OPEN;
  readonly bufferedAmount = 0;
  onmessage: ((event: TunnelMessageEvent) => void) | null = null;
  onclose: (() => void) | null = null;
  readonly closedPromise: Promise<void>;
  private resolveClosed: () => void = () => undefined;

  constructor(
    private readonly client: MswClient,
    private readonly deafToPings: () => boolean,
  ) {
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    client.addEventListener("message", (event) => {
      if (this.readyState !== OPEN) return;
      const data = this.deafToPings() ? withoutPings(event.data) : event.data;
      if (data !== undefined) this.onmessage?.({ data });
    });
    client.addEventListener("close", () => this.closed());
  }

  send(data: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    // msw hands the value to the page as it is, whatever the socket's binaryType: send what "arraybuffer" gives.
    this.client.send(data.slice().buffer);
  }

  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.client.close(code, reason);
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.client.close(ABNORMAL_CLOSURE);
    this.closed();
  }

  private closed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.();
    this.resolveClosed();
  }
}

/** A client message with its ping frames taken out; undefined when nothing else is left. */
function withoutPings(data: unknown): unknown {
  const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
  if (bytes === undefined) return data;
  const kept: Frame[] = [];
  let pings = 0;
  try {
    decodeFrameBatch(bytes, {
      data: (streamId, buf, start, end) => kept.push({ kind: "data", streamId, chunks: [buf.slice(start, end)] }),
      control: (frame) => (frame.kind === "ping" ? pings++ : kept.push(frame)),
    });
  } catch {
    return data; // not a frame batch: the tunnel handler reports it
  }
  if (pings === 0) return data;
  return kept.length === 0 ? undefined : encodeFrameBatch(kept);
}
