// Attack 2 of issue 20: a tunnel client that never reads. Every frame the
// server sends (data, pong, end) counts towards the socket's bufferedAmount;
// over `maxBufferedBytes` the server stops pulling from handlers, and a client
// that reaches twice it, or stays over it for `slowConsumerTimeoutMs`, is
// closed with 4008. Streams' windows are capped by `maxStreamWindowBytes`.
import * as crypto from "node:crypto";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER } from "../../src/codec/resume.js";
import { encodeFrameBatch, type Frame, TUNNEL_SUBPROTOCOL } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { createTunnelHandler, createWeatherRouter, type WeatherServer } from "../../src/server/index.js";
import { CLOSE_CODE } from "../../src/server/tunnel/close-codes.js";
import type { TunnelSocket } from "../../src/server/tunnel/socket.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { dataFrame, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { MAX_HEALTHY_GAP_MS, RSS_BOUND_BYTES, sampleRss, TICK_MS, watchHealthy } from "./harness.js";

const CAP = 1024 * 1024;

/** One masked binary WebSocket frame (clients must mask). */
function wsFrame(payload: Uint8Array): Buffer {
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x82;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, mask, body]);
}

/** A tunnel client over a bare TCP socket that completes the upgrade and then never reads again. */
async function nonReadingClient(baseUrl: string): Promise<net.Socket> {
  const { port } = new URL(baseUrl);
  const socket = net.connect(Number(port), "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: ${TUNNEL_SUBPROTOCOL}\r\n\r\n`,
  );
  await new Promise<void>((resolve) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      resolve();
    };
    socket.on("data", onData);
  });
  socket.write(wsFrame(encodeFrameBatch([{ kind: "hello", streamId: 0, headers: [] }])));
  return socket;
}

describe("a client that never reads (real server)", () => {
  let server: WeatherServer & { url: string };
  beforeAll(async () => {
    server = await startServer({ tickMs: TICK_MS, shutdownGraceMs: 500, tunnel: { maxBufferedBytes: CAP } });
  });
  afterAll(() => server.close());

  it("flooding pings is cut once the unread pongs reach twice maxBufferedBytes; RSS bounded, a healthy subscriber undelayed", async () => {
    const healthy = await watchHealthy(server.url);
    await healthy.readings(2);
    const from = healthy.count;
    const rss = sampleRss();
    const attacker = await nonReadingClient(server.url);
    const gone = new Promise<void>((resolve) => attacker.once("close", () => resolve()));
    const pings: Frame[] = Array.from({ length: 4096 }, (_, i) => ({ kind: "ping", streamId: 0, payload: i + 1 }));
    const message = wsFrame(encodeFrameBatch(pings)); // about 16 KiB of pings per message
    let sent = 0;
    while (!attacker.destroyed && sent < 100 * 1024 * 1024) {
      sent += message.length;
      // As fast as the server takes them: each write waits for the previous one to be handed to the kernel.
      await Promise.race([new Promise((resolve) => attacker.write(message, resolve)), gone]);
    }
    attacker.destroy();
    await gone;
    // Cut long before 100 MiB: about the kernel's socket buffers plus twice the cap.
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    await healthy.readings(from + 2);
    expect(rss.stop()).toBeLessThan(RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    healthy.close();
  });
});

/** A socket whose buffer only drains when the test says so. */
function stuckSocket(): TunnelSocket & { sent: number; closedWith: number | undefined; drain(): void; deliver(frames: Frame[]): void } {
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    sent: 0,
    closedWith: undefined as number | undefined,
    onmessage: null as ((event: { data: unknown }) => void) | null,
    onclose: null as (() => void) | null,
    send(data: Uint8Array) {
      socket.bufferedAmount += data.length;
      socket.sent += data.length;
    },
    close(code: number) {
      socket.closedWith ??= code;
      socket.readyState = 3;
      socket.onclose?.();
    },
    drain() {
      socket.bufferedAmount = 0;
    },
    deliver(frames: Frame[]) {
      socket.onmessage?.({ data: encodeFrameBatch(frames) });
    },
  };
  return socket;
}

const afterTurns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe("output accounting (tunnel handler, fake socket and clock)", () => {
  const start = Date.UTC(2026, 0, 1);
  /** A subscription that replays the 10 minutes of history (600 readings at a 1 s tick) before going live. */
  const subscribe = (id: number, window = 0): Frame[] => [
    {
      kind: "open",
      streamId: id,
      path: WEATHER.subscribeWeather,
      headers: [[RESUME_AFTER_HEADER, String(start - 590_000)]],
      initialWindow: window,
    },
    dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" }),
    { kind: "halfClose", streamId: id },
  ];

  it("stops pulling from handlers over maxBufferedBytes, goes on once drained, and closes 4008 after slowConsumerTimeoutMs", async () => {
    const clock = createFakeClock(start);
    const router = createWeatherRouter({ tickMs: 1000, clock });
    const handler = createTunnelHandler({
      handlers: router.handlers,
      clock,
      maxBufferedBytes: 1024,
      slowConsumerTimeoutMs: 5000,
      keepaliveTimeoutMs: 600_000,
    });
    const socket = stuckSocket();
    handler.handle(socket);
    socket.deliver([{ kind: "hello", streamId: 0, headers: [] }, ...subscribe(1, 64 * 1024 * 1024)]);
    await afterTurns(20);
    // The replay of 10 minutes of history is far more than 1 KiB: the server stopped at the cap.
    const first = socket.sent;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(1024 + 64 * 1024);
    await afterTurns(20);
    expect(socket.sent).toBe(first);
    socket.drain();
    clock.advance(10);
    await afterTurns(20);
    expect(socket.sent).toBeGreaterThan(first);
    clock.advance(5000);
    await afterTurns(5);
    expect(socket.closedWith).toBe(CLOSE_CODE.slowConsumer);
    await handler.close();
  });

  it("closes 4008 at once when unread control frames (pongs) reach twice maxBufferedBytes", async () => {
    const clock = createFakeClock(start);
    const router = createWeatherRouter({ tickMs: 1000, clock });
    const handler = createTunnelHandler({ handlers: router.handlers, clock, maxBufferedBytes: 1024 });
    const socket = stuckSocket();
    handler.handle(socket);
    const pings: Frame[] = Array.from({ length: 2000 }, (_, i) => ({ kind: "ping", streamId: 0, payload: i }));
    socket.deliver([{ kind: "hello", streamId: 0, headers: [] }, ...pings]);
    await afterTurns();
    expect(socket.closedWith).toBe(CLOSE_CODE.slowConsumer);
    await handler.close();
  });

  it("caps a stream's send credit at maxStreamWindowBytes whatever initial_window and window_update say", async () => {
    const clock = createFakeClock(start);
    const router = createWeatherRouter({ tickMs: 1000, clock });
    const handler = createTunnelHandler({ handlers: router.handlers, clock, maxStreamWindowBytes: 2048, keepaliveTimeoutMs: 600_000 });
    const socket = stuckSocket();
    handler.handle(socket);
    socket.deliver([
      { kind: "hello", streamId: 0, headers: [] },
      ...subscribe(1, 2 ** 31),
      { kind: "windowUpdate", streamId: 1, bytes: 2 ** 40 },
    ]);
    await afterTurns(20);
    // Each reading is under 100 bytes; the replay stops within one message of the cap.
    expect(socket.sent).toBeLessThan(2048 + 512);
    expect(socket.sent).toBeGreaterThan(1024);
    await handler.close();
  });
});
