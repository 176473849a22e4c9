// Attack 3 of issue 20: slow clients that hold sockets. Node's own
// headersTimeout and requestTimeout run although the HTTP/1.1 server is fed
// by the protocol-sniffing listener; an h2c stream whose body never comes is
// reset, an idle h2c session is closed; connections are capped in all and
// per client address.
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { WeatherServer, WeatherServerOptions } from "../../src/server/index.js";
import { WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { MAX_HEALTHY_GAP_MS, RSS_BOUND_BYTES, sampleRss, watchHealthy } from "./harness.js";

let server: (WeatherServer & { url: string }) | undefined;
const open: net.Socket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(limits: WeatherServerOptions["limits"]): Promise<WeatherServer & { url: string }> {
  server = await startServer({ limits });
  return server;
}

/** A raw TCP connection to the server that sends `bytes` and records what comes back until the server closes it. */
async function hold(url: string, bytes: string): Promise<{ socket: net.Socket; answer: Promise<string> }> {
  const socket = net.connect(Number(new URL(url).port), "127.0.0.1");
  open.push(socket);
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  if (bytes !== "") socket.write(bytes);
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  const answer = new Promise<string>((resolve) => socket.once("close", () => resolve(text)));
  return { socket, answer };
}

describe("timeouts against slow clients", () => {
  it("answers 408 and closes a connection whose request head does not complete within headersTimeoutMs", async () => {
    const s = await start({ headersTimeoutMs: 300 });
    const { answer } = await hold(s.url, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers 408 and closes a connection whose request body does not arrive within requestTimeoutMs", async () => {
    const s = await start({ requestTimeoutMs: 300 });
    const { answer } = await hold(
      s.url,
      `POST ${WEATHER.getWeather} HTTP/1.1\r\nHost: x\r\nContent-Type: application/proto\r\nContent-Length: 100\r\n\r\nab`,
    );
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes an h2c session that stays idle for http2IdleTimeoutMs", async () => {
    const s = await start({ http2IdleTimeoutMs: 300 });
    const session = http2.connect(s.url);
    session.on("error", () => undefined);
    await new Promise<void>((resolve) => session.once("close", () => resolve()));
    expect(session.closed || session.destroyed).toBe(true);
  });

  it("keeps an h2c session that carries a live SSE stream past http2IdleTimeoutMs, and closes it once nothing moves", async () => {
    server = await startServer({ tickMs: 50, limits: { http2IdleTimeoutMs: 400 } });
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    let closedAt = Number.NaN;
    session.once("close", () => (closedAt = performance.now()));
    const stream = session.request({
      ":path": `/sse/weather.WeatherService/SubscribeWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`,
    });
    stream.on("error", () => undefined);
    let events = 0;
    stream.on("data", (chunk: Buffer) => (events += chunk.toString("utf8").match(/(^|\n)id: /g)?.length ?? 0));
    // 30 readings, 1.5 s: well past the idle limit, with bytes moving all the while.
    await expect.poll(() => events, { timeout: 10_000 }).toBeGreaterThanOrEqual(30);
    expect(session.closed || session.destroyed).toBe(false);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const quietFrom = performance.now();
    await expect.poll(() => Number.isNaN(closedAt), { timeout: 10_000 }).toBe(false);
    expect(closedAt - quietFrom).toBeGreaterThanOrEqual(300);
  });

  it("resets an h2c stream whose request body does not arrive within requestTimeoutMs", async () => {
    const s = await start({ requestTimeoutMs: 300 });
    const session = http2.connect(s.url);
    session.on("error", () => undefined);
    const stream = session.request({ ":method": "POST", ":path": WEATHER.getWeather, "content-type": "application/proto" });
    stream.on("error", () => undefined);
    stream.write(Buffer.from([0x0a]));
    const code = await new Promise<number>((resolve) => stream.once("close", () => resolve(stream.rstCode)));
    expect(code).toBe(http2.constants.NGHTTP2_CANCEL);
    session.close();
  });

  it("announces http2MaxConcurrentStreams to h2c clients", async () => {
    const s = await start({ http2MaxConcurrentStreams: 7 });
    const session = http2.connect(s.url);
    session.on("error", () => undefined);
    const settings = await new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve));
    expect(settings.maxConcurrentStreams).toBe(7);
    session.close();
  });
});

describe("connection caps", () => {
  it("closes connections over maxConnectionsPerAddress at once; RSS bounded and a healthy subscriber (inside the cap) undelayed", async () => {
    const s = await start({ maxConnectionsPerAddress: 50, headersTimeoutMs: 60_000 });
    const healthy = await watchHealthy(s.url);
    await healthy.readings(2);
    const from = healthy.count;
    const rss = sampleRss();
    // 49 more partial-header sockets fill the cap; the next 200 are closed at accept.
    const held = await Promise.all(Array.from({ length: 49 }, () => hold(s.url, "GET / HTTP/1.1\r\n")));
    const refused = await Promise.all(Array.from({ length: 200 }, () => hold(s.url, "GET / HTTP/1.1\r\n")));
    for (const r of refused) expect(await r.answer).toBe("");
    // Still open: closing one frees a place.
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);
    const first = held[0];
    if (first === undefined) throw new Error("no socket held");
    first.socket.destroy();
    await first.answer;
    const again = await hold(s.url, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(await again.answer).toMatch(/^HTTP\/1\.1 200/);
    await healthy.readings(from + 2);
    expect(rss.stop()).toBeLessThan(RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    healthy.close();
  });

  it("closes connections over maxConnections at once", async () => {
    const s = await start({ maxConnections: 3 });
    const held = await Promise.all(Array.from({ length: 3 }, () => hold(s.url, "GET / HTTP/1.1\r\n")));
    const refused = await hold(s.url, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await refused.answer).toBe("");
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);
  });
});
