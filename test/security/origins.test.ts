// Item 1 of issue 20: an origin allowlist on every transport. A request
// whose Origin is not listed is refused (403) before any handler runs: the
// WebSocket upgrade, Connect, gRPC-Web and SSE. `null` is never allowed nor
// echoed. A request without Origin (not a browser) proceeds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WeatherServer } from "../../src/server/index.js";
import { h1Request } from "../helpers/raw-http.js";
import { tunnelUrl, upgradeStatus, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";

/** GetWeather for NYC as one protobuf message. */
const NYC = String.fromCharCode(0x0a, 0x03) + "NYC";

let server: WeatherServer & { url: string };
let open: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer({ allowedOrigins: [APP] });
  open = await startServer();
});
afterAll(async () => {
  await server.close();
  await open.close();
});

const requests = {
  Connect: (origin?: string) =>
    h1Request(server.url, {
      method: "POST",
      path: WEATHER.getWeather,
      headers: { "content-type": "application/json", ...(origin === undefined ? {} : { origin }) },
      body: '{"cityCode":"NYC"}',
    }),
  "gRPC-Web": (origin?: string) =>
    h1Request(server.url, {
      method: "POST",
      path: WEATHER.getWeather,
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...(origin === undefined ? {} : { origin }) },
      // One envelope, all bytes ASCII: flags 0, length 5, the message.
      body: `\0\0\0\0${String.fromCharCode(NYC.length)}${NYC}`,
    }),
  SSE: (origin?: string) =>
    h1Request(server.url, {
      method: "GET",
      path: `/sse${WEATHER.getWeather}?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`,
      headers: origin === undefined ? {} : { origin },
    }),
};

describe.each(Object.entries(requests))("%s with allowedOrigins set", (_name, request) => {
  it("serves a listed origin, with CORS headers naming it", async () => {
    const res = await request(APP);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
  });

  it("refuses another origin with 403 before any handler runs", async () => {
    const res = await request(EVIL);
    expect(res.status).toBe(403);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses the opaque origin null", async () => {
    const res = await request("null");
    expect(res.status).toBe(403);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("serves a request without Origin (a non-browser client), with no CORS headers", async () => {
    const res = await request();
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("the WebSocket tunnel upgrade", () => {
  const protocols = ["weather-tunnel.v1"];
  it("opens for a listed origin and without Origin; refuses another origin and null with 403", async () => {
    expect(await upgradeStatus(tunnelUrl(server.url), protocols, APP)).toBe(101);
    expect(await upgradeStatus(tunnelUrl(server.url), protocols)).toBe(101);
    expect(await upgradeStatus(tunnelUrl(server.url), protocols, EVIL)).toBe(403);
    expect(await upgradeStatus(tunnelUrl(server.url), protocols, "null")).toBe(403);
  });
});

describe('the development default "*"', () => {
  it("echoes any real origin but never null, on HTTP and the upgrade", async () => {
    const preflight = (origin: string) =>
      h1Request(open.url, {
        method: "OPTIONS",
        path: WEATHER.getWeather,
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    const ok = await preflight(EVIL);
    expect(ok.status).toBe(204);
    expect(ok.headers["access-control-allow-origin"]).toBe(EVIL);
    const opaque = await preflight("null");
    expect(opaque.status).toBe(403);
    expect(opaque.headers["access-control-allow-origin"]).toBeUndefined();
    expect(await upgradeStatus(tunnelUrl(open.url), ["weather-tunnel.v1"], "null")).toBe(403);
  });
});
