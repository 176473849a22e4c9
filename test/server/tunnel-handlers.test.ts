// The tunnel server in front of a router with handlers written to test it:
// one that ignores its signal, headers and trailers on every kind, error
// details, a handler that throws something that is not a ConnectError.
import { getEventListeners } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WeatherResponse, WeatherResponseSchema, WeatherService, GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { directService } from "../../src/server/call/direct-call.js";
import { createTunnelServer, type TunnelServer } from "../../src/server/index.js";
import { dataFrame, messagesOf, nthMessage, openRawTunnel, type RawTunnel, streamOpener, WEATHER } from "../helpers/raw-tunnel.js";

/** Resolves when the stubborn stream's generator has finished (its `finally` ran). */
let stubbornStopped: Promise<number>;
let markStopped: (yields: number) => void;
function resetStubborn(): void {
  stubbornStopped = new Promise((resolve) => (markStopped = resolve));
}

const reading = (description: string): WeatherResponse => create(WeatherResponseSchema, { description });

/** Resolves when the "BIG" stream's generator has finished (its `finally` ran). */
let bigStopped: Promise<void>;
let markBigStopped: () => void;
function resetBig(): void {
  bigStopped = new Promise((resolve) => (markBigStopped = resolve));
}

/** What the "CTX" and "AWAIT_ABORT" calls saw of their handler context. */
let seenContext: HandlerContext | undefined;
let seenTimeoutMs: number | undefined;
let seenAbortReason: Promise<unknown> = Promise.resolve();
/** What a request gate leaves for the handler. */
const GATE_NOTE = createContextKey("none", { description: "what the gate saw" });

/** Lets an "AWAIT_RELEASE" stream end. */
let release: () => void = () => undefined;
let released: Promise<void> = Promise.resolve();

const impl: ServiceImpl<typeof WeatherService> = {
  getWeather(req, ctx) {
    if (req.cityCode === "CTX") {
      // Keeps the context without reading its signal: it is read after the call.
      seenContext = ctx;
      seenTimeoutMs = ctx.timeoutMs();
      return reading(ctx.requestHeader.get("x-asked") ?? "");
    }
    if (req.cityCode === "GATED")
      return reading(`gate said ${ctx.values.get(GATE_NOTE)}, header ${ctx.responseHeader.get("x-gate") ?? "none"}`);
    if (req.cityCode === "SIGNAL")
      return reading(`aborted ${String(ctx.signal.aborted)} ${ConnectError.from(ctx.signal.reason ?? "").code}`);
    if (req.cityCode === "SPREAD") {
      // Handlers may copy their context like any plain object.
      const copy = { ...ctx };
      const assigned = Object.assign({}, ctx);
      return reading(
        [
          copy.signal instanceof AbortSignal,
          copy.responseHeader instanceof Headers,
          typeof copy.values.get,
          assigned.responseTrailer instanceof Headers,
        ].join(" "),
      );
    }
    ctx.responseHeader.set("x-h", "header");
    ctx.responseTrailer.set("x-t", "trailer");
    if (req.cityCode === "DETAIL") {
      throw new ConnectError("with a detail", Code.FailedPrecondition, undefined, [
        { desc: WeatherResponseSchema, value: { description: "why" } },
      ]);
    }
    if (req.cityCode === "BOOM") throw new Error("not a ConnectError");
    if (req.cityCode === "BADDETAIL") {
      // A detail that cannot be encoded (an int64 that is not a number): the server's fault, not a crash.
      throw new ConnectError("unencodable", Code.Aborted, undefined, [{ desc: WeatherResponseSchema, value: { timestamp: "soon" } }]);
    }
    return reading(req.cityCode);
  },
  // Ignores ctx.signal on purpose: only return() on its iterator stops it.
  // "FAST" never awaits anything but its consumer; "FAIL" fails after one message.
  async *subscribeWeather(req, ctx) {
    if (req.cityCode === "AWAIT_RELEASE") {
      // Keeps the context without reading its signal until the test lets it go on.
      seenContext = ctx;
      yield reading("waiting");
      await released;
      return;
    }
    if (req.cityCode === "AWAIT_ABORT") {
      const signal = ctx.signal;
      seenAbortReason = new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
      yield reading("waiting");
      await seenAbortReason;
      return;
    }
    if (req.cityCode === "MUTATE") {
      // One message object, changed between yields: each must be encoded as it is when sent.
      const m = reading("first");
      yield m;
      m.description = "second";
      yield m;
      return;
    }
    if (req.cityCode === "BIG") {
      try {
        yield reading("x".repeat(2000)); // over the router's writeMaxBytes
        yield reading("never");
      } finally {
        markBigStopped();
      }
      return;
    }
    if (req.cityCode === "FAIL") {
      ctx.responseHeader.set("x-sub", "header");
      ctx.responseTrailer.set("x-t", "trailer");
      yield reading("one");
      throw new ConnectError("failed mid-stream", Code.DataLoss, { "x-from-error": "metadata" });
    }
    let yields = 0;
    try {
      for (;;) {
        if (req.cityCode !== "FAST") await new Promise((resolve) => setImmediate(resolve));
        yields++;
        // FAST's readings are ~900 bytes (under writeMaxBytes), so a 1 MiB batch takes ~1,100 of them, not ~35,000.
        yield reading(req.cityCode === "FAST" ? `${yields} ${"x".repeat(880)}` : `${req.cityCode} ${yields}`);
      }
    } finally {
      markStopped(yields);
    }
  },
  async reportBatch(readings, ctx) {
    let n = 0;
    for await (const _ of readings) n++;
    ctx.responseTrailer.set("x-count", String(n));
    return reading(`${n}`);
  },
  async *weatherChat(requests, ctx) {
    ctx.responseHeader.set("x-chat", "hi");
    for await (const r of requests) yield reading(r.cityCode);
    ctx.responseTrailer.set("x-chat-end", "bye");
  },
};

