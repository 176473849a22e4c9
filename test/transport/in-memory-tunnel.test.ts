import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createAsyncIterable, createWritableIterable } from "@connectrpc/connect/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type GetWeatherRequest, GetWeatherRequestSchema, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { createTunnelHandler, createWeatherRouter, type TunnelHandler } from "../../src/server/core.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { inMemoryWebSocket } from "../../src/testing/index.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";
import { rejection } from "../helpers/assertions.js";
import { createFakeClock, type FakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 1000;
const START_MS = 1_700_000_000_000;

describe("the WebSocket transport against the tunnel handler through the in-memory pair", () => {
  let clock: FakeClock;
  let tunnel: TunnelHandler;

  function client(origin?: string) {
    clock = createFakeClock(START_MS);
    const router = createWeatherRouter({ tickMs: TICK_MS, clock });
    tunnel = createTunnelHandler({
      handlers: router.handlers,
      direct: [router.direct],
      allowedOrigins: ["https://app.example"],
      clock,
      closeTimeoutMs: 0,
    });
    const transport = createWebSocketTransport({ url: "ws://mock.test/ws", webSocket: inMemoryWebSocket(tunnel, { origin }) });
    return createClient(WeatherService, transport);
  }

  afterEach(async () => {
    await tunnel.close();
  });

  it("answers a unary call with the simulated reading of the current tick", async () => {
    const weather = client();
    const reading = await weather.getWeather({ cityCode: "NYC" });
    expect(reading).toEqual(readingAt(CITIES.get("NYC") ?? expect.fail("NYC"), START_MS / TICK_MS, TICK_MS, false));
    expect(tunnel.connectionCount).toBe(1);
  });

  it("streams a subscription tick by tick as the server's clock moves", async () => {
    const weather = client();
    const abort = new AbortController();
    const seen: bigint[] = [];
    await expect(
      (async () => {
        for await (const r of weather.subscribeWeather({ cityCode: "PAR" }, { signal: abort.signal })) {
          seen.push(r.timestamp);
          if (seen.length === 3) abort.abort();
          else clock.advance(TICK_MS);
        }
      })(),
    ).rejects.toMatchObject({ code: Code.Canceled });
    expect(seen).toEqual([BigInt(START_MS), BigInt(START_MS + TICK_MS), BigInt(START_MS + 2 * TICK_MS)]);
  });

  it("carries client streaming and bidi streaming", async () => {
    const weather = client();
    const summary = await weather.reportBatch(
      createAsyncIterable([1, 2, 3].map((t) => create(WeatherResponseSchema, { temperature: t, humidity: 10 * t, timestamp: BigInt(t) }))),
    );
    expect(summary).toMatchObject({ temperature: 2, humidity: 20, description: "3 readings", timestamp: 3n });

    const requests = createWritableIterable<GetWeatherRequest>();
    const cities: string[] = [];
    const chat = (async () => {
      for await (const r of weather.weatherChat(requests)) {
        cities.push(r.description);
        if (cities.length === 1) await requests.write(create(GetWeatherRequestSchema, { cityCode: "BKK" }));
        else requests.close();
      }
    })();
    await requests.write(create(GetWeatherRequestSchema, { cityCode: "DEL" }));
    await chat;
    expect(cities).toHaveLength(2);
  });

  it("ends open streams with Unavailable when the handler shuts down", async () => {
    const weather = client();
    const sub = weather.subscribeWeather({ cityCode: "SEL" })[Symbol.asyncIterator]();
    await sub.next();
    void tunnel.close();
    const error = await rejection(sub.next());
    expect(error.code).toBe(Code.Unavailable);
  });

  it("closes a socket from an origin not allowed, which the client sees as a failed connection", async () => {
    const weather = client("https://evil.example");
    const error = await rejection(weather.getWeather({ cityCode: "NYC" }));
    expect(error.code).toBe(Code.Unavailable);
    expect(tunnel.connectionCount).toBe(0);
  });
});
