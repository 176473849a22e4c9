import { createConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { Compression, UniversalHandler } from "@connectrpc/connect/protocol";
import { type Clock, systemClock } from "../../clock.js";
import { WeatherService } from "../../gen/weather_pb.js";
import { type DirectService, directService } from "../call/direct-call.js";
import { requirePositive } from "../call/runtime.js";
import { createSimulatedSource } from "./simulated-source.js";
import { createWeatherPushImpl, createWeatherServiceImpl, type WeatherServiceConfig } from "./weather-service.js";
import type { WeatherSource } from "./weather-source.js";

/** Options of {@link createWeatherRouter}; every one has a default. */
export interface WeatherRouterOptions {
  /** A reading per city every `tickMs`, aligned to the wall clock. Default 1000. */
  readonly tickMs?: number;
  /** How far back a resume request is replayed. Default 600000 (10 minutes). */
  readonly historyWindowMs?: number;
  /** Most readings one `ReportBatch` call may carry (more is `ResourceExhausted`). Default 10000. */
  readonly maxReportBatch?: number;
  /** Server interceptors, applied identically on every transport. */
  readonly interceptors?: Interceptor[];
  /** Request compressions accepted over HTTP (Node's server passes gzip and brotli). Default none. */
  readonly acceptCompression?: Compression[];
  /**
   * Largest request message accepted over HTTP, after decompression (connect's
   * `readMaxBytes`; more is `ResourceExhausted`). Default 4194304 (4 MiB).
   */
  readonly readMaxBytes?: number;
  /**
   * Where readings come from. Default: the deterministic simulation in this
   * process (`tickMs`, `historyWindowMs`, `clock`). A shared source (such as
   * Redis Streams) lets several instances serve one history.
   */
  readonly source?: WeatherSource;
  /** Time source for ticks; inject a fake one in tests. Default the system clock. */
  readonly clock?: Clock;
  /** When it aborts, open streams end with `Unavailable` (the server is shutting down). */
  readonly shutdownSignal?: AbortSignal;
}

/** One `weather.WeatherService` implementation, as every transport calls it. */
export interface WeatherRouter {
  /** connect's universal handlers (`router.handlers`): HTTP, SSE and the tunnel dispatch into these. */
  readonly handlers: readonly UniversalHandler[];
  /** The same implementation for the tunnel to call directly (`TunnelHandlerOptions.direct`). */
  readonly direct: DirectService;
  /** Where the implementation reads: its health and `close()` belong to whoever runs the router. */
  readonly source: WeatherSource;
}

/**
 * Builds the reference implementation of `weather.WeatherService` and its
 * router, in any runtime (no Node API): what the Node server serves and what
 * an in-page mock serves.
 *
 * @throws RangeError for a `tickMs`, `historyWindowMs` or `maxReportBatch` that is not a positive number.
 */
export function createWeatherRouter(options: WeatherRouterOptions = {}): WeatherRouter {
  const tickMs = requirePositive("tickMs", options.tickMs ?? 1000);
  const historyWindowMs = requirePositive("historyWindowMs", options.historyWindowMs ?? 600_000);
  const maxReportBatch = requirePositive("maxReportBatch", options.maxReportBatch ?? 10_000);
  const routerOptions = {
    interceptors: options.interceptors,
    acceptCompression: options.acceptCompression ?? [],
    readMaxBytes: requirePositive("readMaxBytes", options.readMaxBytes ?? 4 * 1024 * 1024),
  };
  const clock = options.clock ?? systemClock;
  const source = options.source ?? createSimulatedSource({ tickMs, historyWindowMs, clock });
  const config: WeatherServiceConfig = {
    source,
    historyWindowMs,
    maxReportBatch,
    clock,
    shutdownSignal: options.shutdownSignal ?? new AbortController().signal,
  };
  const impl = createWeatherServiceImpl(config);
  const router = createConnectRouter(routerOptions);
  router.service(WeatherService, impl);
  // The same implementation and router options: the tunnel and SSE call it without connect's HTTP layers,
  // and SubscribeWeather in push form (a follower slot per subscriber) when no interceptor applies.
  const direct = directService(WeatherService, impl, routerOptions, createWeatherPushImpl(config));
  return { handlers: router.handlers, direct, source };
}
