import { describe, expect, inject, it } from "vitest";
import { createWeatherClient, type SubscriptionState } from "../../src/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import { runReadmeExample } from "../helpers/readme-example.js";

const baseUrl = inject("serverUrl");

describe("createWeatherClient in Chromium", () => {
  it("runs the README example from a page on another origin: unary, subscription, client stream, bidi", async () => {
    const weather = createWeatherClient({ baseUrl });
    await runReadmeExample(weather);
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
    // Readings already received when the signal aborted still reach the loop.
    expect(iterated.length).toBeGreaterThanOrEqual(4);
    expect(iterated).toEqual(heard.slice(0, iterated.length));
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
