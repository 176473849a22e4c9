// The tunnel connection as a whole: the upgrade checks, hello (metadata and
// authentication), keepalive on an injected clock, and shutdown.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TUNNEL_SUBPROTOCOL } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { dataFrame, nthMessage, openRawTunnel, streamOpener, tunnelUrl, upgradeStatus, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const APP_ORIGIN = "https://app.example.com";

/** Echoes what the handler saw of two request headers, so tests can check hello/open merging. */
const echoHeaders: Interceptor = (next) => async (req) => {
  const res = await next(req);
  res.header.set("x-saw-client", req.header.get("x-client") ?? "(none)");
  res.header.set("x-saw-both", req.header.get("x-both") ?? "(none)");
  return res;
};

/** Accepts `Bearer good` after an asynchronous check, so frames arriving meanwhile must wait. */
async function authenticate(headers: Headers): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const authorization = headers.get("authorization");
  if (authorization === null) throw new ConnectError("send an authorization header in hello", Code.Unauthenticated);
  if (authorization !== "Bearer good") throw new ConnectError("this token may not use the tunnel", Code.PermissionDenied);
}

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer({
    tickMs: 20,
    allowedOrigins: [APP_ORIGIN],
    interceptors: [echoHeaders],
    tunnel: { authenticate },
  });
});

afterAll(async () => {
  await server.close();
});

describe("tunnel: upgrade", () => {
  it("accepts the tunnel subprotocol from an allowed origin or from no origin", async () => {
    expect(await upgradeStatus(tunnelUrl(server.url), [TUNNEL_SUBPROTOCOL], APP_ORIGIN)).toBe(101);
    expect(await upgradeStatus(tunnelUrl(server.url), ["other", TUNNEL_SUBPROTOCOL])).toBe(101);
  });

  it("refuses with 400 when the subprotocol is not offered", async () => {
    expect(await upgradeStatus(tunnelUrl(server.url), [])).toBe(400);
    expect(await upgradeStatus(tunnelUrl(server.url), ["weather-tunnel.v2"], APP_ORIGIN)).toBe(400);
  });

  it("refuses with 403 when Origin is present and not allowed", async () => {
    expect(await upgradeStatus(tunnelUrl(server.url), [TUNNEL_SUBPROTOCOL], "https://evil.example.com")).toBe(403);
  });

  it("answers 404 for a WebSocket upgrade on another path", async () => {
    expect(await upgradeStatus(`${server.url.replace(/^http/, "ws")}/other`, [TUNNEL_SUBPROTOCOL])).toBe(404);
  });
});

describe("tunnel: hello", () => {
  it("hello headers reach every stream's handler; a stream's own header of the same name wins", async () => {
    const tunnel = await openRawTunnel(server.url, {
      hello: [
        ["authorization", "Bearer good"],
        ["x-client", "from-hello"],
        ["x-both", "from-hello"],
      ],
    });
    const open = streamOpener();
    const s = open(WEATHER.getWeather, [["x-both", "from-open"]]);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "NYC" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(0);
    const headers = tunnel.frames.find((f) => f.kind === "headers" && f.streamId === s.id);
    expect(headers).toMatchObject({
      headers: expect.arrayContaining([
        ["x-saw-client", "from-hello"],
        ["x-saw-both", "from-open"],
      ]) as unknown,
    });
    const names = headers?.kind === "headers" ? headers.headers.map(([n]) => n) : [];
    expect(names.filter((n) => n.startsWith("content-") || n.startsWith("connect-"))).toEqual([]);
    tunnel.close();
  });

  it("frames in the same message as hello wait for an asynchronous authenticate", async () => {
    const tunnel = await openRawTunnel(server.url, { hello: false });
    tunnel.send([
      { kind: "hello", streamId: 0, headers: [["authorization", "Bearer good"]] },
      { kind: "open", streamId: 1, path: WEATHER.subscribeWeather, headers: [], initialWindow: 0 },
      dataFrame(1, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: 1 },
    ]);
    await nthMessage(tunnel, 1, WeatherResponseSchema, 2);
    tunnel.close();
  });

  it("an authenticate hook rejecting with Unauthenticated closes with 4401, PermissionDenied with 4403", async () => {
    const anonymous = await openRawTunnel(server.url);
    const denied = await openRawTunnel(server.url, { hello: [["authorization", "Bearer bad"]] });
    const [a, d] = await Promise.all([anonymous.closed, denied.closed]);
    expect(a).toEqual({ code: 4401, reason: "send an authorization header in hello" });
    expect(d).toEqual({ code: 4403, reason: "this token may not use the tunnel" });
  });
});

describe("tunnel: keepalive", () => {
  it("closes with 4000 once nothing arrived for keepaliveTimeoutMs of the injected clock", async () => {
    const clock = createFakeClock(Date.now());
    const quiet = await startServer({ tickMs: 1000, clock, tunnel: { keepaliveTimeoutMs: 30_000 } });
    try {
      const tunnel = await openRawTunnel(quiet.url);
      tunnel.send([{ kind: "ping", streamId: 0, payload: 1 }]);
      await tunnel.waitFor("pong 1", (f) => f.kind === "pong" && f.payload === 1);
      clock.advance(29_999);
      tunnel.send([{ kind: "ping", streamId: 0, payload: 2 }]);
      await tunnel.waitFor("pong 2", (f) => f.kind === "pong" && f.payload === 2);
      clock.advance(29_999); // 29 999 ms after the last ping: still alive
      tunnel.send([{ kind: "ping", streamId: 0, payload: 3 }]);
      await tunnel.waitFor("pong 3", (f) => f.kind === "pong" && f.payload === 3);
      clock.advance(30_000);
      const closed = await tunnel.closed;
      expect(closed.code).toBe(4000);
      expect(closed.reason).toContain("30000 ms");
    } finally {
      await quiet.close();
    }
  });
});

describe("tunnel: shutdown", () => {
  it("server.close() sends go_away, ends open streams with Unavailable and closes with 1001", async () => {
    const closing = await startServer({ tickMs: 20 });
    const tunnel = await openRawTunnel(closing.url);
    const open = streamOpener();
    const sub = open(WEATHER.subscribeWeather);
    const chat = open(WEATHER.weatherChat);
    tunnel.send([
      sub.frame,
      dataFrame(sub.id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: sub.id },
      chat.frame,
      dataFrame(chat.id, GetWeatherRequestSchema, { cityCode: "LON" }),
    ]);
    await nthMessage(tunnel, sub.id, WeatherResponseSchema, 1);
    await nthMessage(tunnel, chat.id, WeatherResponseSchema, 1);
    await closing.close();
    const closed = await tunnel.closed;
    expect(closed.code).toBe(1001);
    const goAway = tunnel.frames.find((f) => f.kind === "goAway");
    expect(goAway).toMatchObject({ kind: "goAway", lastStreamId: chat.id });
    for (const id of [sub.id, chat.id]) {
      const end = await tunnel.end(id);
      expect(end.code).toBe(Code.Unavailable);
      expect(tunnel.frames.indexOf(end)).toBeGreaterThan(tunnel.frames.indexOf(goAway ?? end));
    }
  });
});
