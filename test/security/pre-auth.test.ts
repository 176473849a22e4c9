// Frames held while an asynchronous `authenticate` checks a tunnel's `hello` (PROTOCOL.md §1.3 item 4) are
// capped: past `maxPreAuthFrames` frames or `maxPreAuthBytes` of their messages the connection is closed with
// 4413, while a connection whose check is quick keeps being served. Under the caps the held frames still run,
// in order, once the check succeeds.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Frame } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { type WeatherServer } from "../../src/server/index.js";
import { CLOSE_CODE } from "../../src/server/tunnel/close-codes.js";
import { connectRawTunnel, dataFrame, type RawTunnel, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const MAX_FRAMES = 100;
const MAX_BYTES = 64 * 1024;
/** `hello` with this token waits in `authenticate` until the test lets it through. */
const SLOW = ["authorization", "Bearer slow"] as const;

/** Checks of slow hellos that have not settled yet: calling one accepts that connection. */
const waiting: (() => void)[] = [];
/** Called when the next slow hello reaches `authenticate`. */
let onSlowHello: (() => void) | undefined;
let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer({
    tickMs: 100,
    authenticate: (headers) =>
      headers.get("authorization") === "Bearer slow"
        ? new Promise((resolve) => {
            waiting.push(() => resolve("slow user"));
            onSlowHello?.();
          })
        : Promise.resolve("quick user"),
    tunnel: { maxPreAuthFrames: MAX_FRAMES, maxPreAuthBytes: MAX_BYTES },
  });
});
afterAll(async () => {
  for (const accept of waiting) accept();
  await server.close();
});

const pings = (n: number, from = 1): Frame[] => Array.from({ length: n }, (_, i) => ({ kind: "ping", streamId: 0, payload: from + i }));

/** A subscriber on a connection whose check settles at once: it must keep getting readings. */
async function quickSubscriber(): Promise<{ tunnel: RawTunnel; readings: () => number; more: (n: number) => Promise<void> }> {
  const tunnel = await connectRawTunnel(tunnelUrl(server.url));
  tunnel.send([
    { kind: "open", streamId: 1, path: WEATHER.subscribeWeather, headers: [], initialWindow: 0 },
    dataFrame(1, GetWeatherRequestSchema, { cityCode: "NYC" }),
    { kind: "halfClose", streamId: 1 },
  ]);
  const readings = () => tunnel.dataOf(1).reduce((n, d) => n + d.messages.length, 0);
  const more = async (n: number) => {
    const target = readings() + n;
    while (readings() < target) await tunnel.waitFor("a reading", (f) => f.kind === "data" && f.streamId === 1, tunnel.frames.length);
  };
  await more(1);
  return { tunnel, readings, more };
}

it("closes with 4413 a connection that sends more than maxPreAuthFrames frames while its hello is checked", async () => {
  const quick = await quickSubscriber();
  const slow = await connectRawTunnel(tunnelUrl(server.url), { hello: [SLOW] });
  slow.send(pings(MAX_FRAMES / 2));
  slow.send(pings(MAX_FRAMES / 2 + 1, MAX_FRAMES / 2 + 1));
  expect((await slow.closed).code).toBe(CLOSE_CODE.tooMuchBeforeAuth);
  expect(slow.frames).toEqual([]); // nothing held was acted on
  await quick.more(2);
  quick.tunnel.send(pings(1, 99));
  await quick.tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 99);
  quick.tunnel.close();
});

it("closes with 4413 a connection whose held frames keep more than maxPreAuthBytes of messages", async () => {
  const quick = await quickSubscriber();
  const slow = await connectRawTunnel(tunnelUrl(server.url), { hello: [SLOW] });
  // Few frames, big messages: a client-streaming upload's data, 16 KiB a message.
  slow.send([{ kind: "open", streamId: 1, path: WEATHER.reportBatch, headers: [], initialWindow: 0 }]);
  const chunk: Frame = { kind: "data", streamId: 1, chunks: [new Uint8Array(16 * 1024)] };
  for (let i = 0; i < MAX_BYTES / (16 * 1024) + 1; i++) slow.send([chunk]);
  expect((await slow.closed).code).toBe(CLOSE_CODE.tooMuchBeforeAuth);
  expect(slow.frames).toEqual([]);
  await quick.more(2);
  quick.tunnel.close();
});

it("runs the frames held under both caps, in order, once the check succeeds", async () => {
  const helloChecked = new Promise<void>((resolve) => (onSlowHello = resolve));
  const slow = await connectRawTunnel(tunnelUrl(server.url), { hello: [SLOW] });
  await helloChecked;
  slow.send(pings(MAX_FRAMES - 1));
  // The ping after the held ones is answered only after them: all were held, none dropped.
  slow.send(pings(1, MAX_FRAMES));
  // Held until accepted: a quick connection's round trip after these sends shows none was answered yet.
  const quick = await connectRawTunnel(tunnelUrl(server.url));
  quick.send(pings(1, 7));
  await quick.waitFor("pong", (f) => f.kind === "pong" && f.payload === 7);
  quick.close();
  expect(slow.frames).toEqual([]);
  waiting.at(-1)?.();
  await slow.waitFor("the last pong", (f) => f.kind === "pong" && f.payload === MAX_FRAMES);
  expect(slow.frames.map((f) => (f.kind === "pong" ? f.payload : f.kind))).toEqual(Array.from({ length: MAX_FRAMES }, (_, i) => i + 1));
  slow.close();
});
