// WeatherChat's answers wait in a bounded queue: a client that sends requests, or keeps a live city, but
// does not read its answers stops being read from and stops taking readings, instead of growing the
// server's memory; the readings it missed meanwhile come back from the history, in order, once it reads.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type GetWeatherRequest, GetWeatherRequestSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { createAsyncQueue } from "../../src/server/weather/async-queue.js";
import { createSimulatedSource } from "../../src/server/weather/simulated-source.js";
import { createWeatherServiceImpl } from "../../src/server/weather/weather-service.js";
import type { WeatherSource } from "../../src/server/weather/weather-source.js";
import { createFakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 1000;
/** The chat's queue capacity (CHAT_QUEUE_CAPACITY in weather-service.ts). */
const CAPACITY = 64;

function context(): HandlerContext {
  return createHandlerContext({
    service: WeatherService,
    method: WeatherService.method.weatherChat,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://localhost/weather.WeatherService/WeatherChat",
    contextValues: createContextValues(),
  });
}

/** Lets every promise chain that can run, run: the state after it is what the code does without more input. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function chatService(maxQueuedReadings = 16) {
  const clock = createFakeClock(1_800_000_000_500);
  const simulated = createSimulatedSource({ tickMs: TICK_MS, historyWindowMs: 600_000, clock });
  let replays = 0;
  const source: WeatherSource = {
    ...simulated,
    replay: (cityCode, cursor) => {
      replays++;
      return simulated.replay(cityCode, cursor);
    },
  };
  const impl = createWeatherServiceImpl({
    source,
    historyWindowMs: 600_000,
    maxReportBatch: 10,
    maxQueuedReadings,
    clock,
    shutdownSignal: new AbortController().signal,
  });
  return { impl, clock, replays: () => replays };
}

describe("WeatherChat backpressure", () => {
  it("stops reading requests while its answers are not read, and goes on as they are", async () => {
    const { impl } = chatService();
    let pulled = 0;
    const requests = (async function* (): AsyncGenerator<GetWeatherRequest> {
      await Promise.resolve();
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield create(GetWeatherRequestSchema, { cityCode: "NYC" });
      }
    })();
    const answers = impl.weatherChat(requests, context())[Symbol.asyncIterator]();
    await settle();
    // The capacity, the request whose answer waits for room, and the one the generator has ready.
    expect(pulled).toBeGreaterThanOrEqual(CAPACITY);
    expect(pulled).toBeLessThanOrEqual(CAPACITY + 2);
    const held = pulled;
    for (let i = 0; i < 10; i++) await answers.next();
    await settle();
    expect(pulled - held).toBeGreaterThanOrEqual(10);
    expect(pulled).toBeLessThanOrEqual(CAPACITY + 12);
    await answers.return?.();
  });

  it("stops taking live readings while its answers are not read; what it missed comes from history, once, in order", async () => {
    const { impl, clock, replays } = chatService();
    const requests = createAsyncQueue<GetWeatherRequest>();
    requests.push(create(GetWeatherRequestSchema, { cityCode: "NYC" }));
    const answers = impl.weatherChat(requests, context())[Symbol.asyncIterator]();
    const first = await answers.next();
    if (first.done === true) throw new Error("no answer");
    // 200 ticks nobody reads: the chat's queue fills, then the feed's (16), then it falls behind.
    for (let i = 0; i < 200; i++) {
      clock.advance(TICK_MS);
      await settle();
    }
    expect(replays()).toBe(0); // not caught up yet: nothing is read
    const timestamps = [first.value.timestamp];
    while (timestamps.length < 201) {
      const next = await answers.next();
      if (next.done === true) break;
      timestamps.push(next.value.timestamp);
    }
    // Caught up from the history: the feed had fallen behind, as the queue in front of it was full.
    expect(replays()).toBeGreaterThan(0);
    expect(timestamps).toEqual(Array.from({ length: 201 }, (_, i) => (first.value.timestamp ?? 0n) + BigInt(i * TICK_MS)));
    await answers.return?.();
  });

  it("ends with ResourceExhausted when what it missed is older than the history", async () => {
    const { impl, clock } = chatService();
    const requests = createAsyncQueue<GetWeatherRequest>();
    requests.push(create(GetWeatherRequestSchema, { cityCode: "NYC" }));
    const answers = impl.weatherChat(requests, context())[Symbol.asyncIterator]();
    await answers.next();
    for (let i = 0; i < 700; i++) {
      clock.advance(TICK_MS);
      if (i < CAPACITY + 20) await settle();
    }
    let read = 0;
    const error = await (async () => {
      try {
        for (;;) {
          if ((await answers.next()).done === true) return undefined;
          read++;
        }
      } catch (e) {
        return e;
      }
    })();
    expect(ConnectError.from(error).code).toBe(Code.ResourceExhausted);
    // What waited in front of the feed was never more than the queue's capacity (and one reading in hand).
    expect(read).toBeLessThanOrEqual(CAPACITY + 1);
  });
});

describe("createAsyncQueue", () => {
  it("holds room() while at capacity and releases it as the consumer reads, and when it is done", async () => {
    const queue = createAsyncQueue<number>({ capacity: 2 });
    queue.push(1);
    expect(await Promise.race([queue.room().then(() => "room"), settle().then(() => "waiting")])).toBe("room");
    queue.push(2);
    let released = false;
    const room = queue.room().then(() => (released = true));
    await settle();
    expect(released).toBe(false);
    const it = queue[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await room;
    expect(released).toBe(true);
    queue.push(3);
    const waiting = queue.room();
    await it.return?.();
    await waiting; // done: a producer never waits on a queue nobody reads
  });
});
