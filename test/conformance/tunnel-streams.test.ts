// Conformance, streams (PROTOCOL.md §1.4–1.6): ids, the four call kinds,
// headers, deadlines, per-stream errors and flow control. Runs against
// TUNNEL_URL when set, else against a reference server it starts; the server
// must serve weather.WeatherService.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Frame, HeaderList } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { connectRawTunnel, dataFrame, messagesOf, type RawTunnel, WEATHER } from "../helpers/raw-tunnel.js";
import { referenceOnly, roundTrip, startReference, useTarget } from "./target.js";

const target = useTarget();
const DEFAULT_WINDOW = 262_144;

const open = (streamId: number, path: string, headers: HeaderList = [], initialWindow = 0): Frame => ({
  kind: "open",
  streamId,
  path,
  headers,
  initialWindow,
});
const request = (streamId: number, cityCode = "NYC") => dataFrame(streamId, GetWeatherRequestSchema, { cityCode });
const halfClose = (streamId: number): Frame => ({ kind: "halfClose", streamId });
/** A unary or server-streaming call: open, its one request, half_close. */
const call = (streamId: number, path: string = WEATHER.getWeather, headers: HeaderList = []): Frame[] => [
  open(streamId, path, headers),
  request(streamId),
  halfClose(streamId),
];
/** A request data frame of `count` WeatherResponse envelopes of about `bytes` each. */
const readings = (streamId: number, count: number, bytes: number): Frame =>
  dataFrame(streamId, WeatherResponseSchema, ...Array.from({ length: count }, () => ({ description: "x".repeat(bytes) })));

/** `end.code` of a call that succeeded (`Code` has no member for it). */
const OK = 0;

async function expectCode(t: RawTunnel, streamId: number, code: Code | typeof OK): Promise<void> {
  const end = await t.end(streamId);
  expect({ streamId, code: end.code, message: end.message }).toMatchObject({ streamId, code });
}

describe("§1.4 stream ids", () => {
  it.each([
    ["repeats an id", [1, 1]],
    ["goes below an earlier id", [5, 3]],
    ["uses 0", [0]],
    ["uses 2^31", [2 ** 31]],
  ])("closes with 1002 when an open %s", async (_what, ids) => {
    const t = await target.connect();
    for (const id of ids) t.send(call(id));
    expect((await t.closed).code).toBe(1002);
  });

  it("accepts ids with gaps, up to 2^31 − 1", async () => {
    const t = await target.connect();
    t.send([...call(2), ...call(7), ...call(2 ** 31 - 1)]);
    for (const id of [2, 7, 2 ** 31 - 1]) await expectCode(t, id, OK);
  });
});

