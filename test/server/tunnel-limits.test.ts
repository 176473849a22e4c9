// What the tunnel server does with misbehaving peers and slow consumers:
// stream-level errors leave the connection serving, protocol errors close it,
// credit holds back only the stream it belongs to, deadlines end any call kind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope, type Frame } from "../../src/codec/tunnel/index.js";
import { RESUME_AFTER_HEADER } from "../../src/codec/resume.js";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { Code } from "../helpers/connect-node.js";
import { dataFrame, messagesOf, nthMessage, openRawTunnel, type RawTunnel, streamOpener, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 20;
const MAX_REQUEST_MESSAGE_BYTES = 1024;
const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;
const MAX_STREAMS = 5;

/** With small limits. */
let server: Awaited<ReturnType<typeof startServer>>;
/** With the default limits. */
let plain: Awaited<ReturnType<typeof startServer>>;
const tunnels: RawTunnel[] = [];

beforeAll(async () => {
  server = await startServer({
    tickMs: TICK_MS,
    tunnel: {
      maxRequestMessageBytes: MAX_REQUEST_MESSAGE_BYTES,
      maxWebSocketMessageBytes: MAX_WEBSOCKET_MESSAGE_BYTES,
      maxStreams: MAX_STREAMS,
    },
  });
  plain = await startServer({ tickMs: TICK_MS });
});

afterAll(async () => {
  for (const t of tunnels) t.close();
  await Promise.all([server.close(), plain.close()]);
});

async function connect(hello = true, to = server): Promise<RawTunnel> {
  const t = await openRawTunnel(to.url, hello ? {} : { hello: false });
  tunnels.push(t);
  return t;
}

/** A unary GetWeather on `tunnel` that must succeed: proof the connection still serves. */
async function expectServing(tunnel: RawTunnel, id: number): Promise<void> {
  tunnel.send([
    { kind: "open", streamId: id, path: WEATHER.getWeather, headers: [], initialWindow: 0 },
    dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" }),
    { kind: "halfClose", streamId: id },
  ]);
  expect((await tunnel.end(id)).code).toBe(0);
}

const bigReading = (bytes: number) => ({ description: "x".repeat(bytes), temperature: 1, humidity: 1 });

describe("tunnel: errors on one stream", () => {
  it("a request message over the server's limit ends the stream with ResourceExhausted; the connection survives", async () => {
    const tunnel = await connect();
    const open = streamOpener();
    const s = open(WEATHER.reportBatch);
    tunnel.send([s.frame, dataFrame(s.id, WeatherResponseSchema, bigReading(MAX_REQUEST_MESSAGE_BYTES + 1))]);
    const end = await tunnel.end(s.id);
    expect(end.code).toBe(Code.ResourceExhausted);
    expect(end.message).toContain(String(MAX_REQUEST_MESSAGE_BYTES));
    await expectServing(tunnel, open(WEATHER.getWeather).id);
  });

  it("data beyond the flow-control credit ends the stream with ResourceExhausted", async () => {
    const tunnel = await connect(true, plain);
    const open = streamOpener();
    // Credit is 262144 bytes; within one message the handler takes at most one chunk, so the fourth is over.
    const s = open(WEATHER.reportBatch);
    const chunk = dataFrame(s.id, WeatherResponseSchema, bigReading(200_000));
    tunnel.send([s.frame, chunk, chunk, chunk, chunk]);
    const end = await tunnel.end(s.id);
    expect(end.code).toBe(Code.ResourceExhausted);
    expect(end.message).toContain("credit");
    await expectServing(tunnel, open(WEATHER.getWeather).id);
  });

  it("envelope flags other than 0, or a data frame that is not whole envelopes, is InvalidArgument", async () => {
    const tunnel = await connect();
    const open = streamOpener();
    const flagged = open(WEATHER.weatherChat);
    const cut = open(WEATHER.weatherChat);
    const compressed = envelope(new Uint8Array([0x0a, 0x03, 0x4e, 0x59, 0x43]));
    compressed[0] = 1;
    const whole = envelope(new Uint8Array([0x0a, 0x03, 0x4e, 0x59, 0x43]));
    tunnel.send([
      flagged.frame,
      { kind: "data", streamId: flagged.id, chunks: [compressed] },
      cut.frame,
      { kind: "data", streamId: cut.id, chunks: [whole.subarray(0, 7)] },
    ]);
    expect((await tunnel.end(flagged.id)).code).toBe(Code.InvalidArgument);
    expect((await tunnel.end(cut.id)).code).toBe(Code.InvalidArgument);
    await expectServing(tunnel, open(WEATHER.getWeather).id);
  });

  it("more open streams than maxStreams: the extra one ends with ResourceExhausted", async () => {
    const tunnel = await connect();
    const open = streamOpener();
    const chats = Array.from({ length: MAX_STREAMS + 1 }, () => open(WEATHER.weatherChat));
    tunnel.send(chats.map((c) => c.frame));
    const last = chats[MAX_STREAMS];
    if (last === undefined) throw new Error("test bug");
    expect((await tunnel.end(last.id)).code).toBe(Code.ResourceExhausted);
    // Ending one makes room again.
    const first = chats[0];
    if (first === undefined) throw new Error("test bug");
    tunnel.send([{ kind: "halfClose", streamId: first.id }]);
    expect((await tunnel.end(first.id)).code).toBe(0);
    await expectServing(tunnel, open(WEATHER.getWeather).id);
  });

  it("connect-timeout-ms is enforced on every call kind: DeadlineExceeded", async () => {
    const tunnel = await connect();
    const open = streamOpener();
    const deadline: [string, string][] = [["connect-timeout-ms", "200"]];
    const unary = open(WEATHER.getWeather, deadline); // never half-closed: never starts
    const clientStream = open(WEATHER.reportBatch, deadline);
    const bidi = open(WEATHER.weatherChat, deadline);
    const serverStream = open(WEATHER.subscribeWeather, deadline);
    tunnel.send([
      unary.frame,
      clientStream.frame,
      bidi.frame,
      serverStream.frame,
      dataFrame(serverStream.id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: serverStream.id },
    ]);
    for (const s of [unary, clientStream, bidi, serverStream]) {
      const end = await tunnel.end(s.id);
      expect(end.code, `stream ${s.id}`).toBe(Code.DeadlineExceeded);
    }
    expect(messagesOf(tunnel, serverStream.id, WeatherResponseSchema).length).toBeGreaterThan(0);
    await expectServing(tunnel, open(WEATHER.getWeather).id);
  });
});

describe("tunnel: flow control", () => {
  it("a stream out of credit stops receiving until window_update while another stream keeps flowing", async () => {
    const tunnel = await connect();
    const open = streamOpener();
    const windowBytes = 600;
    // Resuming 4 s back replays 200 readings at once: far more than the window.
    const cursor = String(Math.floor(Date.now() / TICK_MS) * TICK_MS - 4000);
    const slow = open(WEATHER.subscribeWeather, [[RESUME_AFTER_HEADER, cursor]], windowBytes);
    const fast = open(WEATHER.subscribeWeather);
    tunnel.send([
      slow.frame,
      dataFrame(slow.id, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: slow.id },
      fast.frame,
      dataFrame(fast.id, GetWeatherRequestSchema, { cityCode: "LON" }),
      { kind: "halfClose", streamId: fast.id },
    ]);
    await nthMessage(tunnel, slow.id, WeatherResponseSchema, 1);
    await nthMessage(tunnel, fast.id, WeatherResponseSchema, 4);
    const maxEnvelope = Math.max(...tunnel.dataOf(slow.id).flatMap((d) => d.messages.map((m) => m.length + 5)));
    const bytesOf = () => tunnel.dataOf(slow.id).reduce((sum, d) => sum + d.bytes, 0);
    const held = bytesOf();
    // The server sends while credit is above zero: at most one envelope past the window.
    expect(held).toBeGreaterThanOrEqual(windowBytes);
    expect(held).toBeLessThan(windowBytes + maxEnvelope);
    const countHeld = messagesOf(tunnel, slow.id, WeatherResponseSchema).length;
    expect(countHeld).toBeLessThan(200);

    tunnel.send([{ kind: "windowUpdate", streamId: slow.id, bytes: windowBytes }]);
    await nthMessage(tunnel, slow.id, WeatherResponseSchema, countHeld + 1);
    await nthMessage(tunnel, fast.id, WeatherResponseSchema, 8);
    expect(bytesOf()).toBeLessThan(2 * windowBytes + maxEnvelope);

    tunnel.send([{ kind: "windowUpdate", streamId: slow.id, bytes: 1_000_000 }]);
    const replayed = await nthMessage(tunnel, slow.id, WeatherResponseSchema, 200);
    expect(replayed.timestamp).toBeGreaterThan(BigInt(cursor));
    tunnel.send([
      { kind: "cancel", streamId: slow.id },
      { kind: "cancel", streamId: fast.id },
    ]);
  });

  it("the server grants request credit as the handler consumes it", async () => {
    const tunnel = await connect(true, plain);
    const open = streamOpener();
    const s = open(WEATHER.reportBatch);
    tunnel.send([s.frame]);
    // 10 × 100 KB: twice the initial credit, sent as grants come back.
    let sent = 0;
    let credit = 262_144;
    let from = 0;
    while (sent < 10) {
      while (credit > 0 && sent < 10) {
        tunnel.send([dataFrame(s.id, WeatherResponseSchema, bigReading(100_000))]);
        credit -= 100_005;
        sent++;
      }
      if (sent === 10) break;
      const grant = await tunnel.waitFor(
        "window_update",
        (f) => (f.kind === "windowUpdate" || f.kind === "end") && f.streamId === s.id,
        from,
      );
      expect(grant.kind).toBe("windowUpdate");
      from = tunnel.frames.indexOf(grant) + 1;
      if (grant.kind === "windowUpdate") credit += grant.bytes;
    }
    tunnel.send([{ kind: "halfClose", streamId: s.id }]);
    expect(await tunnel.end(s.id)).toMatchObject({ code: 0 });
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema)[0]?.description).toBe("10 readings");
  });
});

