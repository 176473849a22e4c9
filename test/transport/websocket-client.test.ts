import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { envelope, type Frame } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { isTransportOpenFailure } from "../../src/transport/open-error.js";
import {
  createTunnelClient,
  createWebSocketTransport,
  type StreamHandler,
  wasNotProcessed,
  type WebSocketTransportOptions,
} from "../../src/transport/websocket/index.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { type FakeWebSocket, fakeWebSocketFactory, microtasks } from "../helpers/fake-web-socket.js";

const reading = (timestamp: bigint) => create(WeatherResponseSchema, { temperature: 1.5, humidity: 50, description: "Clear", timestamp });
const dataFrame = (streamId: number, ...timestamps: bigint[]): Frame => ({
  kind: "data",
  streamId,
  chunks: timestamps.map((t) => envelope(toBinary(WeatherResponseSchema, reading(t)))),
});
const ok = (streamId: number, trailers: [string, string][] = []): Frame => ({
  kind: "end",
  streamId,
  code: 0,
  message: "",
  details: [],
  trailers,
});

function setup(options: Partial<WebSocketTransportOptions> = {}) {
  const { webSocket, sockets } = fakeWebSocketFactory();
  const clock = createFakeClock(1_000_000);
  const transport = createWebSocketTransport({ url: "http://weather.test/ws", webSocket, clock, ...options });
  const client = createClient(WeatherService, transport);
  const socket = (i = 0): FakeWebSocket => {
    const s = sockets[i];
    if (s === undefined) throw new Error(`no socket ${i} was opened`);
    return s;
  };
  return { transport, client, sockets, socket, clock };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("WebSocket transport (against a scripted server)", () => {
  it("opens one socket lazily, with the subprotocol, and sends hello, open, data and half-close in one message", async () => {
    const { client, sockets, socket } = setup({ connectionHeaders: { authorization: "Bearer abc" } });
    expect(sockets).toHaveLength(0);
    const headers: Headers[] = [];
    const trailers: Headers[] = [];
    const result = client.getWeather({ cityCode: "NYC" }, { onHeader: (h) => headers.push(h), onTrailer: (t) => trailers.push(t) });
    await microtasks();
    expect(socket().url).toBe("ws://weather.test/ws");
    expect(socket().protocols).toEqual(["weather-tunnel.v1"]);
    expect(socket().sent).toHaveLength(0); // nothing before the socket opens
    socket().accept();
    await microtasks();
    expect(socket().sent).toHaveLength(1);
    const [hello, open, data, halfClose] = socket().sent[0] ?? [];
    expect(hello).toEqual({ kind: "hello", streamId: 0, headers: [["authorization", "Bearer abc"]] });
    expect(open).toMatchObject({ kind: "open", streamId: 1, path: "/weather.WeatherService/GetWeather", initialWindow: 0 });
    expect(data?.kind === "data" && fromBinary(GetWeatherRequestSchema, data.bytes.subarray(5)).cityCode).toBe("NYC");
    expect(halfClose).toEqual({ kind: "halfClose", streamId: 1 });

    socket().deliver([{ kind: "headers", streamId: 1, headers: [["x-served-by", "a"]] }, dataFrame(1, 42n), ok(1, [["x-t", "1"]])]);
    expect((await result).timestamp).toBe(42n);
    expect(headers[0]?.get("x-served-by")).toBe("a");
    expect(trailers[0]?.get("x-t")).toBe("1");
  });

  it("multiplexes calls over the same socket and batches what is sent in one tick", async () => {
    const { client, sockets, socket } = setup();
    const a = client.getWeather({ cityCode: "NYC" });
    const b = client.getWeather({ cityCode: "LON" });
    socket().accept();
    await microtasks();
    expect(sockets).toHaveLength(1);
    expect(socket().sent).toHaveLength(1);
    expect(
      socket()
        .frames.filter((f) => f.kind === "open")
        .map((f) => f.streamId),
    ).toEqual([1, 2]);
    socket().deliver([dataFrame(2, 2n), ok(2), dataFrame(1, 1n), ok(1)]);
    expect([(await a).timestamp, (await b).timestamp]).toEqual([1n, 2n]);
  });

  it("turns an end frame into a ConnectError with code, details and trailers", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "???" });
    socket().accept();
    socket().deliver([
      {
        kind: "end",
        streamId: 1,
        code: Code.InvalidArgument,
        message: "unknown city_code",
        details: [{ type: "google.rpc.ErrorInfo", value: new Uint8Array([10, 1, 120]) }],
        trailers: [["x-why", "bad"]],
      },
    ]);
    const error = await call.catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toBe("unknown city_code");
    expect((error as ConnectError).metadata.get("x-why")).toBe("bad");
    expect((error as ConnectError).details).toEqual([{ type: "google.rpc.ErrorInfo", value: new Uint8Array([10, 1, 120]) }]);
  });

  it("fails calls with Unavailable and a TransportOpenError cause when the socket never opens", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    socket().drop(1006);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(isTransportOpenFailure(error)).toBe(true);
    expect((error as ConnectError).rawMessage).toContain(
      "could not open a WebSocket to ws://weather.test/ws: it closed before opening (code 1006)",
    );
  });

  it("gives up opening after connectTimeoutMs", async () => {
    const { client, socket, clock } = setup({ connectTimeoutMs: 2000 });
    const call = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    clock.advance(2000);
    const error = await call.catch((e: unknown) => e);
    expect(isTransportOpenFailure(error)).toBe(true);
    expect(socket().closedWith?.code).toBe(4000);
  });

  it("refuses a server that did not agree to the subprotocol", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "NYC" });
    socket().accept("");
    expect(isTransportOpenFailure(await call.catch((e: unknown) => e))).toBe(true);
  });

  it("fails open streams with Unavailable (not a TransportOpenError) when an open connection drops, and reconnects for the next call", async () => {
    const { client, sockets, socket } = setup();
    const stream = collect(client.subscribeWeather({ cityCode: "NYC" }));
    await microtasks();
    socket().accept();
    await microtasks();
    socket().deliver([{ kind: "headers", streamId: 1, headers: [] }, dataFrame(1, 1n, 2n)]);
    socket().drop(1006);
    const error = await stream.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(isTransportOpenFailure(error)).toBe(false);
    expect((error as ConnectError).rawMessage).toBe("the WebSocket to ws://weather.test/ws closed (code 1006)");
    const next = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    expect(sockets).toHaveLength(2);
    socket(1).accept();
    socket(1).deliver([dataFrame(1, 3n), ok(1)]);
    expect((await next).timestamp).toBe(3n);
  });

  it("streams server messages in order, several per frame", async () => {
    const { client, socket } = setup();
    const stream = collect(client.subscribeWeather({ cityCode: "NYC" }));
    await microtasks();
    socket().accept();
    await microtasks();
    expect(socket().sent[0]?.map((f) => f.kind)).toEqual(["hello", "open", "data", "halfClose"]);
    socket().deliver([{ kind: "headers", streamId: 1, headers: [] }, dataFrame(1, 1n, 2n, 3n)]);
    socket().deliver([dataFrame(1, 4n), ok(1)]);
    expect((await stream).map((r) => r.timestamp)).toEqual([1n, 2n, 3n, 4n]);
  });

  it("sends client-streaming requests, then half-close, and returns the single response", async () => {
    const { client, socket } = setup();
    const summary = client.reportBatch(createAsyncIterable([reading(1n), reading(2n), reading(3n)]));
    await microtasks();
    socket().accept();
    await microtasks();
    const kinds = socket().frames.map((f) => f.kind);
    expect(kinds.filter((k) => k === "data")).toHaveLength(1); // three envelopes, one frame
    expect(kinds[kinds.length - 1]).toBe("halfClose");
    socket().deliver([dataFrame(1, 99n), ok(1)]);
    expect((await summary).timestamp).toBe(99n);
  });

  it("cancels the stream on abort and rejects with Canceled", async () => {
    const { client, socket } = setup();
    const abort = new AbortController();
    const stream = collect(client.subscribeWeather({ cityCode: "NYC" }, { signal: abort.signal }));
    await microtasks();
    socket().accept();
    await microtasks();
    socket().deliver([{ kind: "headers", streamId: 1, headers: [] }, dataFrame(1, 1n)]);
    abort.abort();
    const error = await stream.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Canceled);
    await microtasks();
    expect(socket().frames.at(-1)).toEqual({ kind: "cancel", streamId: 1 });
    socket().deliver([dataFrame(1, 2n)]); // late frames for a cancelled stream are ignored
  });

  it("sends the deadline to the server and fails locally with DeadlineExceeded", async () => {
    const { client, socket, clock } = setup();
    const call = client.getWeather({ cityCode: "NYC" }, { timeoutMs: 50 });
    socket().accept();
    await microtasks();
    const open = socket().frames.find((f) => f.kind === "open");
    expect(open?.kind === "open" && open.headers).toContainEqual(["connect-timeout-ms", "50"]);
    clock.advance(49);
    await microtasks();
    expect(socket().frames.some((f) => f.kind === "cancel")).toBe(false);
    clock.advance(1); // the transport's clock runs the deadline
    const error = await call.catch((e: unknown) => e);
    expect(socket().frames.at(-1)).toEqual({ kind: "cancel", streamId: 1 });
    expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("pings on the interval and drops a silent connection after pingTimeoutMs", async () => {
    const { client, socket, clock } = setup({ pingIntervalMs: 1000, pingTimeoutMs: 500 });
    const stream = collect(client.subscribeWeather({ cityCode: "NYC" }));
    await microtasks();
    socket().accept();
    await microtasks();
    socket().deliver([{ kind: "headers", streamId: 1, headers: [] }]);
    clock.advance(1000);
    await microtasks();
    expect(socket().frames.at(-1)).toEqual({ kind: "ping", streamId: 0, payload: 1 });
    socket().deliver([{ kind: "pong", streamId: 0, payload: 1 }]);
    clock.advance(500);
    expect(socket().closedWith).toBeUndefined(); // answered: still alive
    clock.advance(1000);
    await microtasks();
    expect(socket().frames.at(-1)).toEqual({ kind: "ping", streamId: 0, payload: 2 });
    clock.advance(500); // silence
    expect(socket().closedWith?.code).toBe(4000);
    expect(((await stream.catch((e: unknown) => e)) as ConnectError).code).toBe(Code.Unavailable);
  });

  it("answers the server's ping with a pong", async () => {
    const { client, socket } = setup();
    void client.getWeather({ cityCode: "NYC" }).catch(() => undefined);
    socket().accept();
    socket().deliver([{ kind: "ping", streamId: 0, payload: 77 }]);
    await microtasks();
    expect(socket().frames).toContainEqual({ kind: "pong", streamId: 0, payload: 77 });
  });

  it("closes the socket after idleCloseMs without calls", async () => {
    const { client, socket, clock } = setup({ idleCloseMs: 3000, pingIntervalMs: 0 });
    const call = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    socket().deliver([dataFrame(1, 1n), ok(1)]);
    await call;
    clock.advance(2999);
    expect(socket().closedWith).toBeUndefined();
    clock.advance(1);
    expect(socket().closedWith?.code).toBe(1000);
  });

  it("counts idleCloseMs from the end of the last call, however many calls came before", async () => {
    const { client, socket, clock } = setup({ idleCloseMs: 3000, pingIntervalMs: 0 });
    const first = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    socket().deliver([dataFrame(1, 1n), ok(1)]);
    await first;
    clock.advance(2000);
    const second = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    clock.advance(1500); // the first call ended 3500 ms ago, but a call is open
    expect(socket().closedWith).toBeUndefined();
    socket().deliver([dataFrame(2, 2n), ok(2)]);
    await second;
    clock.advance(2999);
    expect(socket().closedWith).toBeUndefined();
    clock.advance(1);
    expect(socket().closedWith?.code).toBe(1000);
  });

  it("keeps a connection that went idle and busy again until idleCloseMs after its last call", async () => {
    const { client, socket, clock } = setup({ idleCloseMs: 3000, pingIntervalMs: 0 });
    const first = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    socket().deliver([dataFrame(1, 1n), ok(1)]);
    await first; // idle from t = 0: the timer is due at 3000
    clock.advance(1000);
    const second = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    clock.advance(1000);
    socket().deliver([dataFrame(2, 2n), ok(2)]);
    await second; // idle again from t = 2000
    clock.advance(1000); // t = 3000: the timer fires early and waits out the rest
    expect(socket().closedWith).toBeUndefined();
    clock.advance(1999);
    expect(socket().closedWith).toBeUndefined();
    clock.advance(1); // t = 5000
    expect(socket().closedWith?.code).toBe(1000);
  });

  it.each([
    { path: "on the tunnel core", interceptors: [] as Interceptor[] },
    { path: "through connect's call pipeline", interceptors: [(next) => (req) => next(req)] },
  ])("fails a unary request that does not serialize with a ConnectError, sending nothing ($path)", async ({ interceptors }) => {
    const { transport, sockets } = setup({ interceptors });
    // A method taking WeatherResponse, whose int64 timestamp cannot hold "soon".
    const method = {
      ...WeatherService.method.getWeather,
      input: WeatherResponseSchema,
    } as unknown as typeof WeatherService.method.getWeather;
    const error = await transport.unary(method, undefined, undefined, undefined, { timestamp: "soon" } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unknown);
    expect((error as ConnectError).rawMessage).toMatch(/timestamp/);
    expect(sockets.flatMap((s) => s.frames).filter((f) => f.kind === "open")).toHaveLength(0);
  });

  it("returns credit as the consumer reads, and fails a stream the server overruns", async () => {
    const window = 1000;
    const { client, socket } = setup({ receiveWindowBytes: window });
    const it = client.subscribeWeather({ cityCode: "NYC" })[Symbol.asyncIterator]();
    const first = it.next();
    await microtasks();
    socket().accept();
    await microtasks();
    const open = socket().frames.find((f) => f.kind === "open");
    expect(open?.kind === "open" && open.initialWindow).toBe(window);
    // 40 messages of ~30 bytes: 1200+ bytes, beyond the window, sent in two frames.
    const messageBytes = toBinary(WeatherResponseSchema, reading(1n)).length + 5;
    const perFrame = Math.floor(window / messageBytes);
    socket().deliver([
      { kind: "headers", streamId: 1, headers: [] },
      dataFrame(1, ...Array.from({ length: perFrame }, (_, i) => BigInt(i + 1))),
    ]);
    await first;
    for (let i = 1; i < perFrame; i++) await it.next();
    await microtasks();
    const granted = socket().frames.flatMap((f) => (f.kind === "windowUpdate" ? [f.bytes] : []));
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.reduce((sum, b) => sum + b, 0)).toBeLessThanOrEqual(perFrame * messageBytes);
    // Now overrun: far more than the credit the client granted.
    socket().deliver([dataFrame(1, ...Array.from({ length: 3 * perFrame }, (_, i) => BigInt(i + 100)))]);
    socket().deliver([dataFrame(1, 999n)]);
    const results: unknown[] = [];
    for (;;) {
      const r = await it.next().catch((e: unknown) => e);
      results.push(r);
      if (r instanceof ConnectError || (r as IteratorResult<unknown>).done === true) break;
    }
    const last = results.at(-1);
    expect(last).toBeInstanceOf(ConnectError);
    expect((last as ConnectError).code).toBe(Code.ResourceExhausted);
    await microtasks();
    expect(socket().frames.at(-1)).toEqual({ kind: "cancel", streamId: 1 });
  });

  it("drops the connection on a malformed batch, closing with 4002", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    socket().deliverRaw(new Uint8Array([0x0a, 0x09, 0x08]).buffer);
    const error = await call.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toMatch(/malformed_frame/);
    expect(socket().closedWith?.code).toBe(4002);
  });

  it("opens new calls on a fresh socket after go_away while old streams finish", async () => {
    const { client, sockets, socket } = setup();
    const stream = collect(client.subscribeWeather({ cityCode: "NYC" }));
    await microtasks();
    socket().accept();
    await microtasks();
    socket().deliver([
      { kind: "headers", streamId: 1, headers: [] },
      { kind: "goAway", streamId: 0, lastStreamId: 1, message: "bye" },
    ]);
    const next = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    expect(sockets).toHaveLength(2);
    socket().deliver([dataFrame(1, 5n), ok(1)]);
    expect((await stream).map((r) => r.timestamp)).toEqual([5n]);
    expect(socket().closedWith?.code).toBe(1000); // retired and idle: closed
    socket(1).accept();
    socket(1).deliver([dataFrame(1, 6n), ok(1)]);
    expect((await next).timestamp).toBe(6n);
  });

  it("rejects bad options with a message that says what to do", () => {
    expect(() => createWebSocketTransport({ url: "ftp://x" })).toThrow(/must use ws:, wss:, http: or https:/);
    expect(() => createWebSocketTransport({ url: "ws://x", pingTimeoutMs: 0 })).toThrow(/pingTimeoutMs must be a positive/);
    expect(() => createWebSocketTransport({ url: "ws://x", readMaxBytes: 1.5 })).toThrow(/readMaxBytes/);
  });
});

