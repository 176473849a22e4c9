import { Code } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { alwaysActive, createWeatherClient } from "../../src/index.js";
import type { GetWeatherRequest } from "../../src/gen/weather_pb.js";
import type { WeatherServer } from "../../src/server/index.js";
import { expectStrictlyIncreasing, rejection } from "../helpers/assertions.js";
import { runReadmeExample } from "../helpers/readme-example.js";
import { fakeWebSocketFactory, microtasks } from "../helpers/fake-web-socket.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 25;
let server: WeatherServer & { url: string };

beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS });
});
afterAll(() => server.close());

/** A fetch that answers Connect and gRPC-Web requests the way a corporate proxy would: with its own HTML page. */
const proxyBlocksHttpRpc: typeof fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (new URL(url).pathname.startsWith("/weather.WeatherService/")) {
    return new Response("<html>Blocked by policy</html>", { status: 403, headers: { "content-type": "text/html" } });
  }
  return fetch(input, init);
};

describe("createWeatherClient, as in DESIGN.md", () => {
  it("runs the documented example: unary, subscription with state and both delivery styles, client stream, bidi", async () => {
    const weather = createWeatherClient({ baseUrl: server.url });
    await runReadmeExample(weather);
    weather.close();
  });

  it("fails at once, saying why, when no listed transport can make the call", async () => {
    const weather = createWeatherClient({ baseUrl: server.url, transports: ["connect", "sse"] });
    const error = await rejection(weather.reportBatch([{ temperature: 1 }]));
    expect(error.code).toBe(Code.Unimplemented);
    expect(error.rawMessage).toMatch(/client streaming calls: transports are \[connect, sse\], and only \[websocket\] can/);
    expect(() => weather.weatherChat(createWritableIterable<GetWeatherRequest>())).toThrow(/bidi streaming/);
    const sub = weather.subscribeWeather({ cityCode: "NYC" });
    expect(sub.state.kind).toBe("connecting"); // server streaming is fine over connect
    sub.close();
  });

  it("reports server errors with their code and does not fall back on them", async () => {
    const weather = createWeatherClient({ baseUrl: server.url });
    const error = await rejection(weather.getWeather({ cityCode: "nope" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(weather.transport).toBe("websocket");
    const sub = weather.subscribeWeather({ cityCode: "nope" });
    await new Promise<void>((resolve) => sub.onState((s) => s.kind === "closed" && resolve()));
    expect(sub.state).toMatchObject({ kind: "closed", reason: "error", error: { code: Code.InvalidArgument } });
    weather.close();
  });
});

describe("sharing", () => {
  it("carries 200 subscriptions and their unary calls over one WebSocket", async () => {
    let sockets = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets++;
      }
    }
    const weather = createWeatherClient({ baseUrl: server.url, webSocket: CountingWebSocket });
    const abort = new AbortController();
    const cities = ["NYC", "LON", "TYO", "SYD", "PAR"];
    const firsts = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const sub = weather.subscribeWeather({ cityCode: cities[i % cities.length] ?? "NYC" }, { signal: abort.signal });
        for await (const r of sub) return r.timestamp;
        return 0n;
      }),
    );
    expect(firsts.every((t) => t > 0n)).toBe(true);
    await Promise.all(cities.map((cityCode) => weather.getWeather({ cityCode })));
    expect(sockets).toBe(1);
    abort.abort();
    weather.close();
  });
});

describe("closing the client", () => {
  it("closes its subscriptions cleanly and stays usable", async () => {
    const weather = createWeatherClient({ baseUrl: server.url });
    const sub = weather.subscribeWeather({ cityCode: "MEX" });
    const loop = (async () => {
      const got: bigint[] = [];
      for await (const r of sub) {
        got.push(r.timestamp);
        if (got.length === 2) weather.close();
      }
      return got;
    })();
    expect(await loop).toHaveLength(2);
    expect(sub.state).toEqual({ kind: "closed", reason: "closed" });
    expect((await weather.getWeather({ cityCode: "MEX" })).timestamp).toBeGreaterThan(0n);
    weather.close();
  });

  it('needs a WebSocket constructor only when "websocket" is listed (Node 20 has no global one)', async () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => createWeatherClient({ baseUrl: server.url })).toThrow(
        /no global WebSocket; pass the `webSocket` option \(e\.g\. the `ws` package\) or leave "websocket" out of `transports`/,
      );
      const weather = createWeatherClient({ baseUrl: server.url, transports: ["connect", "sse"] });
      expect((await weather.getWeather({ cityCode: "ROM" })).timestamp).toBeGreaterThan(0n);
      expect(weather.transport).toBe("connect");
      weather.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("rejects a nonsense highWaterMark", () => {
    expect(() => createWeatherClient({ baseUrl: server.url, highWaterMark: 0 })).toThrow(/highWaterMark must be a whole number/);
  });
});

describe("transport fallback", () => {
  it("falls back to Connect when the WebSocket upgrade is refused, and sticks with it", async () => {
    const weather = createWeatherClient({ baseUrl: server.url, webSocketUrl: `${server.url.replace("http", "ws")}/no-tunnel-here` });
    const reading = await weather.getWeather({ cityCode: "NYC" });
    expect(reading.timestamp).toBeGreaterThan(0n);
    expect(weather.transport).toBe("connect");
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "NYC" }, { signal: abort.signal });
    const transports: string[] = [];
    sub.onState((s) => s.kind !== "closed" && transports.push(`${s.kind}:${s.transport}`));
    for await (const _ of sub) abort.abort();
    expect(transports).toEqual(["connecting:connect", "open:connect"]);
  });

  it("falls back to SSE when the upgrade is refused and a proxy blocks Connect, and the state says so", async () => {
    const weather = createWeatherClient({
      baseUrl: server.url,
      webSocketUrl: `${server.url.replace("http", "ws")}/no-tunnel-here`,
      fetch: proxyBlocksHttpRpc,
    });
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: "SIN" }, { signal: abort.signal });
    const states: string[] = [];
    sub.onState((s) => s.kind !== "closed" && states.push(`${s.kind}:${s.transport}`));
    const got: bigint[] = [];
    for await (const r of sub) {
      got.push(r.timestamp);
      if (got.length === 3) abort.abort();
    }
    expectStrictlyIncreasing(got);
    expect(states).toEqual(["connecting:websocket", "connecting:connect", "connecting:sse", "open:sse"]);
    expect(weather.transport).toBe("sse");
    expect((await weather.getWeather({ cityCode: "SIN" })).timestamp).toBeGreaterThan(0n);
  });
});

describe("the WebSocket fast path against a scripted server", () => {
  it("reports open before completed when a stream ends well with no headers and no readings", async () => {
    const { webSocket, sockets } = fakeWebSocketFactory();
    const weather = createWeatherClient({ baseUrl: "http://weather.test", transports: ["websocket"], webSocket, lifecycle: alwaysActive });
    const sub = weather.subscribeWeather({ cityCode: "NYC" });
    const states: string[] = [sub.state.kind];
    sub.onState((s) => states.push(s.kind === "closed" ? `closed:${s.reason}` : s.kind));
    await microtasks();
    const socket = sockets[0];
    if (socket === undefined) throw new Error("no socket");
    socket.accept();
    await microtasks();
    // PROTOCOL.md: a server may leave out an empty headers frame; the end alone says the stream opened and completed.
    socket.deliver([{ kind: "end", streamId: 1, code: 0, message: "", details: [], trailers: [] }]);
    await microtasks();
    expect(states.slice(-2)).toEqual(["open", "closed:completed"]);
    expect(weather.transport).toBe("websocket");
    weather.close();
  });
});
