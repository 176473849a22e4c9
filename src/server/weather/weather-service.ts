import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Clock } from "../../clock.js";
import { parseCursor, RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { type GetWeatherRequest, type WeatherResponse, WeatherResponseSchema, type WeatherService } from "../../gen/weather_pb.js";
import type { PushImpl } from "../call/direct-call.js";
import { createAsyncQueue } from "./async-queue.js";
import { type PushContext, PushSubscription, REPLAY_PAGE_READINGS } from "./push-subscription.js";
import { ReadingFeed } from "./reading-feed.js";
import type { SourceReading, WeatherSource } from "./weather-source.js";

/**
 * Answers a `WeatherChat` call may have waiting for the client to read them; past it the call stops reading
 * requests and taking readings from its feed (which holds `maxQueuedReadings`, then catches up from history).
 */
const CHAT_QUEUE_CAPACITY = 64;

/**
 * Request header of `ReportBatch`: the city whose stream the reported readings
 * are appended to. Without it the call only summarises the batch.
 */
export const REPORT_CITY_HEADER = "weather-report-city";

/** What the service implementation needs from the server around it. */
export interface WeatherServiceConfig {
  /** Where readings come from: the simulation (default) or a shared store. */
  readonly source: WeatherSource;
  /** How far back a resume request may reach; a cursor further ahead than this is refused. */
  readonly historyWindowMs: number;
  /** Most readings one `ReportBatch` call may send. */
  readonly maxReportBatch: number;
  /**
   * Most live readings held for one call that is not reading them (a slow
   * client): beyond it the call catches up from the source's history instead.
   */
  readonly maxQueuedReadings?: number;
  readonly clock: Clock;
  /** Aborted when the server shuts down: open streams end with `Unavailable`. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * The one implementation of `weather.WeatherService` that every transport
 * (Connect, gRPC, gRPC-Web, the WebSocket tunnel, SSE) dispatches into, on
 * any {@link WeatherSource}.
 */
export function createWeatherServiceImpl(config: WeatherServiceConfig): ServiceImpl<typeof WeatherService> {
  const { source, clock } = config;
  const maxQueued = config.maxQueuedReadings ?? 4096;

  return {
    getWeather(req) {
      requireCityCode(req.cityCode);
      const newest = source.newest(req.cityCode);
      if (newest instanceof Promise) return newest.then((r) => pick(r, req.extended));
      return pick(newest, req.extended);
    },

    async *subscribeWeather(req, ctx) {
      requireCityCode(req.cityCode);
      const cursor = resumeCursor(ctx, clock, config.historyWindowMs);
      const feed = new ReadingFeed(maxQueued, ctx.signal, config.shutdownSignal);
      try {
        // Follow first, then read what came before: nothing falls between the two, and the feed drops what both carry.
        feed.follow(source, req.cityCode);
        if (cursor === undefined) {
          const newest = await source.newest(req.cityCode);
          if (feed.deliverable(newest)) yield pick(newest, req.extended);
        } else {
          feed.after(req.cityCode, cursor);
          const onGap = (gap: boolean) => ctx.responseHeader.set(RESUME_STATUS_HEADER, gap ? "gap" : "recovered");
          for await (const r of history(feed, req.cityCode, onGap)) yield pick(r, req.extended);
        }
        for (;;) {
          const next = feed.take();
          if (next === undefined) {
            await feed.wait();
          } else if (next === ReadingFeed.FELL_BEHIND) {
            for await (const r of catchUp(feed, req.cityCode)) yield pick(r, req.extended);
          } else {
            yield pick(next, req.extended);
          }
        }
      } catch (e) {
        throw endReason(e, config.shutdownSignal);
      } finally {
        feed.stop();
      }
    },

    async reportBatch(readings, ctx) {
      const cityCode = ctx.requestHeader.get(REPORT_CITY_HEADER);
      if (cityCode !== null) requireCityCode(cityCode);
      const batch: WeatherResponse[] = [];
      let sumTemperature = 0;
      let sumHumidity = 0;
      let latest = 0n;
      for await (const r of readings) {
        if (batch.length === config.maxReportBatch) {
          throw new ConnectError(
            `a batch may hold at most ${config.maxReportBatch} readings; split it into several ReportBatch calls`,
            Code.ResourceExhausted,
          );
        }
        if (!Number.isFinite(r.temperature) || !Number.isFinite(r.humidity)) {
          throw new ConnectError(
            `reading ${batch.length + 1} has a temperature or humidity that is not a finite number`,
            Code.InvalidArgument,
          );
        }
        batch.push(r);
        sumTemperature += r.temperature;
        sumHumidity += r.humidity;
        if (r.timestamp > latest) latest = r.timestamp;
      }
      const count = batch.length;
      if (count === 0) {
        throw new ConnectError("ReportBatch needs at least one reading", Code.InvalidArgument);
      }
      if (cityCode !== null) await source.append(cityCode, batch);
      return create(WeatherResponseSchema, {
        temperature: sumTemperature / count,
        humidity: sumHumidity / count,
        description: `${count} reading${count === 1 ? "" : "s"}`,
        timestamp: latest,
      });
    },

    weatherChat(requests, ctx) {
      return chat(requests, ctx.signal);
    },
  };

  /**
   * Readings of `cityCode` after the feed's cursor from the source's history,
   * a page ({@link REPLAY_PAGE_READINGS}) at a time as the caller takes them,
   * so a long replay never sits in memory whole. `onFirstPage` learns whether
   * the history window still held every reading after the cursor.
   */
  async function* history(feed: ReadingFeed, cityCode: string, onFirstPage: (gap: boolean) => void): AsyncGenerator<SourceReading> {
    let first = true;
    for (let cursor = feed.cursorOf(cityCode); ;) {
      const page = await source.replay(cityCode, cursor, REPLAY_PAGE_READINGS);
      if (first) onFirstPage(page.gap);
      first = false;
      for (const r of page.readings) if (feed.deliverable(r)) yield r;
      const last = page.readings.at(-1);
      if (last === undefined || page.readings.length < REPLAY_PAGE_READINGS) return;
      // The next page starts after this one, or after what the feed handed out meanwhile if that is later.
      const handedOut = feed.cursorOf(cityCode);
      cursor = handedOut > last.timestamp ? handedOut : last.timestamp;
    }
  }

  /** {@link history} for a call that fell behind: past the history window it ends with `ResourceExhausted`. */
  function catchUp(feed: ReadingFeed, cityCode: string): AsyncGenerator<SourceReading> {
    return history(feed, cityCode, (gap) => {
      if (gap) {
        throw new ConnectError(
          `the stream of ${cityCode} fell behind its history window while the client was not reading; resume to continue`,
          Code.ResourceExhausted,
        );
      }
    });
  }

  /**
   * Answers each request with its city's newest reading, and streams every
   * later reading of each city asked so far. Ends cleanly when the client
   * half-closes, after whatever was already queued.
   */
  function chat(requests: AsyncIterable<GetWeatherRequest>, callSignal: AbortSignal): AsyncIterable<WeatherResponse> {
    const stop = new AbortController();
    // Bounded: a client that sends requests but does not read its answers stops being read from (flow control
    // holds it back) and its feed falls behind (caught up from history, or ResourceExhausted past it).
    const out = createAsyncQueue<WeatherResponse>({ capacity: CHAT_QUEUE_CAPACITY, onReturn: () => stop.abort() });
    const feed = new ReadingFeed(maxQueued, callSignal, config.shutdownSignal, stop.signal);
    const fail = (e: unknown) => out.fail(endReason(e, config.shutdownSignal));
    void (async () => {
      for await (const req of requests) {
        requireCityCode(req.cityCode);
        if (!feed.follows(req.cityCode)) feed.follow(source, req.cityCode);
        const newest = await source.newest(req.cityCode);
        feed.deliverable(newest);
        // Every request is answered, in its own style, even when that reading went out before.
        await out.room();
        out.push(pick(newest, req.extended));
      }
      out.close();
    })().catch(fail);
    void (async () => {
      for (;;) {
        const next = feed.take();
        if (next === undefined) {
          await feed.wait();
        } else if (next === ReadingFeed.FELL_BEHIND) {
          for (const cityCode of feed.cities()) {
            for await (const r of catchUp(feed, cityCode)) {
              await out.room();
              out.push(r.plain);
            }
          }
        } else {
          out.push(next.plain);
        }
        // Take the next reading only once the client has room for it: until then the feed holds it.
        await out.room();
      }
    })()
      .catch(fail)
      .finally(() => feed.stop());
    return out;
  }
}

/**
 * `SubscribeWeather` in push form, for the transports that call the
 * implementation directly (the tunnel, SSE): the same readings, order,
 * resume and flow control as {@link createWeatherServiceImpl}'s, with a slot
 * in the city's follower list per subscriber in place of an async generator,
 * a feed and a parked promise. Pass it to `directService` with the
 * implementation made from the same `config`.
 */
export function createWeatherPushImpl(config: WeatherServiceConfig): { readonly subscribeWeather: PushImpl } {
  const { source, clock, shutdownSignal } = config;
  const shared: PushContext = { source, maxQueued: config.maxQueuedReadings ?? 4096, open: new Set() };
  // One listener for every subscriber: a shutdown ends each with Unavailable so clients resume elsewhere.
  // After the current task's other listeners, as the async-iterable form ends: a transport that ends its
  // streams itself on shutdown (the tunnel sends go_away first) comes first.
  const endAll = (): void => {
    for (const sub of [...shared.open]) sub.fail(endReason(undefined, shutdownSignal));
  };
  shutdownSignal.addEventListener("abort", () => queueMicrotask(endAll), { once: true });
  return {
    subscribeWeather(request, ctx, sink) {
      const req = request as GetWeatherRequest;
      requireCityCode(req.cityCode);
      const cursor = resumeCursor(ctx, clock, config.historyWindowMs);
      if (shutdownSignal.aborted) throw endReason(undefined, shutdownSignal);
      // Follows first (in the constructor), then reads what came before: nothing falls between the two.
      const sub = new PushSubscription(shared, req, sink);
      sub.start(ctx, cursor).catch((e: unknown) => sub.fail(e));
      return sub;
    },
  };
}

function pick(reading: SourceReading, extended: boolean): WeatherResponse {
  return extended ? reading.extended : reading.plain;
}

function requireCityCode(code: string): void {
  if (code === "") throw new ConnectError('city_code is required, e.g. "NYC"', Code.InvalidArgument);
}

/** The resume cursor a call asked for, or undefined; refuses one that is malformed or lies in the future. */
function resumeCursor(ctx: HandlerContext, clock: Clock, historyWindowMs: number): bigint | undefined {
  const resumeAfter = ctx.requestHeader.get(RESUME_AFTER_HEADER);
  if (resumeAfter === null) return undefined;
  const cursor = parseCursor(resumeAfter);
  if (cursor === undefined) {
    throw new ConnectError(
      `${RESUME_AFTER_HEADER} must be a reading timestamp in Unix epoch milliseconds, got "${resumeAfter}"`,
      Code.InvalidArgument,
    );
  }
  if (cursor > BigInt(clock.now() + historyWindowMs)) {
    throw new ConnectError(
      `${RESUME_AFTER_HEADER} ${resumeAfter} lies in the future; send the timestamp of the last reading received`,
      Code.InvalidArgument,
    );
  }
  return cursor;
}

/** Streams cut by a server shutdown end with `Unavailable` so clients resume elsewhere. */
function endReason(e: unknown, shutdownSignal: AbortSignal): unknown {
  if (shutdownSignal.aborted) {
    return new ConnectError("server is shutting down; reconnect to resume", Code.Unavailable);
  }
  return e;
}