describe("§1.4 the four call kinds", () => {
  it("unary: headers (if any) before data, one response message, end with code 0", async () => {
    const t = await target.connect();
    t.send(call(1));
    const end = await t.end(1);
    expect(end.code).toBe(0);
    const ofStream = t.frames.filter((f) => f.streamId === 1);
    expect(ofStream.at(-1)).toBe(end);
    const headers = ofStream.findIndex((f) => f.kind === "headers");
    expect(headers).toBeLessThanOrEqual(0); // absent, or first
    expect(messagesOf(t, 1, WeatherResponseSchema)).toHaveLength(1);
  });

  it("unary: zero or two request messages end the stream with InvalidArgument", async () => {
    const t = await target.connect();
    t.send([open(1, WEATHER.getWeather), halfClose(1)]);
    t.send([open(2, WEATHER.getWeather), request(2), request(2), halfClose(2)]);
    await expectCode(t, 1, Code.InvalidArgument);
    await expectCode(t, 2, Code.InvalidArgument);
  });

  it("an unknown procedure ends with Unimplemented and leaves the connection open", async () => {
    const t = await target.connect();
    t.send(call(1, "/no.Such/Method"));
    await expectCode(t, 1, Code.Unimplemented);
    t.send(call(2));
    await expectCode(t, 2, OK);
  });

  it("server streaming: cancel stops the stream, and nothing, not even end, follows", async () => {
    const t = await target.connect();
    t.send(call(1, WEATHER.subscribeWeather));
    await t.waitFor("data on stream 1", (f) => f.kind === "data" && f.streamId === 1);
    t.send([{ kind: "cancel", streamId: 1 }]);
    const handled = await roundTrip(t, 1);
    await roundTrip(t, 2);
    expect(t.frames.slice(handled).filter((f) => f.streamId === 1)).toEqual([]);
    expect(t.frames.some((f) => f.kind === "end" && f.streamId === 1)).toBe(false);
  });

  it("client streaming: several messages, then half_close, then one answer", async () => {
    const t = await target.connect();
    t.send([open(1, WEATHER.reportBatch), readings(1, 2, 10)]);
    t.send([readings(1, 1, 10), halfClose(1)]);
    await expectCode(t, 1, OK);
    expect(messagesOf(t, 1, WeatherResponseSchema)).toHaveLength(1);
  });

  it("bidi: the server may answer before half_close, and the client may send before any headers", async () => {
    const t = await target.connect();
    t.send([open(1, WEATHER.weatherChat), request(1)]);
    await t.waitFor("an answer on stream 1", (f) => f.kind === "data" && f.streamId === 1);
    t.send([halfClose(1)]);
    await expectCode(t, 1, OK);
  });

  it("ignores frames for streams that are not open, frames only a server sends, and window_update on stream 0", async () => {
    const t = await target.connect();
    t.send(call(1));
    const end = await t.end(1);
    t.send([
      request(1),
      halfClose(1),
      { kind: "cancel", streamId: 1 },
      { kind: "windowUpdate", streamId: 1, bytes: 10 },
      { kind: "windowUpdate", streamId: 0, bytes: 10 },
      { kind: "cancel", streamId: 99 },
      { kind: "headers", streamId: 1, headers: [["x-a", "1"]] },
      { kind: "end", streamId: 1, code: 0, message: "", details: [], trailers: [] },
      { kind: "goAway", streamId: 0, lastStreamId: 0, message: "" },
      { kind: "pong", streamId: 0, payload: 5 },
    ]);
    await roundTrip(t, 3);
    expect(t.frames.slice(t.frames.indexOf(end) + 1).filter((f) => f.streamId === 1)).toEqual([]);
  });
});

describe("§1.4 headers and deadlines", () => {
  it("ends a call with DeadlineExceeded when connect-timeout-ms passes", async () => {
    const t = await target.connect();
    t.send(call(1, WEATHER.subscribeWeather, [["connect-timeout-ms", "100"]]));
    await expectCode(t, 1, Code.DeadlineExceeded);
  });

  const malformed = ["abc", "-1", "1.5", "12345678901", "5s", ""];
  it.each([
    ["unary", (id: number, h: HeaderList) => call(id, WEATHER.getWeather, h)],
    ["server streaming", (id: number, h: HeaderList) => call(id, WEATHER.subscribeWeather, h)],
    ["client streaming", (id: number, h: HeaderList) => [open(id, WEATHER.reportBatch, h), readings(id, 1, 1), halfClose(id)]],
    ["bidi", (id: number, h: HeaderList) => [open(id, WEATHER.weatherChat, h)]],
  ])("ends a %s call with a malformed connect-timeout-ms with InvalidArgument, sending no message", async (_kind, frames) => {
    const t = await target.connect();
    malformed.forEach((value, i) => t.send(frames(i + 1, [["connect-timeout-ms", value]])));
    for (let i = 1; i <= malformed.length; i++) await expectCode(t, i, Code.InvalidArgument);
    expect(t.frames.filter((f) => f.kind === "data")).toEqual([]);
  });

  it("honours a deadline of 9999999999 ms (the largest connect-timeout-ms) instead of ending the stream at once", async () => {
    const t = await target.connect();
    t.send(call(1, WEATHER.subscribeWeather, [["connect-timeout-ms", "9999999999"]]));
    await t.waitFor("data on stream 1", (f) => f.kind === "data" && f.streamId === 1);
    await roundTrip(t, 1);
    expect(t.frames.filter((f) => f.kind === "end" && f.streamId === 1)).toEqual([]);
  });

  it("carries -bin header values as text, without decoding them", async () => {
    const t = await target.connect();
    t.send(call(1, WEATHER.getWeather, [["x-trace-bin", "AAEC"]]));
    t.send(call(2, WEATHER.getWeather, [["x-trace-bin", "not base64!"]]));
    await expectCode(t, 1, OK);
    await expectCode(t, 2, OK);
  });

  it("ends only the stream whose open has an invalid header name or value, with InvalidArgument", async () => {
    const t = await target.connect();
    t.send([...call(1, WEATHER.getWeather, [["bad name", "x"]]), ...call(2), ...call(3, WEATHER.getWeather, [["x-v", "a\nb"]])]);
    await expectCode(t, 1, Code.InvalidArgument);
    await expectCode(t, 2, OK);
    await expectCode(t, 3, Code.InvalidArgument);
    t.send(call(4));
    await expectCode(t, 4, OK);
  });

  it("takes header names in any case", async () => {
    const t = await target.connect();
    t.send(call(1, WEATHER.getWeather, [["X-Request-Tag", "A"]]));
    await expectCode(t, 1, OK);
  });
});

