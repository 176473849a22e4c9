import { create } from "@bufbuild/protobuf";
import { createConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { type Clock, systemClock } from "../clock.js";
import { type WeatherResponse, WeatherResponseSchema, WeatherService } from "../gen/weather_pb.js";
import { createSimulatedSource, createWeatherServiceImpl, directService, type WeatherSource, weatherSseResume } from "../server/core.js";
import { CallFaults } from "./faults.js";
import { isMockClock } from "./mock-clock.js";
import { mocksOnRouter, type ServiceMocks, type ServiceMocksOptions } from "./service-mocks.js";

/** Options of {@link createWeatherMocks}. Only `baseUrl` is required. */
export interface WeatherMocksOptions extends Omit<ServiceMocksOptions, "resume"> {
  /**
   * Time of the weather and of every timer of the mocks. Pass one from
   * `createMockClock()` (and the same to `createWeatherClient({ clock })`) to
   * deliver readings with `tick()` and run backoff with no real waiting.
   * Default the system clock: a reading per city every `tickMs` of real time.
   */
  readonly clock?: Clock;
  /** A reading per city every `tickMs`. Default 1000. */
  readonly tickMs?: number;
  /** How far back a resume is replayed. Default 600000 (10 minutes). */
  readonly historyWindowMs?: number;
  /** Where readings come from. Default the deterministic weather model (`readingAt`) on `clock`. */
  readonly source?: WeatherSource;
  /**
   * Methods to replace: anything given here serves instead of the model's
   * implementation, on every transport (e.g. `getWeather` that returns a fixed reading).
   */
  readonly impl?: Partial<ServiceImpl<typeof WeatherService>>;
}

/** The mocked weather server: msw handlers, faults, and the weather's time. */
export interface WeatherMocks extends ServiceMocks {
  /** The clock the mocks run on. */
  readonly clock: Clock;
  /** Where the readings come from. */
  readonly source: WeatherSource;
  /** Milliseconds between two readings of a city. */
  readonly tickMs: number;
  /**
   * Moves the mock clock on by `count` ticks (default 1): every subscribed city
   * gets its next reading(s), and the client's timers due by then run.
   * @throws Error when the mocks do not run on a `createMockClock()` clock.
   */
  tick(count?: number): void;
  /**
   * Delivers `reading` for `cityCode` now to every subscriber, on every
   * transport, and keeps it in the history that resumes replay. Its
   * `timestamp` defaults to the clock's now and must be after the city's
   * newest reading (rejects with `FailedPrecondition` otherwise).
   */
  push(cityCode: string, reading?: Partial<Omit<WeatherResponse, "$typeName">>): Promise<WeatherResponse>;
}

/**
 * Mocks the weather server at `baseUrl` for msw, on every transport the SDK
 * speaks (WebSocket tunnel, Connect, gRPC-Web, SSE), with the reference
 * server's own handlers and, by default, its deterministic weather.
 *
 * @example
 * const clock = createMockClock();
 * const mocks = createWeatherMocks({ baseUrl: "https://weather.test", clock });
 * const worker = setupWorker(...mocks.handlers);
 * await worker.start({ quiet: true });
 * const weather = createWeatherClient({ baseUrl: "https://weather.test", clock });
 */
export function createWeatherMocks(options: WeatherMocksOptions): WeatherMocks {
  const clock = options.clock ?? systemClock;
  const tickMs = options.tickMs ?? 1000;
  const historyWindowMs = options.historyWindowMs ?? 600_000;
  const source = options.source ?? createSimulatedSource({ tickMs, historyWindowMs, clock });
  const faults = new CallFaults(clock);
  const impl = {
    ...createWeatherServiceImpl({ source, historyWindowMs, maxReportBatch: 10_000, clock, shutdownSignal: new AbortController().signal }),
    ...options.impl,
  };
  const routerOptions = { interceptors: [faults.interceptor, ...(options.interceptors ?? [])] };
  const router = createConnectRouter(routerOptions);
  router.service(WeatherService, impl);
  const mocks = mocksOnRouter(router.handlers, directService(WeatherService, impl, routerOptions), faults, {
    ...options,
    clock,
    resume: [weatherSseResume],
  });
  return {
    ...mocks,
    clock,
    source,
    tickMs,
    tick(count = 1) {
      if (!isMockClock(clock)) throw new Error("tick() needs mocks made with a clock from createMockClock()");
      clock.advance(tickMs * count);
    },
    async push(cityCode, reading = {}) {
      const message = create(WeatherResponseSchema, { ...reading, timestamp: reading.timestamp ?? BigInt(clock.now()) });
      await source.append(cityCode, [message]);
      return message;
    },
    async close() {
      await mocks.close();
      await source.close();
    },
  };
}
