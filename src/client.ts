import { create, type DescMessage, type DescMethodServerStreaming, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { type Clock, systemClock } from "./clock.js";
import { resolveReconnectPolicy } from "./subscription/backoff.js";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "./codec/resume.js";
import {
  checkUrlOptions,
  DEFAULT_TRANSPORTS,
  type SubscribeOptions,
  type WeatherCallOptions,
  type WeatherClientOptions,
  webSocketUrlOf,
} from "./client-options.js";
import {
  type GetWeatherRequest,
  type GetWeatherRequestSchema,
  type WeatherResponse,
  WeatherResponseSchema,
  WeatherService,
} from "./gen/weather_pb.js";
import { browserLifecycle } from "./subscription/page-lifecycle.js";
import { createTransportSource, type StreamSource } from "./subscription/source.js";
import type { TransportKind } from "./subscription/state.js";
import { createSubscription, type Subscription } from "./subscription/subscription.js";
import { type CallKind, createTransportChooser } from "./subscription/transport-chooser.js";
import { createTunnelSource } from "./subscription/tunnel-source.js";
import { isTransportOpenFailure, TransportOpenError } from "./transport/open-error.js";
import { createLazyTransport } from "./transport/lazy-transport.js";
import { type AuthSource, authInterceptor, createAuthSource } from "./transport/auth.js";
import {
  createTransportOnTunnel,
  createTunnelClient,
  globalWebSocket,
  type ResolvedOptions,
  resolveOptions,
  type TunnelClient,
  unaryOnTunnel,
} from "./transport/websocket/index.js";

/** The typed client for `weather.WeatherService`, over whichever transport the network allows. */
export interface WeatherClient {
  /** The current reading of one city. */
  getWeather(request: MessageInitShape<typeof GetWeatherRequestSchema>, options?: WeatherCallOptions): Promise<WeatherResponse>;
  /** A live, resumable subscription to one city's readings: no duplicates, no silent gaps. */
  subscribeWeather(request: MessageInitShape<typeof GetWeatherRequestSchema>, options?: SubscribeOptions): Subscription<WeatherResponse>;
  /** Sends readings (an array or an async iterable) and returns the server's summary. Needs the WebSocket transport. */
  reportBatch(
    readings: Iterable<MessageInitShape<typeof WeatherResponseSchema>> | AsyncIterable<MessageInitShape<typeof WeatherResponseSchema>>,
    options?: WeatherCallOptions,
  ): Promise<WeatherResponse>;
  /** Bidi: readings for every city asked so far. Needs the WebSocket transport; throws at once without it. */
  weatherChat(
    requests: AsyncIterable<MessageInitShape<typeof GetWeatherRequestSchema>>,
    options?: WeatherCallOptions,
  ): AsyncIterable<WeatherResponse>;
  /**
   * A resumable subscription to any server-streaming method the server hosts.
   * `cursor` must strictly increase along the stream; the server must honour
   * the resume header (`weather-resume-after` unless `resumeAfterHeader` says otherwise).
   */
  subscribe<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options: SubscribeOptions & { cursor: (message: MessageShape<O>) => bigint; resumeAfterHeader?: string; resumeStatusHeader?: string },
  ): Subscription<MessageShape<O>>;
  /** The transport that last worked (the one new calls try first), once any has. */
  readonly transport: TransportKind | undefined;
  /**
   * Closes every subscription of this client (state `closed`, reason
   * `"closed"`) and the WebSocket; calls still in flight on it fail with
   * `Canceled`. The client stays usable: a later call opens a new connection.
   */
  close(): void;
}

/**
 * Creates the weather client. See {@link WeatherClientOptions}; only
 * `baseUrl` is required.
 */
