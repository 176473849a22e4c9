import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Clock } from "../../clock.js";
import { parseCursor, RESUME_AFTER_HEADER, RESUME_STATUS_HEADER, type ResumeStatus } from "../../codec/resume.js";
import { type GetWeatherRequest, type WeatherResponse, WeatherResponseSchema, type WeatherService } from "../../gen/weather_pb.js";
import { CITIES, type City } from "../../simulation/cities.js";
import { readingAt, tickAt } from "../../simulation/weather-model.js";
import { createAsyncQueue } from "./async-queue.js";
import { createTicker } from "./ticker.js";

/** What the service implementation needs from the server around it. */
export interface WeatherServiceConfig {
  /** A reading per city every `tickMs`, aligned to the clock. */
  readonly tickMs: number;
  /** How far back a resume request is replayed. */
  readonly historyWindowMs: number;
  /** Most readings one `ReportBatch` call may send. */
  readonly maxReportBatch: number;
  readonly clock: Clock;
  /** Aborted when the server shuts down: open streams end with `Unavailable`. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * The one implementation of `weather.WeatherService` that every transport
 * (Connect, gRPC, gRPC-Web, the WebSocket tunnel, SSE) dispatches into.
 */
export function createWeatherServiceImpl(config: WeatherServiceConfig): ServiceImpl<typeof WeatherService> {
  const { tickMs, clock } = config;
  // Timestamps are whole milliseconds (int64) and cursors are divided by tickMs
  // as bigints: a fractional tick would fail on every other reading.
  if (!Number.isSafeInteger(tickMs) || tickMs <= 0) {
    throw new RangeError(`tickMs must be a positive whole number of milliseconds, got ${tickMs}`);
  }
  const historyTicks = Math.floor(config.historyWindowMs / tickMs);
  const reading = createReadingCache(tickMs);
  // One timer wakes every stream at each tick (see Ticker).
  const ticker = createTicker(clock, tickMs);

  function callSignal(ctx: HandlerContext): AbortSignal {
    return AbortSignal.any([ctx.signal, config.shutdownSignal]);
  }

  return {
    getWeather(req) {
      const city = requireCity(req.cityCode);
      return reading(city, tickAt(clock.now(), tickMs), req.extended);
    },

    async *subscribeWeather(req, ctx) {
      const city = requireCity(req.cityCode);
      const signal = callSignal(ctx);
      const nowTick = tickAt(clock.now(), tickMs);
      let next = nowTick;
      const resumeAfter = ctx.requestHeader.get(RESUME_AFTER_HEADER);
      if (resumeAfter !== null) {
        const cursor = parseCursor(resumeAfter);
        if (cursor === undefined) {
          throw new ConnectError(
            `${RESUME_AFTER_HEADER} must be a reading timestamp in Unix epoch milliseconds, got "${resumeAfter}"`,
            Code.InvalidArgument,
          );
        }
        const firstAfter = Number(cursor / BigInt(tickMs)) + 1;
        if (firstAfter > nowTick + historyTicks) {
          throw new ConnectError(
            `${RESUME_AFTER_HEADER} ${resumeAfter} lies in the future; send the timestamp of the last reading received`,
            Code.InvalidArgument,
          );
        }
        const oldest = nowTick - historyTicks;
        const status: ResumeStatus = firstAfter < oldest ? "gap" : "recovered";
        next = Math.max(firstAfter, oldest);
        ctx.responseHeader.set(RESUME_STATUS_HEADER, status);
      }
      const wait = ticker.waiter(signal);
      try {
        for (;;) {
          await wait.until(next);
          const current = tickAt(clock.now(), tickMs);
          for (; next <= current; next++) {
            yield reading(city, next, req.extended);
          }
        }
      } catch (e) {
        throw endReason(e, config.shutdownSignal);
      } finally {
        wait.dispose();
      }
    },

    async reportBatch(readings) {
      let count = 0;
      let sumTemperature = 0;
      let sumHumidity = 0;
      let latest = 0n;
      for await (const r of readings) {
        count++;
        if (count > config.maxReportBatch) {
          throw new ConnectError(
            `a batch may hold at most ${config.maxReportBatch} readings; split it into several ReportBatch calls`,
            Code.ResourceExhausted,
          );
        }
        if (!Number.isFinite(r.temperature) || !Number.isFinite(r.humidity)) {
          throw new ConnectError(`reading ${count} has a temperature or humidity that is not a finite number`, Code.InvalidArgument);
        }
        sumTemperature += r.temperature;
        sumHumidity += r.humidity;
        if (r.timestamp > latest) latest = r.timestamp;
      }
      if (count === 0) {
        throw new ConnectError("ReportBatch needs at least one reading", Code.InvalidArgument);
      }
      return create(WeatherResponseSchema, {
        temperature: sumTemperature / count,
        humidity: sumHumidity / count,
        description: `${count} reading${count === 1 ? "" : "s"}`,
        timestamp: latest,
      });
    },

    weatherChat(requests, ctx) {
      return chat(requests, callSignal(ctx));
    },
  };

  /**
   * Answers each request with its city's current reading, and on every tick
   * sends the reading of each city asked so far. Ends cleanly when the client
   * half-closes, after whatever was already queued.
   */
  function chat(requests: AsyncIterable<GetWeatherRequest>, callSignal: AbortSignal): AsyncIterable<WeatherResponse> {
    const stop = new AbortController();
    const signal = AbortSignal.any([callSignal, stop.signal]);
    const out = createAsyncQueue<WeatherResponse>(() => stop.abort());
    // The last tick sent per city asked so far, in the order they were asked.
    // A request answered after a tick began but before its timer ran already
    // carried that tick's reading; the timer must not send it again.
    const lastTick = new Map<City, number>();
    void (async () => {
      for await (const req of requests) {
        const city = requireCity(req.cityCode);
        const tick = tickAt(clock.now(), tickMs);
        lastTick.set(city, Math.max(tick, lastTick.get(city) ?? tick));
        out.push(reading(city, tick, req.extended));
      }
      out.close();
    })().catch((e: unknown) => out.fail(endReason(e, config.shutdownSignal)));
    const wait = ticker.waiter(signal);
    void (async () => {
      for (let next = tickAt(clock.now(), tickMs) + 1; ; next++) {
        await wait.until(next);
        for (const [city, last] of lastTick) {
          if (last >= next) continue;
          lastTick.set(city, next);
          out.push(reading(city, next, false));
        }
      }
    })()
      .catch((e: unknown) => out.fail(endReason(e, config.shutdownSignal)))
      .finally(() => wait.dispose());
    return out;
  }
}

/**
 * Readings as frozen messages, the newest of each city and style shared by
 * every call that sends it: thousands of subscribers of a city get one
 * object per tick, which the tunnel also encodes once (frozen messages
 * cannot change, so their bytes can be reused). Older ticks (replays) are
 * made afresh for each call, as plain messages.
 */
function createReadingCache(tickMs: number): (city: City, tick: number, extended: boolean) => WeatherResponse {
  const newest = new Map<City, { tick: number; plain?: WeatherResponse; extended?: WeatherResponse }>();
  return (city, tick, extended) => {
    let entry = newest.get(city);
    if (entry === undefined || entry.tick < tick) {
      entry = { tick };
      newest.set(city, entry);
    } else if (entry.tick > tick) {
      // A replay: sent once per call, so neither shared nor frozen (which would only make the tunnel cache its bytes).
      return readingAt(city, tick, tickMs, extended);
    }
    const key = extended ? "extended" : "plain";
    return (entry[key] ??= Object.freeze(readingAt(city, tick, tickMs, extended)));
  };
}

function requireCity(code: string): City {
  if (code === "") {
    throw new ConnectError('city_code is required, e.g. "NYC"', Code.InvalidArgument);
  }
  const city = CITIES.get(code);
  if (city === undefined) {
    throw new ConnectError(`unknown city_code "${code}"; known codes: ${[...CITIES.keys()].join(", ")}`, Code.InvalidArgument);
  }
  return city;
}

/** Streams cut by a server shutdown end with `Unavailable` so clients resume elsewhere. */
function endReason(e: unknown, shutdownSignal: AbortSignal): unknown {
  if (shutdownSignal.aborted) {
    return new ConnectError("server is shutting down; reconnect to resume", Code.Unavailable);
  }
  return e;
}