describe("tunnel: connection errors", () => {
  it("a malformed batch closes that connection with 1002; another connection keeps working", async () => {
    const bad = await connect();
    const good = await connect();
    bad.sendRaw(new Uint8Array([0x0a, 0x05, 0x08])); // a frame of 5 bytes with 1 present
    expect((await bad.closed).code).toBe(1002);
    await expectServing(good, 1);
  });

  it("a first frame other than hello closes with 1002", async () => {
    const tunnel = await connect(false);
    tunnel.send([{ kind: "open", streamId: 1, path: WEATHER.getWeather, headers: [], initialWindow: 0 }]);
    const closed = await tunnel.closed;
    expect(closed.code).toBe(1002);
    expect(closed.reason).toContain("hello");
  });

  it("a reused or smaller stream id closes with 1002", async () => {
    for (const ids of [
      [1, 1],
      [3, 2],
    ]) {
      const tunnel = await connect();
      const frames: Frame[] = ids.map((id) => ({ kind: "open", streamId: id, path: WEATHER.weatherChat, headers: [], initialWindow: 0 }));
      tunnel.send(frames);
      const closed = await tunnel.closed;
      expect(closed.code, `ids ${ids.join(", ")}`).toBe(1002);
      expect(closed.reason).toContain("stream id");
    }
  });

  it("a text message closes with 1003", async () => {
    const tunnel = await connect();
    tunnel.sendRaw("hello");
    expect((await tunnel.closed).code).toBe(1003);
  });

  it("a WebSocket message over maxWebSocketMessageBytes closes with 1009", async () => {
    const tunnel = await connect();
    tunnel.sendRaw(new Uint8Array(MAX_WEBSOCKET_MESSAGE_BYTES + 1));
    expect((await tunnel.closed).code).toBe(1009);
  });
});