export function createWeatherClient(options: WeatherClientOptions): WeatherClient {
  checkUrlOptions(options);
  const order = options.transports ?? DEFAULT_TRANSPORTS;
  if (order.length === 0) throw new TypeError("createWeatherClient: `transports` must list at least one transport");
  const clock = options.clock ?? systemClock;
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const policy = resolveReconnectPolicy(options.reconnect);
  const lifecycle = options.lifecycle ?? browserLifecycle();
  const headerProvider = options.headers;
  const interceptors: Interceptor[] = [
    ...(headerProvider === undefined ? [] : [headersInterceptor(headerProvider)]),
    ...(options.interceptors ?? []),
  ];
  const auth = options.auth === undefined ? undefined : createAuthSource(options.auth);
  // Credentials travel in each fetch request; on the tunnel, once per connection in hello.
  const fetchInterceptors = auth === undefined ? interceptors : [authInterceptor(auth), ...interceptors];
  const chooser = createTransportChooser(order);
  const highWaterMark = options.highWaterMark ?? 1024;
  if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
    throw new RangeError(`createWeatherClient: highWaterMark must be a whole number of messages ≥ 1, got ${highWaterMark}`);
  }
  const live = new Set<Subscription<unknown>>();
  // Without client interceptors, WebSocket calls skip connect's call pipeline (`headers` still apply).
  const fastPath = (options.interceptors ?? []).length === 0;

  // Only what `transports` lists is built: a client without "websocket" needs no WebSocket constructor.
  const tunnelSetup = order.includes("websocket") ? createTunnelSetup(options, interceptors, clock, auth) : undefined;
  const transports = new Map<TransportKind, Transport>();
  const transportFor = (t: TransportKind): Transport => {
    let transport = transports.get(t);
    if (transport === undefined) {
      transport = createTransport(t, options, fetchInterceptors, fetchFn, tunnelSetup);
      transports.set(t, transport);
    }
    return transport;
  };
  const clients = new Map<TransportKind, Client<typeof WeatherService>>();
  const clientFor = (t: TransportKind) => {
    let c = clients.get(t);
    if (c === undefined) clients.set(t, (c = createClient(WeatherService, transportFor(t))));
    return c;
  };

  /**
   * Runs a call on the chosen transport, moving on to the next when one never
   * opened. A promise chain rather than an async loop: on the hot path of
   * every unary call, each async layer costs its own promise and turns.
   */
  function withFallback<T>(
    kind: CallKind,
    run: (transport: TransportKind) => Promise<T>,
    failures?: Array<readonly [TransportKind, ConnectError]>,
  ): Promise<T> {
    let transport: TransportKind;
    let attempt: Promise<T>;
    try {
      transport = chooser.pick(kind);
      attempt = run(transport);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : ConnectError.from(e));
    }
    return attempt.then(
      (result) => {
        chooser.opened(transport);
        return result;
      },
      (e: unknown) => {
        if (!isTransportOpenFailure(e)) {
          // The server answered: the transport works, whatever the call's outcome.
          if (e instanceof ConnectError && e.code !== Code.Canceled) chooser.opened(transport);
          throw e;
        }
        // Allocated only once a transport failed to open: the common call never needs it.
        const tried = failures ?? [];
        tried.push([transport, e as ConnectError]);
        if (!chooser.failedToOpen(transport, kind)) throw fellThrough(tried);
        return withFallback(kind, run, tried);
      },
    );
  }

  function subscribe<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    subscribeOptions: SubscribeOptions & {
      cursor: (message: MessageShape<O>) => bigint;
      resumeAfterHeader?: string;
      resumeStatusHeader?: string;
    },
  ): Subscription<MessageShape<O>> {
    const sources = new Map<TransportKind, StreamSource<I, O>>();
    const subscription = createSubscription<I, O>({
      source: (t) => {
        let source = sources.get(t);
        if (source === undefined) {
          source =
            t === "websocket" && fastPath && tunnelSetup !== undefined
              ? createTunnelSource(tunnelSetup.tunnel, method, tunnelSetup.options.receiveWindowBytes)
              : createTransportSource(t, transportFor(t), method);
          sources.set(t, source);
        }
        return source;
      },
      chooser,
      request,
      // Connect transports add provider headers through their interceptor; the fast path adds them here.
      headers: headerProvider !== undefined && fastPath ? headerProvider : () => ({}),
      cursor: subscribeOptions.cursor,
      resumeAfterHeader: subscribeOptions.resumeAfterHeader ?? RESUME_AFTER_HEADER,
      resumeStatusHeader: subscribeOptions.resumeStatusHeader ?? RESUME_STATUS_HEADER,
      policy: subscribeOptions.reconnect === undefined ? policy : resolveReconnectPolicy({ ...policy, ...subscribeOptions.reconnect }),
      clock,
      random: options.random ?? Math.random,
      lifecycle,
      signal: subscribeOptions.signal,
      highWaterMark,
      ...(auth && { credentials: auth }),
      ...(subscribeOptions.after === undefined ? {} : { after: subscribeOptions.after }),
    });
    if (subscription.state.kind !== "closed") {
      live.add(subscription);
      subscription.onState((state) => state.kind === "closed" && live.delete(subscription));
    }
    return subscription;
  }

  return {
    get transport() {
      return chooser.preferred;
    },
    close() {
      for (const subscription of [...live]) subscription.close();
      tunnelSetup?.tunnel.close();
    },
    getWeather: (request, callOptions) =>
      withFallback("unary", (transport) => {
        // The fast path, as for subscriptions: with no interceptor, straight on the tunnel core.
        if (transport !== "websocket" || !fastPath || tunnelSetup === undefined)
          return clientFor(transport).getWeather(request, callOptions);
        const { tunnel, options: tunnelOptions } = tunnelSetup;
        const method = WeatherService.method.getWeather;
        if (headerProvider === undefined) return unaryOnTunnel(tunnel, tunnelOptions, method, request, callOptions ?? {});
        const headers = new Headers(callOptions?.headers);
        return setProvidedHeaders(headers, headerProvider).then(() =>
          unaryOnTunnel(tunnel, tunnelOptions, method, request, { ...callOptions, headers }),
        );
      }),
    subscribeWeather: (request, subscribeOptions) =>
      subscribe(WeatherService.method.subscribeWeather, request, { ...subscribeOptions, cursor: (m: WeatherResponse) => m.timestamp }),
    reportBatch: (readings, callOptions) =>
      withFallback("client_streaming", (transport) =>
        clientFor(transport).reportBatch(
          Symbol.asyncIterator in readings ? readings : createAsyncIterable([...readings].map((r) => create(WeatherResponseSchema, r))),
          callOptions,
        ),
      ),
    weatherChat(requests, callOptions) {
      return clientFor(chooser.pick("bidi_streaming")).weatherChat(requests, callOptions);
    },
    subscribe,
  };
}

