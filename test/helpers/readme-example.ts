// The README's (and DESIGN.md's) example, with the checks that prove it did
// what it says; runs in Node and in Chromium, so it imports nothing from Node.
import { create } from "@bufbuild/protobuf";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { expect } from "vitest";
import {
  type GetWeatherRequest,
  GetWeatherRequestSchema,
  type SubscriptionState,
  type WeatherClient,
  type WeatherResponse,
} from "../../src/index.js";
import { expectStrictlyIncreasing } from "./assertions.js";

/** Unary, a subscription with its states and both delivery styles, client streaming and bidi, all over the WebSocket. */
export async function runReadmeExample(weather: WeatherClient): Promise<void> {
  const now = await weather.getWeather({ cityCode: "NYC" });
  expect(now.timestamp).toBeGreaterThan(0n);
  expect(weather.transport).toBe("websocket");

  const abort = new AbortController();
  const sub = weather.subscribeWeather({ cityCode: "NYC", extended: true }, { signal: abort.signal });
  const states: SubscriptionState[] = [];
  sub.onState((s) => states.push(s));
  const drawn: bigint[] = [];
  sub.onMessage((r) => drawn.push(r.timestamp));
  const rendered: WeatherResponse[] = [];
  for await (const reading of sub) {
    rendered.push(reading);
    if (rendered.length === 3) abort.abort();
  }
  // Readings already received when the signal aborted still reach the loop (nothing delivered is dropped).
  expect(rendered.length).toBeGreaterThanOrEqual(3);
  expect(rendered.map((r) => r.timestamp)).toEqual(drawn.slice(0, rendered.length));
  expectStrictlyIncreasing(drawn);
  expect(rendered[0]?.description).toMatch(/in 3 h$/);
  expect(states.map((s) => s.kind)).toEqual(["connecting", "open", "closed"]);
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
}
