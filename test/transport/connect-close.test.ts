// Closing a subscription on the `connect` transport ends its HTTP response: the server sees the
// stream's request signal abort (the client went away), however the subscription is closed.
import type { Interceptor } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWeatherClient, type WeatherClient } from "../../src/index.js";
import { startServer } from "../helpers/server.js";

describe("a subscription on the connect transport, closed", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let weather: WeatherClient;
  let serverSawEnd: Promise<void>;

  beforeEach(async () => {
    let ended: () => void = () => undefined;
    serverSawEnd = new Promise<void>((resolve) => (ended = resolve));
    const watchStreams: Interceptor = (next) => (req) => {
      if (req.method.name === "SubscribeWeather") req.signal.addEventListener("abort", () => ended(), { once: true });
      return next(req);
    };
    server = await startServer({ tickMs: 20, interceptors: [watchStreams] });
    weather = createWeatherClient({ baseUrl: server.url, transports: ["connect"] });
  });
  afterEach(async () => {
    weather.close();
    await server.close();
  });

  it("by leaving a for await loop: the server sees the stream end", async () => {
    let received = 0;
    for await (const _ of weather.subscribeWeather({ cityCode: "NYC" })) if (++received === 2) break;
    await serverSawEnd;
    expect(received).toBe(2);
  });

  it("by close(): the server sees the stream end", async () => {
    const sub = weather.subscribeWeather({ cityCode: "NYC" });
    await new Promise<void>((resolve) => sub.onMessage(() => resolve()));
    sub.close();
    await serverSawEnd;
    expect(sub.state.kind).toBe("closed");
  });

  it("by its abort signal: the server sees the stream end", async () => {
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "NYC" }, { signal: abort.signal });
    await new Promise<void>((resolve) => sub.onMessage(() => resolve()));
    abort.abort();
    await serverSawEnd;
    expect(sub.state.kind).toBe("closed");
  });
});