/** Calls the interceptor saw fail, as "Method: code". */
const interceptedFailures: string[] = [];

/** Every call through the router's interceptor: it marks headers and trailers and counts streamed messages. */
const intercepted: Interceptor = (next) => async (req) => {
  let res: Awaited<ReturnType<typeof next>>;
  try {
    res = await next(req);
  } catch (e) {
    interceptedFailures.push(`${req.method.name}: ${ConnectError.from(e).code}`);
    throw e;
  }
  res.header.set("x-intercepted", "yes");
  if (!res.stream) return res;
  return {
    ...res,
    message: (async function* () {
      let n = 0;
      for await (const m of res.message) {
        n++;
        yield m;
      }
      res.trailer.set("x-intercepted-count", String(n));
    })(),
  };
};

// The same contracts whether the tunnel goes through the universal handlers
// or calls the implementation directly (createWeatherServer does the latter).
describe.each([
  { path: "the router's universal handlers, with an interceptor", direct: false, intercept: true },
  { path: "direct calls (directService), with an interceptor", direct: true, intercept: true },
  { path: "direct calls (directService), without interceptors", direct: true, intercept: false },
])("tunnel: handler contracts, through $path", ({ direct, intercept }) => {
  /** What the interceptor adds, when there is one. */
  const mark = (entry: [string, string]): [string, string][] => (intercept ? [entry] : []);
  let httpServer: http.Server;
  let tunnelServer: TunnelServer;
  let tunnel: RawTunnel;
  const open = streamOpener();
  const serverErrors: unknown[] = [];

  beforeAll(async () => {
    const routerOptions = { interceptors: intercept ? [intercepted] : [], writeMaxBytes: 1000 };
    const router = createConnectRouter(routerOptions);
    router.service(WeatherService, impl);
    tunnelServer = createTunnelServer({
      handlers: router.handlers,
      direct: direct ? [directService(WeatherService, impl, routerOptions)] : [],
      onError: (e) => serverErrors.push(e),
    });
    httpServer = http.createServer((_req, res) => res.writeHead(404).end());
    httpServer.on("upgrade", (req: http.IncomingMessage, socket, head: Buffer) => {
      if (!tunnelServer.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    tunnel = await openRawTunnel(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await tunnelServer.close();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  it("cancel stops a handler that ignores its signal; nothing more is sent for the stream", async () => {
    resetStubborn();
    const s = open(WEATHER.subscribeWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "A" }), { kind: "halfClose", streamId: s.id }]);
    await nthMessage(tunnel, s.id, WeatherResponseSchema, 3);
    tunnel.send([
      { kind: "cancel", streamId: s.id },
      { kind: "ping", streamId: 0, payload: 9 },
    ]);
    const pong = await tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 9);
    const yields = await stubbornStopped;
    // A round trip after the handler stopped: anything it produced would be here by now.
    tunnel.send([{ kind: "ping", streamId: 0, payload: 10 }]);
    await tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 10);
    const after = tunnel.frames.filter((f, i) => f.streamId === s.id && i > tunnel.frames.indexOf(pong));
    expect(after).toEqual([]);
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema).length).toBeLessThanOrEqual(yields);
  });

  it("a deadline stops a handler that ignores its signal, with DeadlineExceeded", async () => {
    resetStubborn();
    const s = open(WEATHER.subscribeWeather, [["connect-timeout-ms", "30"]]);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "B" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(Code.DeadlineExceeded);
    await stubbornStopped;
  });

  it("a handler that never awaits, with a 4 GiB window, neither starves the event loop nor grows one message past 1 MiB", async () => {
    resetStubborn();
    const s = open(WEATHER.subscribeWeather, [], 0xffff_ffff);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "FAST" }), { kind: "halfClose", streamId: s.id }]);
    let frames = 0;
    await tunnel.waitFor("3 data frames", (f) => f.kind === "data" && f.streamId === s.id && ++frames === 3);
    tunnel.send([{ kind: "ping", streamId: 0, payload: 11 }]);
    await tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 11);
    tunnel.send([{ kind: "cancel", streamId: s.id }]);
    await stubbornStopped;
    const sizes = tunnel.dataOf(s.id).map((d) => d.bytes);
    // The batch stops growing at 1 MiB: at most the one message that crossed it (under writeMaxBytes, 1000) lies beyond.
    expect(Math.max(...sizes)).toBeLessThan(1024 * 1024 + 1000);
  });

  it("unary: the handler's context has the request header and deadline; its signal, read after the call, has aborted", async () => {
    const s = open(WEATHER.getWeather, [
      ["x-asked", "yes"],
      ["connect-timeout-ms", "60000"],
    ]);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "CTX" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(0);
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema)[0]?.description).toBe("yes");
    expect(seenTimeoutMs).toBeGreaterThan(0);
    expect(seenTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(seenContext?.signal.aborted).toBe(true);
    expect(seenContext?.responseHeader.get("content-type")).toBe("application/proto");
  });

  it("unary: a handler may spread or Object.assign its context and keep every property", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "SPREAD" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(0);
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema)[0]?.description).toBe("true true function true");
  });

  it("unary with connect-timeout-ms 0: the deadline has passed when the handler runs", async () => {
    const s = open(WEATHER.getWeather, [["connect-timeout-ms", "0"]]);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "SIGNAL" }), { kind: "halfClose", streamId: s.id }]);
    // As connect's own handlers do: the signal has aborted with DeadlineExceeded; a handler that answers anyway is heard.
    expect((await tunnel.end(s.id)).code).toBe(0);
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema)[0]?.description).toBe(`aborted true ${Code.DeadlineExceeded}`);
  });

  it("unary without a deadline: timeoutMs() is undefined", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "CTX" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(0);
    expect(seenTimeoutMs).toBeUndefined();
  });

  it.each([
    { why: "cancel", code: Code.Canceled, timeout: [] as [string, string][] },
    { why: "a deadline", code: Code.DeadlineExceeded, timeout: [["connect-timeout-ms", "50"]] as [string, string][] },
  ])("$why aborts the handler's signal with code $code", async ({ why, code, timeout }) => {
    const s = open(WEATHER.subscribeWeather, timeout);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "AWAIT_ABORT" }), { kind: "halfClose", streamId: s.id }]);
    await nthMessage(tunnel, s.id, WeatherResponseSchema, 1);
    if (why === "cancel") tunnel.send([{ kind: "cancel", streamId: s.id }]);
    expect(ConnectError.from(await seenAbortReason).code).toBe(code);
  });

  it("unary: response headers in headers, trailers in end, without HTTP-level fields", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "OK" }), { kind: "halfClose", streamId: s.id }]);
    const end = await tunnel.end(s.id);
    expect(end).toMatchObject({ code: 0, trailers: [["x-t", "trailer"]] });
    expect(tunnel.frames.find((f) => f.kind === "headers" && f.streamId === s.id)).toMatchObject({
      headers: [["x-h", "header"], ...mark(["x-intercepted", "yes"])],
    });
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema)[0]?.description).toBe("OK");
  });

  it("unary error: code, message, details as type + bytes, headers and trailers", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "DETAIL" }), { kind: "halfClose", streamId: s.id }]);
    const end = await tunnel.end(s.id);
    expect(end).toMatchObject({ code: Code.FailedPrecondition, message: "with a detail", trailers: [["x-t", "trailer"]] });
    expect(end.details.map((d) => d.type)).toEqual(["weather.WeatherResponse"]);
    const detail = end.details[0];
    if (detail === undefined) throw new Error("no detail");
    expect(fromBinary(WeatherResponseSchema, detail.value).description).toBe("why");
    expect(tunnel.frames.find((f) => f.kind === "headers" && f.streamId === s.id)).toMatchObject({ headers: [["x-h", "header"]] });
  });

  it("a handler throwing something else than a ConnectError ends with Internal", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "BOOM" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(Code.Internal);
  });

  it("server streaming error: headers with the first message, error metadata joins the trailers", async () => {
    const s = open(WEATHER.subscribeWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "FAIL" }), { kind: "halfClose", streamId: s.id }]);
    expect(await tunnel.end(s.id)).toMatchObject({
      code: Code.DataLoss,
      message: "failed mid-stream",
      trailers: [
        ["x-from-error", "metadata"],
        ["x-t", "trailer"],
      ],
    });
    const frames = tunnel.frames.filter((f) => f.streamId === s.id).map((f) => f.kind);
    expect(frames).toEqual(["headers", "data", "end"]);
    expect(tunnel.frames.find((f) => f.kind === "headers" && f.streamId === s.id)).toMatchObject({
      headers: [...mark(["x-intercepted", "yes"]), ["x-sub", "header"]],
    });
  });

  it("error details that do not encode end the call with Internal, reported to onError; the connection goes on", async () => {
    const s = open(WEATHER.getWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "BADDETAIL" }), { kind: "halfClose", streamId: s.id }]);
    expect(await tunnel.end(s.id)).toMatchObject({ code: Code.Internal, message: "internal error" });
    expect(serverErrors.length).toBeGreaterThan(0);
    const after = open(WEATHER.getWeather);
    tunnel.send([after.frame, dataFrame(after.id, GetWeatherRequestSchema, { cityCode: "OK" }), { kind: "halfClose", streamId: after.id }]);
    expect((await tunnel.end(after.id)).code).toBe(0);
  });

  it("a message over writeMaxBytes ends the stream with ResourceExhausted and stops the handler (its finally runs)", async () => {
    resetBig();
    const s = open(WEATHER.subscribeWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "BIG" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(Code.ResourceExhausted);
    await bigStopped;
  });

  it("a server-streaming request that does not parse ends the stream, inside the interceptors when there are some", async () => {
    const s = open(WEATHER.subscribeWeather);
    const garbage = new Uint8Array([0, 0, 0, 0, 2, 0xff, 0xff]); // an envelope holding an invalid tag
    tunnel.send([s.frame, { kind: "data", streamId: s.id, chunks: [garbage] }, { kind: "halfClose", streamId: s.id }]);
    const end = await tunnel.end(s.id);
    // The client's error on the wire (SECURITY.md); interceptors see connect's own code for it, as over HTTP.
    expect(end.code).toBe(Code.InvalidArgument);
    if (intercept) expect(interceptedFailures).toContain(`SubscribeWeather: ${Code.Internal}`);
  });

  it("a message object yielded again after a change is sent as it is then", async () => {
    const s = open(WEATHER.subscribeWeather);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "MUTATE" }), { kind: "halfClose", streamId: s.id }]);
    expect((await tunnel.end(s.id)).code).toBe(0);
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema).map((r) => r.description)).toEqual(["first", "second"]);
  });

  it("client streaming: trailers set by the handler arrive in end", async () => {
    const s = open(WEATHER.reportBatch);
    tunnel.send([s.frame, dataFrame(s.id, WeatherResponseSchema, {}, {}, {}), { kind: "halfClose", streamId: s.id }]);
    expect(await tunnel.end(s.id)).toMatchObject({
      code: 0,
      trailers: [["x-count", "3"], ...mark(["x-intercepted-count", "1"])],
    });
  });

  it("bidi: headers before the first data, trailers in end", async () => {
    const s = open(WEATHER.weatherChat);
    tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "X" })]);
    await nthMessage(tunnel, s.id, WeatherResponseSchema, 1);
    tunnel.send([dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "Y" }), { kind: "halfClose", streamId: s.id }]);
    expect(await tunnel.end(s.id)).toMatchObject({
      code: 0,
      trailers: [["x-chat-end", "bye"], ...mark(["x-intercepted-count", "2"])],
    });
    const frames = tunnel.frames.filter((f) => f.streamId === s.id);
    expect(frames[0]).toMatchObject({
      kind: "headers",
      headers: [["x-chat", "hi"], ...mark(["x-intercepted", "yes"])],
    });
    expect(messagesOf(tunnel, s.id, WeatherResponseSchema).map((r) => r.description)).toEqual(["X", "Y"]);
  });
});

