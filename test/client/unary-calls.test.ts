// getWeather over the WebSocket through createWeatherClient and through
// createClient + createWebSocketTransport, each on both of its paths:
// straight on the tunnel core (no client interceptors) and through connect's
// call pipeline (with one). They must behave alike.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createWeatherClient, createWebSocketTransport, type WeatherCallOptions, type WeatherResponse } from "../../src/index.js";
import { createTunnelServer, type TunnelServer } from "../../src/server/index.js";

/** Resolves with the reason the server's handler of a "SLOW" call was stopped. */
let slowStopped: Promise<unknown>;
let markSlowStopped: (reason: unknown) => void;
let seenTimeout: string | null = null;

let httpServer: http.Server;
let tunnelServer: TunnelServer;
let wsUrl: string;

beforeAll(async () => {
  const router = createConnectRouter();
  router.service(WeatherService, {
    async getWeather(req, ctx) {
      if (req.cityCode === "SLOW") {
        seenTimeout = ctx.requestHeader.get("connect-timeout-ms");
        await new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            markSlowStopped(ctx.signal.reason);
            reject(ctx.signal.reason as Error);
          }),
        );
      }
      if (req.cityCode === "BAD") throw new ConnectError("no such city", Code.InvalidArgument);
      ctx.responseHeader.set("x-auth-seen", ctx.requestHeader.get("authorization") ?? "");
      ctx.responseHeader.set("x-call-seen", ctx.requestHeader.get("x-call") ?? "");
      ctx.responseTrailer.set("x-done", "yes");
      return { description: req.cityCode };
    },
  });
  tunnelServer = createTunnelServer({ handlers: router.handlers, onError: () => undefined });
  httpServer = http.createServer((_req, res) => res.writeHead(404).end());
  httpServer.on("upgrade", (req: http.IncomingMessage, socket, head: Buffer) => {
    if (!tunnelServer.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  wsUrl = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/ws`;
});

afterAll(async () => {
  await tunnelServer.close();
  await new Promise((resolve) => httpServer.close(resolve));
});

const passThrough: Interceptor = (next) => (req) => next(req);

/** What the tests call: getWeather, and close. */
interface Caller {
  getWeather(request: { cityCode: string }, options?: WeatherCallOptions): Promise<WeatherResponse>;
  close(): void;
}

describe.each([
  { path: "createWeatherClient, straight on the tunnel core", api: "weather", interceptors: [] },
  { path: "createWeatherClient, through connect's call pipeline", api: "weather", interceptors: [passThrough] },
  { path: "createClient + createWebSocketTransport, straight on the tunnel core", api: "transport", interceptors: [] },
  { path: "createClient + createWebSocketTransport, through connect's call pipeline", api: "transport", interceptors: [passThrough] },
])("getWeather over the WebSocket, $path", ({ api, interceptors }) => {
  // The weather client's header provider, or the transport's connection headers: either way the server sees them.
  const client = (): Caller => {
    if (api === "weather") {
      return createWeatherClient({
        baseUrl: "http://127.0.0.1:1",
        webSocketUrl: wsUrl,
        transports: ["websocket"],
        interceptors,
        headers: () => ({ authorization: "Bearer t0ken" }),
      });
    }
    const transport = createWebSocketTransport({ url: wsUrl, interceptors, connectionHeaders: { authorization: "Bearer t0ken" } });
    const c = createClient(WeatherService, transport);
    return { getWeather: (request, options) => c.getWeather(request, options), close: () => transport.close() };
  };

  it("sends the call's and the provider's headers, and hands response headers and trailers to the callbacks", async () => {
    const weather = client();
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const reading = await weather.getWeather(
      { cityCode: "NYC" },
      { headers: { "x-call": "one" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expect(reading.description).toBe("NYC");
    expect(header?.get("x-auth-seen")).toBe("Bearer t0ken");
    expect(header?.get("x-call-seen")).toBe("one");
    expect(trailer?.get("x-done")).toBe("yes");
    weather.close();
  });

  it("reports the server's error with its code", async () => {
    const weather = client();
    const error = await weather.getWeather({ cityCode: "BAD" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: "no such city" });
    weather.close();
  });

  it("is cancelled by its signal: Canceled here, the handler stopped there", async () => {
    const weather = client();
    slowStopped = new Promise((resolve) => (markSlowStopped = resolve));
    const abort = new AbortController();
    const call = weather.getWeather({ cityCode: "SLOW" }, { signal: abort.signal });
    await expect(weather.getWeather({ cityCode: "NYC" })).resolves.toBeDefined(); // the slow call is on the server by now
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
    expect(ConnectError.from(await slowStopped).code).toBe(Code.Canceled);
    weather.close();
  });

  it("ends with DeadlineExceeded after timeoutMs, and tells the server its deadline", async () => {
    const weather = client();
    slowStopped = new Promise((resolve) => (markSlowStopped = resolve));
    await expect(weather.getWeather({ cityCode: "SLOW" }, { timeoutMs: 80 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(seenTimeout).toMatch(/^\d+$/);
    expect(Number(seenTimeout)).toBeLessThanOrEqual(80);
    await slowStopped;
    weather.close();
  });

  it("fails at once with DeadlineExceeded when timeoutMs is 0, as connect does", async () => {
    const weather = client();
    await expect(weather.getWeather({ cityCode: "NYC" }, { timeoutMs: 0 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    weather.close();
  });

  it("fails at once with Canceled when its signal is already aborted", async () => {
    const weather = client();
    const abort = new AbortController();
    abort.abort();
    await expect(weather.getWeather({ cityCode: "NYC" }, { signal: abort.signal })).rejects.toMatchObject({ code: Code.Canceled });
    weather.close();
  });
});
