// SECURITY.md's bad-input rows "invalid protobuf" and "invalid UTF-8" on Connect, gRPC and gRPC-Web: a request
// message that does not parse is the client's error, answered `invalid_argument` in each protocol's own form,
// by the Node server and by the runtime-neutral fetch handler; valid requests on the same server still work.
import * as http2 from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withParseFailuresAsInvalidArgument } from "../../src/server/call/parse-failure.js";
import { createWeatherFetchHandler, createWeatherRouter, type WeatherServer } from "../../src/server/index.js";
import { envelope as tunnelEnvelope } from "../../src/codec/tunnel/index.js";
import { openRawTunnel, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const INVALID_ARGUMENT = 3;
/** GetWeatherRequest bodies that do not parse: a length past the end, a wrong wire type, invalid UTF-8 in city_code. */
const BAD_MESSAGES: readonly [string, Uint8Array<ArrayBuffer>][] = [
  ["truncated protobuf", Uint8Array.of(0x0a, 0x05, 0x4e, 0x59)],
  ["an invalid wire type", Uint8Array.of(0x0f, 0x01)],
  ["invalid UTF-8 in a string", Uint8Array.of(0x0a, 0x02, 0xff, 0xfe)],
];
const NYC = Uint8Array.of(0x0a, 0x03, 0x4e, 0x59, 0x43);

function envelope(flags: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(5 + data.byteLength);
  bytes[0] = flags;
  new DataView(bytes.buffer).setUint32(1, data.byteLength);
  bytes.set(data, 5);
  return bytes;
}

/** The envelopes of a body, in order. */
function envelopes(body: Uint8Array): { flags: number; data: Uint8Array }[] {
  const out: { flags: number; data: Uint8Array }[] = [];
  for (let pos = 0; pos + 5 <= body.byteLength;) {
    const length = new DataView(body.buffer, body.byteOffset + pos).getUint32(1);
    out.push({ flags: body[pos] ?? 0, data: body.subarray(pos + 5, pos + 5 + length) });
    pos += 5 + length;
  }
  return out;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

type Fetcher = (request: Request) => Promise<Response>;

/** The same protocol checks against the Node server (over HTTP/1.1) and against the fetch handler. */
function httpProtocols(name: string, target: () => { base: string; fetcher: Fetcher }): void {
  describe(name, () => {
    const post = async (path: string, contentType: string, body: Uint8Array<ArrayBuffer>) => {
      const { base, fetcher } = target();
      const res = await fetcher(new Request(`${base}${path}`, { method: "POST", headers: { "content-type": contentType }, body }));
      return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
    };

    it.each(BAD_MESSAGES)("Connect unary: %s is 400 invalid_argument", async (_what, message) => {
      const res = await post(WEATHER.getWeather, "application/proto", message);
      expect(res.status).toBe(400);
      const error = JSON.parse(text(res.body)) as { code: string; message: string };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(/^parse binary: /);
      expect(res.headers.get("content-length")).toBe(String(res.body.byteLength));
    });

    it.each(BAD_MESSAGES)("Connect streaming: %s ends with invalid_argument", async (_what, message) => {
      const res = await post(WEATHER.subscribeWeather, "application/connect+proto", envelope(0, message));
      expect(res.status).toBe(200);
      const [end, ...rest] = envelopes(res.body);
      expect(rest).toEqual([]);
      expect(end?.flags).toBe(0b10);
      expect(JSON.parse(text(end?.data ?? new Uint8Array()))).toMatchObject({ error: { code: "invalid_argument" } });
    });

    it.each(BAD_MESSAGES)("gRPC-Web: %s has grpc-status 3 in its trailer", async (_what, message) => {
      const res = await post(WEATHER.getWeather, "application/grpc-web+proto", envelope(0, message));
      expect(res.status).toBe(200);
      const trailer = envelopes(res.body).find((e) => e.flags === 0x80);
      expect(text(trailer?.data ?? new Uint8Array())).toMatch(/^grpc-status: 3\r\n/m);
      expect(text(trailer?.data ?? new Uint8Array())).toMatch(/grpc-message: parse%20binary/);
    });

    it("still answers a valid request on each protocol", async () => {
      expect((await post(WEATHER.getWeather, "application/proto", NYC)).status).toBe(200);
      const web = await post(WEATHER.getWeather, "application/grpc-web+proto", envelope(0, NYC));
      const [message, trailer] = envelopes(web.body);
      expect(message?.flags).toBe(0);
      expect(text(trailer?.data ?? new Uint8Array())).toMatch(/^grpc-status: 0\r\n/m);
    });
  });
}

let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

httpProtocols("the Node server", () => ({ base: server.url, fetcher: (r) => fetch(r) }));
const fetchHandler = createWeatherFetchHandler();
httpProtocols("the fetch handler", () => ({ base: "http://localhost", fetcher: fetchHandler }));

describe("gRPC over h2c", () => {
  async function grpcCall(message: Uint8Array): Promise<{ status: string | undefined; message: string | undefined; data: number }> {
    const session = http2.connect(server.url);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": WEATHER.getWeather,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let data = 0;
      stream.on("data", (chunk: Buffer) => (data += chunk.byteLength));
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        // A trailers-only answer carries the status in the response headers.
        stream.once("response", (headers) => {
          if (headers["grpc-status"] !== undefined) resolve(headers);
        });
        stream.once("trailers", resolve);
        stream.once("error", reject);
      });
      stream.end(envelope(0, message));
      const t = await trailers;
      const status = t["grpc-status"];
      const text = t["grpc-message"];
      return { status: typeof status === "string" ? status : undefined, message: typeof text === "string" ? text : undefined, data };
    } finally {
      session.close();
    }
  }

  it.each(BAD_MESSAGES)("%s has grpc-status 3", async (_what, message) => {
    const res = await grpcCall(message);
    expect(res.status).toBe(String(INVALID_ARGUMENT));
    expect(decodeURIComponent(res.message ?? "")).toMatch(/^parse binary: /);
  });

  it("still answers a valid request with grpc-status 0", async () => {
    expect((await grpcCall(NYC)).status).toBe("0");
  });
});