/** A tunnel server over `impl` with the given router options, its direct calls on or off, and one raw tunnel to it. */
async function withTunnelServer(
  direct: boolean,
  routerOptions: Partial<UniversalHandlerOptions>,
  run: (tunnel: RawTunnel) => Promise<void>,
): Promise<void> {
  const router = createConnectRouter(routerOptions);
  router.service(WeatherService, impl);
  const tunnelServer = createTunnelServer({
    handlers: router.handlers,
    direct: direct ? [directService(WeatherService, impl, routerOptions)] : [],
  });
  const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
  httpServer.on("upgrade", (req: http.IncomingMessage, socket, head: Buffer) => {
    if (!tunnelServer.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  try {
    await run(await openRawTunnel(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`));
  } finally {
    await tunnelServer.close();
    await new Promise((resolve) => httpServer.close(resolve));
  }
}

describe("tunnel: direct services", () => {
  it.each([false, true])("the router's shutdownSignal aborts a handler's signal with its reason (direct: %s)", async (direct) => {
    const shutdown = new AbortController();
    await withTunnelServer(direct, { shutdownSignal: shutdown.signal }, async (tunnel) => {
      const s = streamOpener()(WEATHER.subscribeWeather);
      tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "AWAIT_ABORT" }), { kind: "halfClose", streamId: s.id }]);
      await nthMessage(tunnel, s.id, WeatherResponseSchema, 1);
      const reason = new ConnectError("shutting down", Code.Unavailable);
      shutdown.abort(reason);
      expect(await seenAbortReason).toBe(reason);
    });
  });

  it.each([false, true])("a shutdown before the handler reads its signal is still the reason it sees (direct: %s)", async (direct) => {
    const shutdown = new AbortController();
    await withTunnelServer(direct, { shutdownSignal: shutdown.signal }, async (tunnel) => {
      released = new Promise((resolve) => (release = resolve));
      const s = streamOpener()(WEATHER.subscribeWeather);
      tunnel.send([
        s.frame,
        dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "AWAIT_RELEASE" }),
        { kind: "halfClose", streamId: s.id },
      ]);
      await nthMessage(tunnel, s.id, WeatherResponseSchema, 1);
      const reason = new ConnectError("shutting down", Code.Unavailable);
      shutdown.abort(reason);
      tunnel.send([
        { kind: "cancel", streamId: s.id },
        { kind: "ping", streamId: 0, payload: 5 },
      ]);
      await tunnel.waitFor("pong", (f) => f.kind === "pong" && f.payload === 5);
      release();
      expect(seenContext?.signal.reason).toBe(reason);
    });
  });

  it.each([false, true])("calls that read their signal leave no listener on the shutdown signal (direct: %s)", async (direct) => {
    const shutdown = new AbortController();
    const before = getEventListeners(shutdown.signal, "abort").length;
    await withTunnelServer(direct, { shutdownSignal: shutdown.signal }, async (tunnel) => {
      const opener = streamOpener();
      const calls = Array.from({ length: 20 }, () => opener(WEATHER.getWeather));
      tunnel.send(
        calls.flatMap((c) => [
          c.frame,
          dataFrame(c.id, GetWeatherRequestSchema, { cityCode: "SIGNAL" }),
          { kind: "halfClose" as const, streamId: c.id },
        ]),
      );
      for (const c of calls) expect((await tunnel.end(c.id)).code).toBe(0);
      expect(messagesOf(tunnel, calls[0]?.id ?? 0, WeatherResponseSchema)[0]?.description).toBe(`aborted false ${Code.Unknown}`);
      expect(getEventListeners(shutdown.signal, "abort").length).toBe(before);
    });
  });

  it.each([false, true])(
    "a request gate sees the call's context, may refuse it, and what it leaves reaches the handler (direct: %s)",
    async (direct) => {
      const requestGate = (ctx: HandlerContext) => {
        if (ctx.requestHeader.get("x-let-in") !== "yes") throw new ConnectError("not today", Code.PermissionDenied);
        ctx.values.set(GATE_NOTE, ctx.method.name);
        ctx.responseHeader.set("x-gate", "passed");
      };
      await withTunnelServer(direct, { requestGate }, async (tunnel) => {
        const opener = streamOpener();
        const refused = opener(WEATHER.getWeather);
        const allowed = opener(WEATHER.getWeather, [["x-let-in", "yes"]]);
        for (const c of [refused, allowed])
          tunnel.send([c.frame, dataFrame(c.id, GetWeatherRequestSchema, { cityCode: "GATED" }), { kind: "halfClose", streamId: c.id }]);
        expect(await tunnel.end(refused.id)).toMatchObject({ code: Code.PermissionDenied, message: "not today" });
        expect((await tunnel.end(allowed.id)).code).toBe(0);
        expect(messagesOf(tunnel, allowed.id, WeatherResponseSchema)[0]?.description).toBe("gate said GetWeather, header passed");
      });
    },
  );

  it("refuses a service listed twice", () => {
    const router = createConnectRouter();
    router.service(WeatherService, impl);
    expect(() =>
      createTunnelServer({ handlers: router.handlers, direct: [directService(WeatherService, impl), directService(WeatherService, impl)] }),
    ).toThrow(/direct method \/weather\.WeatherService\/GetWeather is listed twice in `direct`/);
  });

  it("refuses a direct method that the router does not serve, saying what to do", () => {
    expect(() => createTunnelServer({ handlers: [], direct: [directService(WeatherService, impl)] })).toThrow(
      /direct method \/weather\.WeatherService\/GetWeather has no handler in `handlers`: register its service on the router too/,
    );
  });
});