/**
 * The error of a call that no transport could open: one transport's own error
 * as it is; for several, one `Unavailable` error (still a transport-open
 * failure) whose message names each transport tried, in order, and why it failed.
 */
function fellThrough(failures: ReadonlyArray<readonly [TransportKind, ConnectError]>): ConnectError {
  const only = failures.length === 1 ? failures[0] : undefined;
  if (only !== undefined) return only[1];
  const message = `no transport could open (tried ${failures.map(([t]) => t).join(", ")}): ${failures
    .map(([t, e]) => `${t}: ${e.rawMessage}`)
    .join("; ")}`;
  return new ConnectError(message, Code.Unavailable, undefined, undefined, new TransportOpenError(message));
}

/** The one WebSocket connection a client shares between its calls, and its validated options. */
interface TunnelSetup {
  readonly options: ResolvedOptions;
  readonly tunnel: TunnelClient;
}

function createTunnelSetup(
  options: WeatherClientOptions,
  interceptors: Interceptor[],
  clock: Clock,
  auth: AuthSource | undefined,
): TunnelSetup {
  if (options.webSocket === undefined && globalWebSocket() === undefined) {
    throw new TypeError(
      'createWeatherClient: this runtime has no global WebSocket; pass the `webSocket` option (e.g. the `ws` package) or leave "websocket" out of `transports`',
    );
  }
  const resolved = resolveOptions({
    ...options.webSocketOptions,
    ...(auth && { connectionHeaders: helloWithAuth(options.webSocketOptions?.connectionHeaders, auth) }),
    url: webSocketUrlOf(options),
    ...(options.webSocket === undefined ? {} : { webSocket: options.webSocket }),
    interceptors,
    clock,
  });
  return { options: resolved, tunnel: createTunnelClient(resolved) };
}

function createTransport(
  kind: TransportKind,
  options: WeatherClientOptions,
  interceptors: Interceptor[],
  fetchFn: typeof fetch,
  tunnelSetup: TunnelSetup | undefined,
): Transport {
  if (kind === "websocket") {
    if (tunnelSetup === undefined) throw new Error("unreachable: the WebSocket transport is built only when listed");
    return createTransportOnTunnel(tunnelSetup.tunnel, tunnelSetup.options);
  }
  // The fallbacks load on first use (a chunk of their own in a bundled app).
  return createLazyTransport(kind, async () => {
    const { createFetchTransport } = await import("./transport/fetch-transports.js");
    return createFetchTransport(kind, {
      baseUrl: options.baseUrl,
      sseBaseUrl: options.sseBaseUrl ?? options.baseUrl,
      interceptors,
      fetch: fetchFn,
    });
  });
}

/** The tunnel's hello headers: `connectionHeaders`, then the credentials (asked for each new connection). */
function helloWithAuth(
  connectionHeaders: HeadersInit | (() => HeadersInit | Promise<HeadersInit>) | undefined,
  auth: AuthSource,
): () => Promise<Headers> {
  return async () => {
    const headers = new Headers(typeof connectionHeaders === "function" ? await connectionHeaders() : connectionHeaders);
    for (const [name, value] of await auth.headers()) headers.set(name, value);
    return headers;
  };
}

function headersInterceptor(provider: () => HeadersInit | Promise<HeadersInit>): Interceptor {
  return (next) => async (req) => {
    await setProvidedHeaders(req.header, provider);
    return next(req);
  };
}

/** Sets the provider's headers on `header`, over any of the call's own with the same name. */
async function setProvidedHeaders(header: Headers, provider: () => HeadersInit | Promise<HeadersInit>): Promise<void> {
  new Headers(await provider()).forEach((value, name) => header.set(name, value));
}

export type { GetWeatherRequest, WeatherResponse };
