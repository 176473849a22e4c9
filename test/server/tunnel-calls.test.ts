// The four call modes over the WebSocket tunnel at the frame level, against
// the real server: hand-built frames in, every frame back checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Frame } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema, type WeatherResponse, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { readingAt, tickAt } from "../../src/simulation/index.js";
import { city, Code, expectReadingOf } from "../helpers/connect-node.js";
import { dataFrame, messagesOf, nthMessage, openRawTunnel, type RawTunnel, streamOpener, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 20;
const { getWeather: GET, subscribeWeather: SUBSCRIBE, reportBatch: REPORT, weatherChat: CHAT } = WEATHER;

let server: Awaited<ReturnType<typeof startServer>>;
let tunnel: RawTunnel;
const open = streamOpener();

beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS });
  tunnel = await openRawTunnel(server.url, { hello: [["x-client", "tunnel-test"]] });
});

afterAll(async () => {
  tunnel.close();
  await server.close();
});

function kindsOf(streamId: number): string[] {
  return tunnel.frames.filter((f) => f.streamId === streamId).map((f) => f.kind);
}

describe("tunnel: the four call modes", () => {
  it("unary: open + data + half_close in one message; data and end come back in one message (no headers frame: there are none)", async () => {
    const { id, frame } = open(GET);
    tunnel.send([frame, dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" }), { kind: "halfClose", streamId: id }]);
    const end = await tunnel.end(id);
    expect(end).toMatchObject({ code: 0, message: "", details: [] });
    expect(kindsOf(id)).toEqual(["data", "end"]);
    const [reading] = messagesOf(tunnel, id, WeatherResponseSchema);
    if (reading === undefined) throw new Error("no reading");
    expectReadingOf(reading, city("NYC"), TICK_MS);
    const messages = new Set(tunnel.frames.flatMap((f, i) => (f.streamId === id ? [tunnel.messageOf[i]] : [])));
    expect(messages.size, "one WebSocket message for the whole answer").toBe(1);
  });

  it("unary: a handler error ends the stream with its code and message, without data", async () => {
    const { id, frame } = open(GET);
    tunnel.send([frame, dataFrame(id, GetWeatherRequestSchema, { cityCode: "XYZ" }), { kind: "halfClose", streamId: id }]);
    const end = await tunnel.end(id);
    expect(end.code).toBe(Code.InvalidArgument);
    expect(end.message).toContain('"XYZ"');
    expect(kindsOf(id)).not.toContain("data");
  });

  it("unary and server streaming need exactly one request message", async () => {
    const none = open(GET);
    const two = open(SUBSCRIBE);
    tunnel.send([
      none.frame,
      { kind: "halfClose", streamId: none.id },
      two.frame,
      dataFrame(two.id, GetWeatherRequestSchema, { cityCode: "NYC" }, { cityCode: "LON" }),
    ]);
    expect((await tunnel.end(none.id)).code).toBe(Code.InvalidArgument);
    expect((await tunnel.end(two.id)).code).toBe(Code.InvalidArgument);
  });

  it("server streaming: readings of consecutive ticks until cancel; nothing after cancel", async () => {
    const { id, frame } = open(SUBSCRIBE);
    tunnel.send([frame, dataFrame(id, GetWeatherRequestSchema, { cityCode: "LON" }), { kind: "halfClose", streamId: id }]);
    await nthMessage(tunnel, id, WeatherResponseSchema, 3);
    expect(kindsOf(id)[0]).toBe("data");
    tunnel.send([
      { kind: "cancel", streamId: id },
      { kind: "ping", streamId: 0, payload: 41 },
    ]);
    const pong = await tunnel.waitFor("pong 41", (f) => f.kind === "pong" && f.payload === 41);
    const afterCancel = tunnel.frames.indexOf(pong);
    // The server handled the cancel before the ping: after the pong, nothing more for the stream
    // (frames before it in the same message were already queued: in flight).
    // Wait a few ticks on another stream to give a still-running handler the chance to show up.
    const other = open(SUBSCRIBE);
    tunnel.send([
      other.frame,
      dataFrame(other.id, GetWeatherRequestSchema, { cityCode: "SYD" }),
      { kind: "halfClose", streamId: other.id },
    ]);
    await nthMessage(tunnel, other.id, WeatherResponseSchema, 4);
    const late = tunnel.frames.filter((f, i) => f.streamId === id && i > afterCancel);
    expect(late).toEqual([]);
    const readings = messagesOf(tunnel, id, WeatherResponseSchema);
    readings.forEach((r) => expectReadingOf(r, city("LON"), TICK_MS));
    for (let i = 1; i < readings.length; i++) {
      expect((readings[i]?.timestamp ?? 0n) - (readings[i - 1]?.timestamp ?? 0n)).toBe(BigInt(TICK_MS));
    }
    tunnel.send([{ kind: "cancel", streamId: other.id }]);
  });

  it("client streaming: readings in several data frames, half_close, one summary", async () => {
    const { id, frame } = open(REPORT);
    const sent = [1000, 1001, 1002, 1003].map((tick) => readingAt(city("SYD"), tick, 1000));
    tunnel.send([frame, dataFrame(id, WeatherResponseSchema, sent[0] ?? {})]);
    tunnel.send([dataFrame(id, WeatherResponseSchema, ...sent.slice(1)), { kind: "halfClose", streamId: id }]);
    expect((await tunnel.end(id)).code).toBe(0);
    const [summary] = messagesOf(tunnel, id, WeatherResponseSchema);
    expect(summary?.description).toBe("4 readings");
    expect(summary?.timestamp).toBe(sent[3]?.timestamp);
    expect(summary?.temperature).toBeCloseTo(sent.reduce((s, r) => s + r.temperature, 0) / 4, 9);
  });

  it("client streaming: an error from the handler mid-stream ends the stream with its code", async () => {
    const { id, frame } = open(REPORT);
    tunnel.send([frame, dataFrame(id, WeatherResponseSchema, { temperature: Number.NaN, humidity: 1 })]);
    expect((await tunnel.end(id)).code).toBe(Code.InvalidArgument);
  });

  it("bidi: each request answered at once, before half_close; then a clean end", async () => {
    const { id, frame } = open(CHAT);
    tunnel.send([frame, dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" })]);
    const first = await nthMessage(tunnel, id, WeatherResponseSchema, 1);
    expectReadingOf(first, city("NYC"), TICK_MS);
    const before = tunnel.frames.length;
    tunnel.send([dataFrame(id, GetWeatherRequestSchema, { cityCode: "TYO" })]);
    await tunnel.waitFor("a TYO reading", (f) => f.kind === "data" && f.streamId === id, before);
    tunnel.send([{ kind: "halfClose", streamId: id }]);
    expect((await tunnel.end(id)).code).toBe(0);
    const readings = messagesOf(tunnel, id, WeatherResponseSchema);
    expect(readings.length).toBeGreaterThanOrEqual(2);
    const isTokyo = (r: WeatherResponse) => {
      const expected = readingAt(city("TYO"), tickAt(Number(r.timestamp), TICK_MS), TICK_MS);
      return r.temperature === expected.temperature && r.description === expected.description;
    };
    expect(readings.some(isTokyo), "a TYO reading").toBe(true);
  });

  it("many concurrent streams of every kind on one connection", async () => {
    const cities = ["NYC", "LON", "TYO", "SYD"];
    const batch: Frame[] = [];
    const unary: number[] = [];
    const reports: number[] = [];
    const subs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const cityCode = cities[i % cities.length] ?? "NYC";
      const kind = i % 3;
      const s = open(kind === 0 ? GET : kind === 1 ? REPORT : SUBSCRIBE);
      batch.push(s.frame);
      if (kind === 1) {
        batch.push(dataFrame(s.id, WeatherResponseSchema, readingAt(city(cityCode), 5, 1000)), { kind: "halfClose", streamId: s.id });
        reports.push(s.id);
      } else {
        batch.push(dataFrame(s.id, GetWeatherRequestSchema, { cityCode }), { kind: "halfClose", streamId: s.id });
        (kind === 0 ? unary : subs).push(s.id);
      }
    }
    tunnel.send(batch);
    await Promise.all([...unary, ...reports].map((id) => tunnel.end(id).then((e) => expect(e.code).toBe(0))));
    await Promise.all(subs.map((id) => nthMessage(tunnel, id, WeatherResponseSchema, 2)));
    tunnel.send(subs.map((id) => ({ kind: "cancel", streamId: id })));
    for (const id of unary) expect(messagesOf(tunnel, id, WeatherResponseSchema)).toHaveLength(1);
    for (const id of reports) expect(messagesOf(tunnel, id, WeatherResponseSchema)[0]?.description).toBe("1 reading");
    // Answers ready in the same turn share WebSocket messages.
    const messages = new Set(tunnel.frames.flatMap((f, i) => (unary.includes(f.streamId) ? [tunnel.messageOf[i]] : [])));
    expect(messages.size).toBeLessThan(unary.length);
  });

  it("an unknown procedure ends its stream with Unimplemented; the connection keeps serving", async () => {
    const bad = open("/weather.WeatherService/Nope");
    const good = open(GET);
    tunnel.send([
      bad.frame,
      dataFrame(bad.id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: bad.id },
      good.frame,
      dataFrame(good.id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: good.id },
    ]);
    const end = await tunnel.end(bad.id);
    expect(end.code).toBe(Code.Unimplemented);
    expect(end.message).toContain("/weather.WeatherService/Nope");
    expect((await tunnel.end(good.id)).code).toBe(0);
  });

  it("ping is answered with pong carrying the same payload", async () => {
    tunnel.send([{ kind: "ping", streamId: 0, payload: 2 ** 40 + 7 }]);
    await tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 2 ** 40 + 7);
  });

  it("frames for unknown and ended streams are ignored", async () => {
    const { id, frame } = open(GET);
    tunnel.send([
      { kind: "halfClose", streamId: 999_999 },
      { kind: "windowUpdate", streamId: 1, bytes: 10 },
      { kind: "cancel", streamId: 2 },
      frame,
      dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: id },
    ]);
    expect((await tunnel.end(id)).code).toBe(0);
  });
});
