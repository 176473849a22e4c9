import { create } from "@bufbuild/protobuf";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { describe, expect, inject, it } from "vitest";
import { createWeatherClient, type GetWeatherRequest, GetWeatherRequestSchema, type SubscriptionState, type WeatherResponse } from "../../src/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";

const baseUrl = inject("serverUrl");

describe("createWeatherClient in Chromium", () => {
  it("runs the README example from a page on another origin: unary, subscription, client stream, bidi", async () => {
    const weather = createWeatherClient({ baseUrl });
    const now = await weather.getWeather({ cityCode: "NYC" });
    expect(now.timestamp).toBeGreaterThan(0n);

    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "NYC", extended: true }, { signal: abort.signal });
    const states: SubscriptionState[] = [];
    sub.onState((s) => states.push(s));
    const rendered: WeatherResponse[] = [];
    for await (const reading of sub) {
      rendered.push(reading);
      if (rendered.length === 2) abort.abort();
    }
    expect(rendered[0]?.description).toMatch(/in 3 h$/);
    expect(states[1]).toMatchObject({ kind: "open", transport: "websocket", recovered: true });

    const summary = await weather.reportBatch([
      { temperature: 10, humidity: 40, timestamp: 5n },
      { temperature: 20, humidity: 60, timestamp: 9n },
    ]);
    expect(summary).toMatchObject({ temperature: 15, humidity: 50, description: "2 readings", timestamp: 9n });

    const requests = createWritableIterable<GetWeatherRequest>();
    const shown: WeatherResponse[] = [];
    const chat = (async () => {
      for await (const r of weather.weatherChat(requests)) {
        shown.push(r);
        if (shown.length === 2) requests.close();
      }
    })();
    await requests.write(create(GetWeatherRequestSchema, { cityCode: "LON" }));
    await chat;
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(weather.transport).toBe("websocket");
    weather.close();
  });

  it("subscribes over the tunnel with the page's lifecycle, both delivery styles agreeing", async () => {
    const weather = createWeatherClient({ baseUrl });
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "HKG" }, { signal: abort.signal });
    const states: SubscriptionState[] = [];
    sub.onState((s) => states.push(s));
    const heard: bigint[] = [];
    sub.onMessage((r) => heard.push(r.timestamp));
    const iterated: bigint[] = [];
    for await (const r of sub) {
      iterated.push(r.timestamp);
      if (iterated.length === 4) abort.abort();
    }
    expect(iterated).toEqual(heard.slice(0, 4));
    expectStrictlyIncreasing(heard);
    expect(states.map((s) => s.kind)).toEqual(["connecting", "open", "closed"]);
    expect(states[1]).toMatchObject({ transport: "websocket" });
    weather.close();
  });

  it("falls back to Connect when the upgrade is refused", async () => {
    const weather = createWeatherClient({ baseUrl, webSocketUrl: `${baseUrl.replace("http", "ws")}/nowhere` });
    expect((await weather.getWeather({ cityCode: "SEL" })).timestamp).toBeGreaterThan(0n);
    expect(weather.transport).toBe("connect");
  });

  it("falls back to SSE when only SSE is allowed through", async () => {
    const weather = createWeatherClient({ baseUrl, transports: ["sse"] });
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "SEL" }, { signal: abort.signal });
    const got: bigint[] = [];
    for await (const r of sub) {
      got.push(r.timestamp);
      if (got.length === 2) abort.abort();
    }
    expectStrictlyIncreasing(got);
    expect(weather.transport).toBe("sse");
  });
});