describe("WebSocket transport: the rules of PROTOCOL.md a client keeps", () => {
  it("go_away: fails streams above last_stream_id at once, marked not processed, and lets the others finish", async () => {
    const { client, socket } = setup();
    const subscription = collect(client.subscribeWeather({ cityCode: "NYC" })); // stream 1
    await microtasks();
    const batch = client.reportBatch(createAsyncIterable([reading(1n), reading(2n)])); // stream 2: not idempotent
    socket().accept();
    await microtasks();
    socket().deliver([{ kind: "goAway", streamId: 0, lastStreamId: 1, message: "draining" }]);
    const error = await batch.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toMatch(/draining.*did not process stream 2; it is safe to retry/);
    expect(wasNotProcessed(error)).toBe(true);
    socket().deliver([dataFrame(1, 7n), ok(1)]);
    expect((await subscription).map((r) => r.timestamp)).toEqual([7n]);
    await microtasks();
    expect(socket().frames.filter((f) => f.kind === "cancel")).toEqual([]); // the server never knew stream 2
    expect(socket().closedWith?.code).toBe(1000); // retired, and nothing runs on it any more
  });

  it("go_away: a unary call the server did not process goes out again on a new connection, once", async () => {
    const { client, sockets, socket } = setup();
    const first = client.getWeather({ cityCode: "NYC" });
    await microtasks();
    socket().accept();
    await microtasks();
    socket().deliver([{ kind: "goAway", streamId: 0, lastStreamId: 0, message: "" }]);
    await microtasks();
    expect(sockets).toHaveLength(2);
    socket(1).accept();
    await microtasks();
    expect(socket(1).frames.map((f) => f.kind)).toEqual(["hello", "open", "data", "halfClose"]);
    socket(1).deliver([dataFrame(1, 8n), ok(1)]);
    expect((await first).timestamp).toBe(8n);

    // Refused twice: the second refusal reaches the caller, still marked safe to retry.
    const second = client.getWeather({ cityCode: "NYC" });
    socket(1).deliver([{ kind: "goAway", streamId: 0, lastStreamId: 1, message: "" }]);
    await microtasks();
    socket(2).accept();
    await microtasks();
    socket(2).deliver([{ kind: "goAway", streamId: 0, lastStreamId: 0, message: "" }]);
    const error = await second.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(wasNotProcessed(error)).toBe(true);
    expect(sockets).toHaveLength(3);
  });

  it("a stream that ends without go_away is not marked as unprocessed", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    await microtasks();
    socket().drop(1001, "bye");
    const error = await call.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(wasNotProcessed(error)).toBe(false);
  });

  it("an invalid response header or trailer ends only its stream, with InvalidArgument", async () => {
    const { client, socket } = setup();
    const a = client.getWeather({ cityCode: "NYC" });
    const b = client.getWeather({ cityCode: "LON" });
    const c = client.getWeather({ cityCode: "PAR" });
    socket().accept();
    await microtasks();
    socket().deliver([
      { kind: "headers", streamId: 1, headers: [["bad name", "x"]] },
      { kind: "end", streamId: 2, code: 0, message: "", details: [], trailers: [["x-ok", "line\nbreak"]] },
    ]);
    for (const call of [a, b]) {
      const error = await call.catch((e: unknown) => e);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage).toMatch(/invalid (response header|trailer) from the server/);
    }
    await microtasks();
    expect(socket().frames.filter((f) => f.kind === "cancel")).toEqual([{ kind: "cancel", streamId: 1 }]); // 2 had ended
    socket().deliver([dataFrame(3, 9n), ok(3)]);
    expect((await c).timestamp).toBe(9n);
    expect(socket().closedWith).toBeUndefined();
  });

  it("takes an end code it does not know as Unknown, keeping the message", async () => {
    const { client, socket } = setup();
    const call = client.getWeather({ cityCode: "NYC" });
    socket().accept();
    socket().deliver([{ kind: "end", streamId: 1, code: 77, message: "from a later version", details: [], trailers: [] }]);
    const error = await call.catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unknown);
    expect((error as ConnectError).rawMessage).toBe("from a later version");
  });

  it("moves to a new connection once the last stream id is used", async () => {
    const { webSocket, sockets } = fakeWebSocketFactory();
    const clock = createFakeClock(0);
    const tunnel = createTunnelClient({
      url: "ws://weather.test/ws",
      webSocket: () => webSocket,
      clock,
      helloHeaders: () => [],
      connectTimeoutMs: 1000,
      pingIntervalMs: 0,
      pingTimeoutMs: 1000,
      readMaxBytes: 1024,
      idleCloseMs: 60_000,
      maxStreamId: 2,
    });
    const ends: number[] = [];
    const handler = (n: number): StreamHandler => ({
      onHeaders: () => undefined,
      onMessage: () => undefined,
      onEnd: () => ends.push(n),
    });
    const ids = [1, 2, 3].map((n) => tunnel.openStream("/a.B/C", [], handler(n)).id);
    expect(ids).toEqual([1, 2, 1]);
    expect(sockets).toHaveLength(2);
    for (const s of sockets) s.accept();
    await microtasks();
    expect(sockets[0]?.frames.filter((f) => f.kind === "open").map((f) => f.streamId)).toEqual([1, 2]);
    expect(sockets[1]?.frames.filter((f) => f.kind === "open").map((f) => f.streamId)).toEqual([1]);
    sockets[0]?.deliver([ok(1), ok(2)]);
    expect(ends).toEqual([1, 2]);
    expect(sockets[0]?.closedWith?.code).toBe(1000); // used up and idle
    expect(sockets[1]?.closedWith).toBeUndefined();
  });
});
