// The server core inside Chromium: the tunnel handler and the fetch handler run
// in the page itself (no Node server), and the SDK's client talks to them
// through the in-memory WebSocket pair and a fetch that calls the handler.
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { afterAll, describe, expect, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createWeatherClient, type WeatherClientOptions } from "../../src/index.js";
import { createTunnelHandler, createWeatherFetchHandler, createWeatherRouter, type TunnelSocket } from "../../src/server/core.js";
import { inMemoryWebSocket } from "../../src/testing/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import { runReadmeExample } from "../helpers/readme-example.js";

const router = createWeatherRouter({ tickMs: 50 });
const tunnel = createTunnelHandler({ handlers: router.handlers, direct: [router.direct], allowedOrigins: [location.origin] });
const fetchHandler = createWeatherFetchHandler({ router });
const inPage: Pick<WeatherClientOptions, "baseUrl" | "webSocket" | "fetch"> = {
  baseUrl: "http://in-page.test",
  webSocket: inMemoryWebSocket(tunnel, { origin: location.origin }),
  fetch: (input, init) => fetchHandler(new Request(input, init)),
};

afterAll(() => tunnel.close());

async function firstReadings(transports: WeatherClientOptions["transports"], count: number): Promise<bigint[]> {
  const weather = createWeatherClient({ ...inPage, transports });
  const abort = new AbortController();
  const got: bigint[] = [];
  for await (const r of weather.subscribeWeather({ cityCode: "TYO" }, { signal: abort.signal })) {
    got.push(r.timestamp);
    if (got.length === count) abort.abort();
  }
  const transport = weather.transport;
  weather.close();
  expect(transport).toBe(transports?.[0]);
  return got;
}

describe("the server core running inside Chromium", () => {
  it("takes the browser's own WebSocket as a TunnelSocket (checked by the compiler)", () => {
    const asTunnelSocket = (socket: WebSocket): TunnelSocket => socket;
    expect(typeof asTunnelSocket).toBe("function");
  });

  it("has no Node in this page", () => {
    expect((globalThis as { process?: unknown }).process).toBeUndefined();
    expect((globalThis as { Buffer?: unknown }).Buffer).toBeUndefined();
  });

  it("serves all four call modes over the tunnel handler", async () => {
    const weather = createWeatherClient({ ...inPage, transports: ["websocket"] });
    await runReadmeExample(weather);
    expect(tunnel.connectionCount).toBe(1);
    weather.close();
  });

  it("serves a subscription over SSE from the fetch handler", async () => {
    const got = await firstReadings(["sse"], 3);
    expect(got.length).toBeGreaterThanOrEqual(3);
    expectStrictlyIncreasing(got);
  });

  it("serves a subscription and a unary call over Connect from the fetch handler", async () => {
    const got = await firstReadings(["connect"], 2);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expectStrictlyIncreasing(got);
    const weather = createWeatherClient({ ...inPage, transports: ["connect"] });
    expect((await weather.getWeather({ cityCode: "SYD" })).timestamp).toBeGreaterThan(0n);
    weather.close();
  });

  it("serves gRPC-Web from the fetch handler", async () => {
    const client = createClient(WeatherService, createGrpcWebTransport({ baseUrl: inPage.baseUrl, fetch: inPage.fetch }));
    expect((await client.getWeather({ cityCode: "LON" })).timestamp).toBeGreaterThan(0n);
    const abort = new AbortController();
    const got: bigint[] = [];
    await expect(
      (async () => {
        for await (const r of client.subscribeWeather({ cityCode: "LON" }, { signal: abort.signal })) {
          got.push(r.timestamp);
          if (got.length === 2) abort.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: Code.Canceled });
    expectStrictlyIncreasing(got);
  });
});
