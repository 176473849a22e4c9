// Rows of SECURITY.md's bad-input table not covered by the conformance
// runner or the transport tests: malformed HTTP, SSE and upgrade requests,
// each with the answer the table promises.
import * as crypto from "node:crypto";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WeatherServer } from "../../src/server/index.js";
import { h1Request } from "../helpers/raw-http.js";
import { openRawTunnel, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const sseGet = (query: string) => h1Request(server.url, { method: "GET", path: `/sse${WEATHER.getWeather}?${query}` });

describe("SSE GET query", () => {
  it.each([
    ["a space", "Cg NYC"],
    ["a stray character", "CgNO!YQ"],
    ["an impossible length", "CgNOW"],
    ["padding in the middle", "Cg==NY"],
  ])("answers base64 with %s with 400 invalid_argument", async (_what, message) => {
    const res = await sseGet(`encoding=proto&base64=1&message=${encodeURIComponent(message)}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
  });

  it.each([
    ["standard, padded", "CgNOWUM="],
    ["URL-safe, unpadded", "CgNOWUM"],
  ])("takes %s base64", async (_what, message) => {
    const res = await sseGet(`encoding=proto&base64=1&message=${message}`);
    expect(res.status).toBe(200);
    expect(res.body).not.toContain("invalid_argument");
  });

  it("answers JSON that does not parse in the end event, as invalid_argument", async () => {
    const res = await sseGet(`encoding=json&message=${encodeURIComponent("{nope")}`);
    expect(res.body).toMatch(/event: end\ndata: \{"code":"invalid_argument"/);
  });

  it.each([
    ["truncated protobuf", Uint8Array.of(0x0a, 0x05, 0x4e, 0x59)],
    ["an invalid wire type", Uint8Array.of(0x0f, 0x01)],
    ["invalid UTF-8 in a string", Uint8Array.of(0x0a, 0x02, 0xff, 0xfe)],
  ])("answers a message with %s in the end event, as invalid_argument, by GET and by POST", async (_what, message) => {
    const byGet = await sseGet(`encoding=proto&base64=1&message=${encodeURIComponent(Buffer.from(message).toString("base64"))}`);
    expect(byGet.body).toMatch(/event: end\ndata: \{"code":"invalid_argument","message":"parse binary: /);
    const byPost = await h1Request(server.url, {
      method: "POST",
      path: `/sse${WEATHER.getWeather}`,
      headers: { "content-type": "application/proto" },
      body: Buffer.from(message),
    });
    expect(byPost.body).toMatch(/event: end\ndata: \{"code":"invalid_argument","message":"parse binary: /);
  });

  it("answers an unknown encoding with 400", async () => {
    expect((await sseGet("encoding=xml&message=x")).status).toBe(400);
  });
});

describe("Last-Event-ID on an SSE subscription", () => {
  const subscribe = encodeURIComponent('{"cityCode":"NYC"}');
  it.each([
    ["negative", "-5"],
    ["over 19 digits", "99999999999999999999"],
    ["not a number", "abc"],
    ["beyond the history window in the future", String(Date.now() + 3_600_000)],
  ])("ends a subscription with a %s Last-Event-ID with invalid_argument, header or query", async (_what, id) => {
    const byHeader = await h1Request(server.url, {
      method: "GET",
      path: `/sse${WEATHER.subscribeWeather}?encoding=json&message=${subscribe}`,
      headers: { "last-event-id": id },
    });
    const byQuery = await h1Request(server.url, {
      method: "GET",
      path: `/sse${WEATHER.subscribeWeather}?encoding=json&message=${subscribe}&lastEventId=${id}`,
    });
    for (const res of [byHeader, byQuery]) expect(res.body).toMatch(/event: end\ndata: \{"code":"invalid_argument"/);
  });
});

describe("content types", () => {
  it("answers Connect JSON that does not parse with 400 invalid_argument", async () => {
    const res = await h1Request(server.url, {
      method: "POST",
      path: WEATHER.getWeather,
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
  });

  it("answers a Connect POST with a content type it does not serve with 415", async () => {
    const res = await h1Request(server.url, {
      method: "POST",
      path: WEATHER.getWeather,
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(res.status).toBe(415);
  });

  it("answers an SSE POST that is not application/proto or application/json with 400 invalid_argument", async () => {
    const res = await h1Request(server.url, {
      method: "POST",
      path: `/sse${WEATHER.getWeather}`,
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(res.status).toBe(400);
  });
});

describe("tunnel ping payloads", () => {
  it("echoes every uint64 payload exactly, 2^56 and 2^64 - 1 included, and keeps the connection", async () => {
    const tunnel = await openRawTunnel(server.url);
    try {
      const payloads = [7, 2n ** 53n, 2n ** 56n, 2n ** 63n + 1n, 2n ** 64n - 1n];
      tunnel.send(payloads.map((payload) => ({ kind: "ping", streamId: 0, payload })));
      for (const payload of payloads) {
        await tunnel.waitFor(`pong ${payload}`, (f) => f.kind === "pong" && f.payload === payload);
      }
      // Still open and serving: one more round trip after the large ones.
      tunnel.send([{ kind: "ping", streamId: 0, payload: 8 }]);
      await tunnel.waitFor("pong 8", (f) => f.kind === "pong" && f.payload === 8);
      expect(tunnel.frames.filter((f) => f.kind === "pong")).toHaveLength(payloads.length + 1);
    } finally {
      tunnel.close();
    }
  });

  it("closes with 1002 on a payload above 2^64 - 1", async () => {
    const tunnel = await openRawTunnel(server.url);
    tunnel.sendRaw(Uint8Array.of(0x0a, 0x0d, 0x52, 0x0b, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02));
    expect((await tunnel.closed).code).toBe(1002);
  });
});

/** The status line the server answers a hand-written upgrade request with. */
async function upgrade(headers: Record<string, string>): Promise<string> {
  const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${lines.join("")}\r\n`);
  const text = await new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
  socket.destroy();
  return text.split("\r\n", 1)[0] ?? "";
}

describe("WebSocket upgrade", () => {
  const key = crypto.randomBytes(16).toString("base64");
  it("answers a Sec-WebSocket-Version other than 13 (or the legacy 8 that ws also takes) with 400", async () => {
    expect(
      await upgrade({ "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "7", "Sec-WebSocket-Protocol": "weather-tunnel.v1" }),
    ).toMatch(/^HTTP\/1\.1 400/);
  });

  it("answers a missing or malformed Sec-WebSocket-Key with 400", async () => {
    expect(await upgrade({ "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "weather-tunnel.v1" })).toMatch(/^HTTP\/1\.1 400/);
    expect(
      await upgrade({ "Sec-WebSocket-Key": "short", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "weather-tunnel.v1" }),
    ).toMatch(/^HTTP\/1\.1 400/);
  });

  it("answers an upgrade without the weather-tunnel.v1 subprotocol with 400", async () => {
    expect(await upgrade({ "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "chat" })).toMatch(
      /^HTTP\/1\.1 400/,
    );
  });
});