describe("the WebSocket tunnel", () => {
  const passThrough: Interceptor = (next) => (req) => next(req);
  // Without interceptors the tunnel calls the implementation directly; with one, through connect's handlers.
  describe.each([
    ["called directly", []],
    ["through an interceptor", [passThrough]],
  ] as const)("%s", (_how, interceptors) => {
    let tunnelServer: WeatherServer & { url: string };
    beforeAll(async () => {
      tunnelServer = await startServer({ interceptors: [...interceptors] });
    });
    afterAll(() => tunnelServer.close());

    it.each(BAD_MESSAGES)("%s ends a unary and a server-streaming stream with invalid_argument", async (_what, message) => {
      const tunnel = await openRawTunnel(tunnelServer.url);
      try {
        for (const [id, path] of [
          [1, WEATHER.getWeather],
          [3, WEATHER.subscribeWeather],
        ] as const) {
          tunnel.send([
            { kind: "open", streamId: id, path, headers: [], initialWindow: 0 },
            { kind: "data", streamId: id, chunks: [tunnelEnvelope(message)] },
            { kind: "halfClose", streamId: id },
          ]);
          const end = await tunnel.end(id);
          expect(end.code).toBe(INVALID_ARGUMENT);
          expect(end.message).toMatch(/^parse binary: /);
        }
      } finally {
        tunnel.close();
      }
    });
  });
});

describe("the rewrite of a streaming body", () => {
  const handler = createWeatherRouter().handlers.find((h) => h.requestPath === WEATHER.subscribeWeather);
  if (handler === undefined) throw new Error("SubscribeWeather handler");
  const endStream = (code: string) =>
    envelope(0b10, new TextEncoder().encode(JSON.stringify({ error: { code, message: "parse binary: x" } })));
  /** A handler whose body is `bytes` cut into `chunkBytes`-byte chunks. */
  const answering = (bytes: Uint8Array, chunkBytes: number): UniversalHandler =>
    Object.assign(
      () =>
        Promise.resolve({
          status: 200,
          header: new Headers({ "content-type": "application/connect+proto" }),
          body: createAsyncIterable(
            Array.from({ length: Math.ceil(bytes.byteLength / chunkBytes) }, (_, i) => bytes.slice(i * chunkBytes, (i + 1) * chunkBytes)),
          ),
        }),
      { ...handler },
    );
  const run = async (bytes: Uint8Array, chunkBytes: number) => {
    const res = await withParseFailuresAsInvalidArgument(answering(bytes, chunkBytes))({
      httpVersion: "1.1",
      url: `http://localhost${WEATHER.subscribeWeather}`,
      method: "POST",
      header: new Headers(),
      body: createAsyncIterable<Uint8Array>([]),
      signal: new AbortController().signal,
    });
    const parts: number[] = [];
    for await (const chunk of res.body ?? []) parts.push(...chunk);
    return Uint8Array.from(parts);
  };

  // Data envelopes whose bytes include 0x02 (the end-stream flag) where a scanner that lost count would look.
  const messages = [envelope(0, Uint8Array.of(0x02, 0x02, 0x02)), envelope(0, Uint8Array.of(0x02, 0, 0, 0, 0x02))];
  const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

  it.each([1, 2, 3, 7, 1000])("finds the end-stream envelope in %i-byte chunks and rewrites only it", async (chunkBytes) => {
    const out = await run(concat(...messages, endStream("internal")), chunkBytes);
    expect(out).toEqual(concat(...messages, endStream("invalid_argument")));
  });

  it("passes other errors through unchanged", async () => {
    const body = concat(...messages, endStream("unavailable"));
    expect(await run(body, 3)).toEqual(body);
  });
});
