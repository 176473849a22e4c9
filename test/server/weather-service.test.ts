import { create } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { GetWeatherRequestSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { REPLAY_PAGE_READINGS } from "../../src/server/weather/push-subscription.js";
import { createSimulatedSource } from "../../src/server/weather/simulated-source.js";
import { createWeatherServiceImpl } from "../../src/server/weather/weather-service.js";
import type { WeatherSource } from "../../src/server/weather/weather-source.js";
import { CITIES, readingAt, tickAt } from "../../src/simulation/index.js";
import { createFakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 1000;
const NYC = CITIES.get("NYC");

function context(header: HeadersInit = {}): HandlerContext {
  return createHandlerContext({
    service: WeatherService,
    method: WeatherService.method.subscribeWeather,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://localhost/weather.WeatherService/SubscribeWeather",
    requestHeader: header,
    contextValues: createContextValues(),
  });
}

describe("weather service readings", () => {
  it("are frozen, and the newest reading of a city is one object shared by every call", () => {
    const clock = createFakeClock(1_800_000_000_500);
    const impl = createWeatherServiceImpl({
      source: createSimulatedSource({ tickMs: TICK_MS, historyWindowMs: 600_000, clock }),
      historyWindowMs: 600_000,
      maxReportBatch: 10,
      clock,
      shutdownSignal: new AbortController().signal,
    });
    const request = create(GetWeatherRequestSchema, { cityCode: "NYC" });
    const a = impl.getWeather(request, context());
    const b = impl.getWeather(request, context());
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    if (NYC === undefined) throw new Error("no NYC");
    expect(a).toEqual(readingAt(NYC, tickAt(clock.now(), TICK_MS), TICK_MS, false));
    const extended = impl.getWeather(create(GetWeatherRequestSchema, { cityCode: "NYC", extended: true }), context());
    expect(extended).not.toBe(a);
    expect(extended).toEqual(readingAt(NYC, tickAt(clock.now(), TICK_MS), TICK_MS, true));
    clock.advance(TICK_MS);
    expect(impl.getWeather(request, context())).not.toBe(a);
  });

  it("replays older ticks as fresh readings of their own, without disturbing the shared newest one", async () => {
    const clock = createFakeClock(1_800_000_000_500);
    const impl = createWeatherServiceImpl({
      source: createSimulatedSource({ tickMs: TICK_MS, historyWindowMs: 600_000, clock }),
      historyWindowMs: 600_000,
      maxReportBatch: 10,
      clock,
      shutdownSignal: new AbortController().signal,
    });
    const request = create(GetWeatherRequestSchema, { cityCode: "NYC" });
    const newest = impl.getWeather(request, context());
    const now = tickAt(clock.now(), TICK_MS);
    const abort = new AbortController();
    const ctx = context({ "weather-resume-after": String((now - 3) * TICK_MS) });
    const stream = impl.subscribeWeather(request, { ...ctx, signal: abort.signal })[Symbol.asyncIterator]();
    const replayed = [];
    for (let i = 0; i < 3; i++) {
      const r = await stream.next();
      if (r.done === true) throw new Error("the stream ended");
      replayed.push(r.value);
    }
    abort.abort();
    if (NYC === undefined) throw new Error("no NYC");
    expect(replayed).toEqual([now - 2, now - 1, now].map((t) => readingAt(NYC, t, TICK_MS, false)));
    expect(replayed.map((r) => Object.isFrozen(r))).toEqual([false, false, true]);
    expect(replayed[2]).toBe(newest);
    expect(impl.getWeather(request, context())).toBe(newest);
  });

  it("reads a replay longer than a page from the source a page at a time, as the call takes it, each reading once in order", async () => {
    const clock = createFakeClock(1_800_000_000_500);
    const simulated = createSimulatedSource({ tickMs: TICK_MS, historyWindowMs: 3_600_000, clock });
    const asked: { cursor: bigint; limit: number | undefined }[] = [];
    const source: WeatherSource = {
      ...simulated,
      newest: (city) => simulated.newest(city),
      follow: (city, listener) => simulated.follow(city, listener),
      replay(city, cursor, limit) {
        asked.push({ cursor, limit });
        return simulated.replay(city, cursor, limit);
      },
    };
    const impl = createWeatherServiceImpl({
      source,
      historyWindowMs: 3_600_000,
      maxReportBatch: 10,
      clock,
      shutdownSignal: new AbortController().signal,
    });
    const now = tickAt(clock.now(), TICK_MS);
    const back = REPLAY_PAGE_READINGS * 2 + 10;
    const abort = new AbortController();
    const ctx = context({ "weather-resume-after": String((now - back) * TICK_MS) });
    const stream = impl.subscribeWeather(create(GetWeatherRequestSchema, { cityCode: "NYC" }), { ...ctx, signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const timestamps: bigint[] = [];
    for (let i = 0; i < back; i++) {
      const r = await iterator.next();
      if (r.done === true) throw new Error("the stream ended");
      timestamps.push(r.value.timestamp ?? -1n);
      // Only the page being handed out has been read: the call takes readings one by one.
      expect(asked.length).toBe(Math.floor(i / REPLAY_PAGE_READINGS) + 1);
    }
    abort.abort();
    expect(ctx.responseHeader.get(RESUME_STATUS_HEADER)).toBe("recovered");
    expect(asked.every((a) => a.limit === REPLAY_PAGE_READINGS)).toBe(true);
    expect(asked.map((a) => a.cursor)).toEqual([0, 1, 2].map((p) => BigInt((now - back + p * REPLAY_PAGE_READINGS) * TICK_MS)));
    expect(timestamps).toEqual(Array.from({ length: back }, (_, i) => BigInt((now - back + 1 + i) * TICK_MS)));
  });
});