describe("§1.5–1.6 data, envelopes and flow control", () => {
  it("ends a stream with InvalidArgument on envelope flags other than 0, or data that is not whole envelopes", async () => {
    const t = await target.connect();
    t.send([open(1, WEATHER.reportBatch), { kind: "data", streamId: 1, chunks: [new Uint8Array([1, 0, 0, 0, 0])] }]);
    t.send([open(2, WEATHER.reportBatch), { kind: "data", streamId: 2, chunks: [new Uint8Array([0, 0, 0, 0, 5, 0x0a, 0x03])] }]);
    t.send([open(3, WEATHER.reportBatch), { kind: "data", streamId: 3, chunks: [new Uint8Array([0, 0, 0])] }]);
    for (const id of [1, 2, 3]) await expectCode(t, id, Code.InvalidArgument);
  });

  it("ends a stream with ResourceExhausted when data arrives after the client's credit is spent", async () => {
    const t = await target.connect();
    const perFrame = 60_000;
    const frames = Math.ceil(DEFAULT_WINDOW / perFrame) + 1; // the last one arrives with the credit at or below 0
    t.send([open(1, WEATHER.reportBatch), ...Array.from({ length: frames }, () => readings(1, 1, perFrame))]);
    await expectCode(t, 1, Code.ResourceExhausted);
  });

  it("grants credit with window_update as the handler reads a client stream", async () => {
    const t = await target.connect();
    t.send([open(1, WEATHER.reportBatch), readings(1, 1, 60_000), readings(1, 1, 60_000), readings(1, 1, 60_000)]);
    const update = await t.waitFor("window_update on stream 1", (f) => f.kind === "windowUpdate" && f.streamId === 1);
    expect(update.kind === "windowUpdate" && update.bytes).toBeGreaterThan(0);
    t.send([halfClose(1)]);
    await expectCode(t, 1, OK);
  });
});

referenceOnly("§1.5 limits (reference server)", () => {
  it("ends an open beyond the open-stream limit with ResourceExhausted, and one over the message limit", async () => {
    const server = await startReference({ tunnel: { maxStreams: 2, maxRequestMessageBytes: 64 } });
    const t = await connectRawTunnel(server.url);
    try {
      t.send([...call(1, WEATHER.subscribeWeather), ...call(2, WEATHER.subscribeWeather), ...call(3, WEATHER.subscribeWeather)]);
      await expectCode(t, 3, Code.ResourceExhausted);
      t.send([{ kind: "cancel", streamId: 1 }, open(4, WEATHER.getWeather), request(4, "X".repeat(100)), halfClose(4)]);
      await expectCode(t, 4, Code.ResourceExhausted);
    } finally {
      t.close();
      await server.close();
    }
  });
});
