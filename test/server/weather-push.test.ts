import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { GetWeatherRequestSchema, type WeatherResponse } from "../../src/gen/weather_pb.js";
import type { PushSink } from "../../src/server/call/direct-call.js";
import { REPLAY_PAGE_READINGS } from "../../src/server/weather/push-subscription.js";
import { createSimulatedSource } from "../../src/server/weather/simulated-source.js";
import type { WeatherSource } from "../../src/server/weather/weather-source.js";
import { createWeatherPushImpl } from "../../src/server/weather/weather-service.js";
import { createFakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 1000;
const START_MS = 1_800_000_000_000; // on a tick boundary
const tickStamp = (n: number) => START_MS + n * TICK_MS;

/** A call as the push form sees it: takes messages until `credit` runs out, then pauses. */
class RecordingSink implements PushSink {
  readonly sent: number[] = [];
  closed: { error: unknown } | undefined;
  constructor(public credit = Number.POSITIVE_INFINITY) {}
  send(message: WeatherResponse): boolean {
    this.sent.push(Number(message.timestamp));
    this.credit--;
    return this.credit > 0;
  }
  close(error?: unknown): void {
    this.closed = { error };
  }
}

function context(header: Record<string, string> = {}): HandlerContext {
  const responseHeader = new Headers();
  return { requestHeader: new Headers(header), responseHeader } as unknown as HandlerContext;
}

function setup(options: { maxQueuedReadings?: number; historyWindowMs?: number; wrap?: (source: WeatherSource) => WeatherSource } = {}) {
  const clock = createFakeClock(START_MS + 10);
  const historyWindowMs = options.historyWindowMs ?? 60_000;
  const simulated = createSimulatedSource({ tickMs: TICK_MS, historyWindowMs, clock });
  const source = options.wrap?.(simulated) ?? simulated;
  const shutdown = new AbortController();
  const push = createWeatherPushImpl({
    source,
    historyWindowMs,
    maxReportBatch: 10,
    maxQueuedReadings: options.maxQueuedReadings,
    clock,
    shutdownSignal: shutdown.signal,
  });
  const subscribe = (sink: PushSink, ctx = context(), cityCode = "NYC") =>
    push.subscribeWeather(create(GetWeatherRequestSchema, { cityCode }), ctx, sink);
  return { clock, source, shutdown, subscribe };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("SubscribeWeather in push form", () => {
  it("sends the newest reading, then every tick once and in order, straight from the follower list", async () => {
    const { clock, subscribe } = setup();
    const sink = new RecordingSink();
    subscribe(sink);
    await settle();
    clock.advance(3 * TICK_MS);
    expect(sink.sent).toEqual([0, 1, 2, 3].map(tickStamp));
  });

  it("follows a source of the app's own through its follow, with a function, and unfollows it when stopped", async () => {
    // A wrapper over the package's source, as an app might write to count followers: its own follow is used.
    let following = 0;
    const { clock, subscribe } = setup({
      wrap: (inner) => ({
        ...inner,
        follow(city, listener) {
          if (typeof listener !== "function") throw new TypeError("the contract's listener is a function");
          following++;
          const unfollow = inner.follow(city, listener);
          return () => {
            following--;
            unfollow();
          };
        },
      }),
    });
    const sink = new RecordingSink();
    const stream = subscribe(sink);
    await settle();
    expect(following).toBe(1);
    clock.advance(2 * TICK_MS);
    stream.stop();
    expect(following).toBe(0);
    clock.advance(2 * TICK_MS);
    expect(sink.sent).toEqual([0, 1, 2].map(tickStamp));
  });

  it("holds readings while paused and sends them, in order and once, on resume", async () => {
    const { clock, subscribe } = setup();
    const sink = new RecordingSink(2);
    const stream = subscribe(sink);
    await settle();
    clock.advance(4 * TICK_MS); // tick 1 fills the credit; ticks 2-4 wait
    expect(sink.sent).toEqual([0, 1].map(tickStamp));
    sink.credit = Number.POSITIVE_INFINITY;
    stream.resume();
    clock.advance(TICK_MS);
    expect(sink.sent).toEqual([0, 1, 2, 3, 4, 5].map(tickStamp));
  });

  it("past maxQueuedReadings drops the queue and catches up from history: nothing lost, nothing twice", async () => {
    const { clock, subscribe } = setup({ maxQueuedReadings: 2 });
    const sink = new RecordingSink(1);
    const stream = subscribe(sink);
    await settle();
    clock.advance(6 * TICK_MS); // far more than two readings while paused
    expect(sink.sent).toEqual([tickStamp(0)]);
    sink.credit = Number.POSITIVE_INFINITY;
    stream.resume();
    await settle();
    clock.advance(TICK_MS);
    expect(sink.sent).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map(tickStamp));
  });

  it("ends with ResourceExhausted when the call fell behind its history window", async () => {
    const { clock, subscribe } = setup({ maxQueuedReadings: 1, historyWindowMs: 3 * TICK_MS });
    const sink = new RecordingSink(1);
    const stream = subscribe(sink);
    await settle();
    clock.advance(8 * TICK_MS);
    stream.resume();
    await settle();
    expect(sink.closed?.error).toBeInstanceOf(ConnectError);
    expect((sink.closed?.error as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("resumes after a cursor from history, says so in a header, and sends live readings after the replay", async () => {
    const { clock, subscribe } = setup();
    clock.advance(5 * TICK_MS);
    const ctx = context({ [RESUME_AFTER_HEADER]: String(tickStamp(2)) });
    const sink = new RecordingSink();
    subscribe(sink, ctx);
    clock.advance(TICK_MS); // arrives while the replay is read: after it, once
    await settle();
    clock.advance(TICK_MS);
    expect(ctx.responseHeader.get(RESUME_STATUS_HEADER)).toBe("recovered");
    expect(sink.sent).toEqual([3, 4, 5, 6, 7].map(tickStamp));
  });

  it("reads a long replay a page at a time as the call takes it; live readings while paused neither reorder nor restart it", async () => {
    const historyWindowMs = 3000 * TICK_MS;
    const { clock, source, subscribe } = setup({ maxQueuedReadings: 2, historyWindowMs });
    const limits: (number | undefined)[] = [];
    const replay = source.replay.bind(source);
    source.replay = (cityCode, cursor, limit) => {
      limits.push(limit);
      return replay(cityCode, cursor, limit);
    };
    clock.advance(2600 * TICK_MS);
    const ctx = context({ [RESUME_AFTER_HEADER]: String(tickStamp(100)) });
    const sink = new RecordingSink(700);
    const stream = subscribe(sink, ctx);
    await settle();
    // Each pause lets three live readings arrive, past the queue's bound of two.
    while (sink.sent.length < 2600 - 100 + 3 * 4) {
      clock.advance(3 * TICK_MS);
      sink.credit = 700;
      stream.resume();
      await settle();
    }
    const newest = Number(sink.sent[sink.sent.length - 1]);
    expect(ctx.responseHeader.get(RESUME_STATUS_HEADER)).toBe("recovered");
    expect(sink.sent).toEqual(Array.from({ length: (newest - tickStamp(100)) / TICK_MS }, (_, i) => tickStamp(101 + i)));
    // A page at a time: the 2,500 readings of history took three pages, plus a read for each overflow after them.
    expect(limits.every((limit) => limit === REPLAY_PAGE_READINGS)).toBe(true);
    expect(limits.length).toBeLessThanOrEqual(3 + 4);
  });

  it("stops following on stop(), and a shutdown ends open streams with Unavailable", async () => {
    const { clock, shutdown, subscribe } = setup();
    const stopped = new RecordingSink();
    subscribe(stopped).stop();
    const open = new RecordingSink();
    subscribe(open);
    await settle();
    clock.advance(TICK_MS);
    expect(stopped.sent.length).toBeLessThanOrEqual(1);
    shutdown.abort();
    await settle();
    expect((open.closed?.error as ConnectError).code).toBe(Code.Unavailable);
    expect(stopped.closed).toBeUndefined();
  });

  it("refuses an unknown city before it follows anything", () => {
    const { subscribe } = setup();
    expect(() => subscribe(new RecordingSink(), context(), "XXX")).toThrow(/unknown city_code/);
  });
});
