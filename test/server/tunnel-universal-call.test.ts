// startUniversalCall on its own: a Connect response of any shape (envelopes
// split or joined across chunks, errors as HTTP status and JSON) becomes
// headers / data / end callbacks, pulled only while the sink wants more.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  contentTypeMatcher,
  createAsyncIterable,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { describe, expect, it } from "vitest";
import { envelope, forEachEnvelope } from "../../src/codec/tunnel/index.js";
import { WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { startUniversalCall, type UniversalCallSink } from "../../src/server/call/universal-call.js";

type Event =
  | { kind: "headers"; headers: [string, string][] }
  | { kind: "data"; messages: string[] }
  | { kind: "end"; code: Code | 0; message: string; trailers: [string, string][]; details: string[] };

interface Recorder extends UniversalCallSink {
  readonly events: Event[];
  /** Resolves with the events once `end` was called. */
  readonly ended: Promise<Event[]>;
  /** What `data` returns; set false to hold the call back. */
  wantMore: boolean;
  /** Resolves at the next `data` call. */
  nextData(): Promise<void>;
}

function recorder(): Recorder {
  const events: Event[] = [];
  let resolveEnded: (e: Event[]) => void = () => undefined;
  let dataWaiter: (() => void) | undefined;
  const decoder = new TextDecoder();
  const r: Recorder = {
    events,
    ended: new Promise((resolve) => (resolveEnded = resolve)),
    wantMore: true,
    nextData: () => new Promise((resolve) => (dataWaiter = resolve)),
    headers(h) {
      events.push({ kind: "headers", headers: h.map(([n, v]) => [n, v]) });
    },
    data(bytes) {
      const messages: string[] = [];
      forEachEnvelope(bytes, 0, bytes.length, (_f, s, e) => messages.push(decoder.decode(bytes.subarray(s, e))));
      events.push({ kind: "data", messages });
      dataWaiter?.();
      return r.wantMore;
    },
    end(error, trailers) {
      events.push({
        kind: "end",
        code: error?.code ?? 0,
        message: error?.rawMessage ?? "",
        trailers: trailers.map(([n, v]) => [n, v]),
        details: error?.details.map((d) => ("type" in d ? d.type : d.desc.typeName)) ?? [],
      });
      resolveEnded(events);
    },
  };
  return r;
}

function fakeHandler(
  kind: "unary" | "server_streaming",
  respond: (req: UniversalServerRequest) => Promise<UniversalServerResponse>,
): UniversalHandler {
  const method = kind === "unary" ? WeatherService.method.getWeather : WeatherService.method.subscribeWeather;
  return Object.assign(respond, {
    protocolNames: ["connect"],
    service: WeatherService,
    method,
    requestPath: `/${WeatherService.typeName}/${method.name}`,
    allowedMethods: ["POST"],
    supportedContentType: contentTypeMatcher(/.*/),
  });
}

const text = (s: string) => new TextEncoder().encode(s);
const endStream = (json: string) => {
  const e = envelope(text(json));
  e[0] = 2;
  return e;
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
};
const noError = (e: unknown) => {
  throw e;
};

function start(handler: UniversalHandler, sink: UniversalCallSink, header = new Headers()): ReturnType<typeof startUniversalCall> {
  return startUniversalCall({ handler, url: "http://tunnel.test/x", header, body: createAsyncIterable([]), onError: noError }, sink);
}

describe("startUniversalCall", () => {
  it("builds a binary Connect request over HTTP/2 and replaces HTTP-level request headers", async () => {
    let seen: UniversalServerRequest | undefined;
    const handler = fakeHandler("server_streaming", (req) => {
      seen = req;
      return Promise.resolve({ status: 200, header: new Headers(), body: createAsyncIterable([endStream("{}")]) });
    });
    const header = new Headers({
      "x-a": "1",
      "content-type": "text/plain",
      "connect-accept-encoding": "gzip",
      "accept-encoding": "br",
      "connect-timeout-ms": "500",
    });
    const sink = recorder();
    start(handler, sink, header);
    await sink.ended;
    expect(seen?.httpVersion).toBe("2");
    expect(seen?.method).toBe("POST");
    expect([...(seen?.header.entries() ?? [])].sort()).toEqual([
      ["connect-protocol-version", "1"],
      ["connect-timeout-ms", "500"],
      ["content-type", "application/connect+proto"],
      ["x-a", "1"],
    ]);
  });

  it("re-batches envelopes that chunks split or join, and turns the end-stream envelope into end", async () => {
    const [a, b, c] = ["a", "bb", "ccc"].map((s) => envelope(text(s))) as [Uint8Array, Uint8Array, Uint8Array];
    const end = endStream('{"metadata":{"x-t":["2"],"connect-content-encoding":["gzip"]}}');
    const all = concat(a, b, c, end);
    // chunks: [a + b], [c split in three], [end split in two]
    const cStart = a.length + b.length;
    const endStart = cStart + c.length;
    const chunks = [
      all.subarray(0, cStart),
      all.subarray(cStart, cStart + 2),
      all.subarray(cStart + 2, cStart + 6),
      all.subarray(cStart + 6, endStart + 3),
      all.subarray(endStart + 3),
    ];
    const handler = fakeHandler("server_streaming", () =>
      Promise.resolve({
        status: 200,
        header: new Headers({ "content-type": "application/connect+proto", "x-h": "1" }),
        body: createAsyncIterable(chunks),
      }),
    );
    const sink = recorder();
    start(handler, sink);
    expect(await sink.ended).toEqual([
      { kind: "headers", headers: [["x-h", "1"]] },
      { kind: "data", messages: ["a", "bb"] },
      { kind: "data", messages: ["ccc"] },
      { kind: "end", code: 0, message: "", trailers: [["x-t", "2"]], details: [] },
    ]);
  });

  it("an error end-stream before any output: no headers unless there are some", async () => {
    const handler = fakeHandler("server_streaming", () =>
      Promise.resolve({
        status: 200,
        header: new Headers({ "content-type": "application/connect+proto" }),
        body: createAsyncIterable([endStream('{"error":{"code":"not_found","message":"no such city"}}')]),
      }),
    );
    const sink = recorder();
    start(handler, sink);
    expect(await sink.ended).toEqual([{ kind: "end", code: Code.NotFound, message: "no such city", trailers: [], details: [] }]);
  });

  it("unary: the message is enveloped; trailer-* headers become trailers", async () => {
    const handler = fakeHandler("unary", () =>
      Promise.resolve({
        status: 200,
        header: new Headers({ "content-type": "application/proto", "content-length": "2", "x-h": "1", "trailer-x-t": "2" }),
        body: createAsyncIterable([text("ok")]),
      }),
    );
    const sink = recorder();
    start(handler, sink);
    expect(await sink.ended).toEqual([
      { kind: "headers", headers: [["x-h", "1"]] },
      { kind: "data", messages: ["ok"] },
      { kind: "end", code: 0, message: "", trailers: [["x-t", "2"]], details: [] },
    ]);
  });

  it("unary errors: the Connect JSON body with details; a bare status by its HTTP code", async () => {
    const error = new ConnectError("too cold", Code.FailedPrecondition, undefined, [
      { desc: WeatherResponseSchema, value: create(WeatherResponseSchema, { description: "why" }) },
    ]);
    const json = fakeHandler("unary", () =>
      Promise.resolve({
        status: 400,
        header: new Headers({ "content-type": "application/json" }),
        body: createAsyncIterable([errorToJsonBytes(error, {})]),
      }),
    );
    const bare = fakeHandler("unary", () => Promise.resolve({ status: 415 }));
    const a = recorder();
    const b = recorder();
    start(json, a);
    start(bare, b);
    expect(await a.ended).toEqual([
      { kind: "end", code: Code.FailedPrecondition, message: "too cold", trailers: [], details: ["weather.WeatherResponse"] },
    ]);
    const [end] = await b.ended;
    expect(end).toMatchObject({ kind: "end", message: "HTTP 415" });
  });

  it("stops pulling while the sink wants no more, and resumes on resume()", async () => {
    let pulled = 0;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        return {
          next() {
            pulled++;
            return Promise.resolve(
              pulled <= 5 ? { done: false, value: envelope(text(String(pulled))) } : { done: false, value: endStream("{}") },
            );
          },
        };
      },
    };
    const handler = fakeHandler("server_streaming", () => Promise.resolve({ status: 200, header: new Headers(), body }));
    const sink = recorder();
    sink.wantMore = false;
    const firstData = sink.nextData();
    const call = start(handler, sink);
    await firstData;
    // The pump stopped after the first envelope; give it turns to prove it stays stopped.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(pulled).toBe(1);
    sink.wantMore = true;
    call.resume();
    const events = await sink.ended;
    expect(events.filter((e) => e.kind === "data").flatMap((e) => e.messages)).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("abort() aborts the request signal with the reason, returns the response iterator, and reports nothing more", async () => {
    let signal: AbortSignal | undefined;
    let returned = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        return {
          next: () => Promise.resolve({ done: false, value: envelope(text("x")) }),
          return: () => {
            returned = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
    const handler = fakeHandler("server_streaming", (req) => {
      signal = req.signal;
      return Promise.resolve({ status: 200, header: new Headers(), body });
    });
    const sink = recorder();
    const firstData = sink.nextData();
    const call = start(handler, sink);
    await firstData;
    const reason = new ConnectError("gone", Code.Canceled);
    call.abort(reason);
    const seen = sink.events.length;
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(signal?.reason).toBe(reason);
    expect(returned).toBe(true);
    expect(sink.events.length).toBe(seen);
  });
});
